"""Public tests of `losses.VGGFeatures` and `losses.perceptual_loss`.

No weights are downloaded: VGG-16 is built with ``weights=None``. Values are checked against
definitions computed here, with small feature stacks given as ``features=`` (built in the child
and, from the same code and seed, here: `assignments.perceptual.childside.backbone`); the
real VGG-16 is used for shapes and for the loss's properties on a photograph and its
one-pixel translation.
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from assignments.perceptual import childside
from grader.testing import assert_close, assert_equal, points

from .test_pixel_losses import as_float, photo_crop, shifted

IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
BACKBONE_LAYERS = 11  # childside.backbone has layers 0..10


def expected_features(stack: torch.nn.Sequential, x: torch.Tensor, indices) -> list[torch.Tensor]:
    """The definition: normalise with the ImageNet statistics, then the output of
    ``stack[: i + 1]`` for each i, with the stack in eval mode."""
    stack.eval()
    z = (x - IMAGENET_MEAN) / IMAGENET_STD
    with torch.no_grad():
        return [stack[: i + 1](z) for i in indices]


def feature_list(out, what: str, n: int) -> list:
    """The extractor's output as a list of `n` tensors, with a plain message otherwise."""
    if not isinstance(out, (list, tuple)) or not all(isinstance(t, torch.Tensor) for t in out):
        raise AssertionError(f"{what} must return a list of tensors, got {type(out).__name__}")
    assert_equal(len(out), n, what=f"number of feature maps returned by {what}")
    return list(out)


def check_features(student, extractor, stack_seed: int, x: torch.Tensor, indices, what: str) -> None:
    """extractor(x) equals the definition with the twin of childside.backbone(stack_seed)."""
    got = feature_list(extractor(x), what, len(indices))
    want = expected_features(childside.backbone(stack_seed), x, indices)
    for i, g, w in zip(indices, got, want, strict=True):
        assert_equal(tuple(g.shape), tuple(w.shape), what=f"shape of the feature map after layer {i} of {what}")
        assert_close(g, w, rtol=1e-4, atol=1e-5, what=f"feature map after layer {i} of {what}")


def images(seed: int, n: int, side: int) -> torch.Tensor:
    """n×3×side×side images in [0, 1]."""
    return torch.rand(n, 3, side, side, generator=torch.Generator().manual_seed(seed))


def photo_tensor(**crop) -> torch.Tensor:
    """A photograph crop as a 1×3×H×W float tensor in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(photo_crop(**crop).transpose(2, 0, 1))).float().div(255).unsqueeze(0)


@points(2, part="perceptual")
def test_vgg16_layers_and_shapes(student):
    """VGGFeatures((1, 4, 8, 16, 22), weights=None) on 32×32 images: one map per index, VGG-16's channels and sizes (a pooling index halves the side)."""
    indices = (1, 4, 8, 16, 22)
    extractor = student.losses.VGGFeatures(indices, weights=None)
    got = feature_list(extractor(images(0, 2, 32)), f"VGGFeatures({indices})", len(indices))
    want = [(2, 64, 32, 32), (2, 64, 16, 16), (2, 128, 16, 16), (2, 256, 4, 4), (2, 512, 4, 4)]
    for i, g, w in zip(indices, got, want, strict=True):
        assert_equal(tuple(g.shape), w, what=f"shape of the feature map after layer {i} of VGG-16's features")
        assert float(g.min()) >= 0.0, f"the map after layer {i} (a ReLU or a pooling of ReLUs) has negative values"


@points(2, part="perceptual")
@settings(max_examples=8)
@given(
    indices=st.lists(st.integers(0, BACKBONE_LAYERS - 1), min_size=1, max_size=4, unique=True),
    side=st.integers(8, 16),
    seed=st.integers(0, 1000),
)
def test_features_match_the_definition(student, indices, side, seed):
    """VGGFeatures(indices, features=stack): the ImageNet-normalised input through stack[: i + 1] for each index, in the order given, in eval mode."""
    stack = student.ship(childside).backbone(seed)
    extractor = student.losses.VGGFeatures(indices, weights=None, features=stack)
    check_features(student, extractor, seed, images(seed, 2, side), indices, f"VGGFeatures({indices}, features=stack)")


@points(2, part="perceptual")
def test_loss_of_a_photo_and_its_translation(student):
    """perceptual_loss with VGGFeatures((3, 8), weights=None) on a photo: 0 against itself, symmetric, positive against its one-pixel translation."""
    extractor = student.losses.VGGFeatures((3, 8), weights=None)
    x = photo_tensor(side=40)
    y = torch.from_numpy(shifted(x.numpy(), 1, 0, 2, 3))
    loss = student.losses.perceptual_loss
    same = as_float(loss(x, x.clone(), extractor), "perceptual_loss")
    xy, yx = as_float(loss(x, y, extractor), "perceptual_loss"), as_float(loss(y, x, extractor), "perceptual_loss")
    assert abs(same) <= 1e-12, f"perceptual_loss(x, x) is {same}, expected 0"
    assert xy > 0, f"perceptual_loss(photo, photo moved one pixel) is {xy}, expected > 0"
    assert_close(xy, yx, rtol=1e-5, what="perceptual_loss(x, y) against perceptual_loss(y, x)")
