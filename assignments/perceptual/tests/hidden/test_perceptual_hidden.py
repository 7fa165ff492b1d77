"""Hidden tests of `losses.VGGFeatures` and `losses.perceptual_loss`: eval mode after
``.train()``, a frozen extractor that still passes gradients to its input, the normalisation
inside, other VGG-16 indices in any order (no download with an empty torch cache), and the loss against its definition (with a
stand-in extractor, so a VGGFeatures bug does not decide these) and its gradient."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from assignments.perceptual import childside
from grader.testing import assert_close, assert_equal, points

from ..public.test_perceptual import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    as_float,
    check_features,
    expected_features,
    feature_list,
    images,
)

STACK_SEED = 7


@points(2, part="perceptual")
def test_stays_in_eval_mode_after_train(student):
    """VGGFeatures(..., features=stack) after .train() (twice) computes as in eval mode: dropout off, batch norm with its running statistics, which do not move."""
    indices = (2, 3, 6, 10)
    extractor = student.losses.VGGFeatures(indices, weights=None, features=student.ship(childside).backbone(STACK_SEED))
    x = images(1, 4, 12)
    for k in range(2):
        extractor.train()
        check_features(student, extractor, STACK_SEED, x, indices, f"VGGFeatures({indices}, features=stack) after .train() (call {k + 1})")
    extractor.train(True)
    check_features(student, extractor, STACK_SEED, images(2, 3, 10), indices, f"VGGFeatures({indices}, features=stack) after .train(True)")


@points(2, part="perceptual")
def test_frozen_but_differentiable_in_its_input(student):
    """A model holding the extractor takes an SGD step over every parameter: the extractor computes as before (frozen), and the gradient reaches the input."""
    indices = (3, 7, 10)
    extractor = student.losses.VGGFeatures(indices, weights=None, features=student.ship(childside).backbone(STACK_SEED))
    x = images(3, 2, 12)
    grad = student.ship(childside).step_through(extractor, x, 0.5)
    stack = childside.backbone(STACK_SEED).eval()
    xr = x.clone().requires_grad_(True)
    z = (xr - IMAGENET_MEAN) / IMAGENET_STD
    sum(stack[: i + 1](z).square().sum() for i in indices).backward()
    assert_close(grad, xr.grad, rtol=1e-4, atol=1e-6, what="gradient of sum(feature²) with respect to the input")
    check_features(student, extractor, STACK_SEED, images(4, 2, 12), indices, "VGGFeatures after an SGD step over all its parameters")


@points(1, part="perceptual")
def test_normalisation_is_inside(student):
    """VGGFeatures normalises inside: images of the ImageNet mean colour and of mean ± std reach the first layer as 0 and ±1 per channel."""
    stack = student.ship(childside).backbone(STACK_SEED, 0.0)
    extractor = student.losses.VGGFeatures((0,), weights=None, features=stack)
    for offset in (0.0, 1.0, -1.0):
        x = (IMAGENET_MEAN + offset * IMAGENET_STD).expand(1, 3, 6, 6).contiguous()
        want = expected_features(childside.backbone(STACK_SEED, 0.0), x, (0,))[0]
        got = feature_list(extractor(x), "VGGFeatures((0,), features=stack)", 1)[0]
        assert_close(got, want, rtol=1e-4, atol=1e-5, what=f"first conv's output for an image of ImageNet mean + {offset:g}·std")


@points(1, part="perceptual")
def test_vgg16_indices_in_any_order_without_download(student):
    """VGGFeatures((29, 0, 23, 16)) with the default weights and an empty torch cache: no download, and maps in the order of the indices (relu5_3, conv1_1, pool4, pool3 of VGG-16)."""
    indices = (29, 0, 23, 16)
    helper = student.ship(childside)
    helper.empty_torch_home()
    extractor = student.harness.offline(student.losses.VGGFeatures, indices)
    got = feature_list(extractor(images(5, 1, 32)), f"VGGFeatures({indices})", len(indices))
    want = [(1, 512, 2, 2), (1, 64, 32, 32), (1, 512, 2, 2), (1, 256, 4, 4)]
    for i, g, w in zip(indices, got, want, strict=True):
        assert_equal(tuple(g.shape), w, what=f"shape of the feature map after layer {i} of VGG-16's features")
    assert float(got[1].min()) < 0, "the map after layer 0 (a convolution, before its ReLU) has no negative value"


def expected_loss(extractor: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The definition: the mean over the layers of the MSE between the feature maps."""
    fx, fy = extractor(x), extractor(y)
    return sum(F.mse_loss(a, b) for a, b in zip(fx, fy, strict=True)) / len(fx)


@points(2, part="perceptual")
@settings(max_examples=8)
@given(seed=st.integers(0, 1000), n=st.integers(1, 3), side=st.integers(4, 12))
def test_loss_matches_the_definition(student, seed, n, side):
    """perceptual_loss(x, y, extractor) with a stand-in extractor of three maps of different sizes: the mean over the maps of their MSEs."""
    x, y = images(seed, n, side), images(seed + 1, n, side)
    got = as_float(student.losses.perceptual_loss(x, y, student.ship(childside).StandinExtractor(seed)), "perceptual_loss")
    with torch.no_grad():
        want = float(expected_loss(childside.StandinExtractor(seed), x, y))
    assert_close(got, want, rtol=1e-5, atol=1e-9, what=f"perceptual_loss of two {n}×3×{side}×{side} batches")


@points(1, part="perceptual")
def test_loss_gradient_with_respect_to_x(student):
    """perceptual_loss(x, y, extractor) is a tensor differentiable in x, with the definition's gradient (it can train an image or a network)."""
    x, y = images(11, 2, 10), images(12, 2, 10)
    value, grad = student.harness.value_and_grad(student.losses.perceptual_loss, x, y, student.ship(childside).StandinExtractor(3))
    assert grad is not None, f"perceptual_loss returned {value!r}: not a scalar tensor with a gradient with respect to x"
    xr = x.clone().requires_grad_(True)
    expected_loss(childside.StandinExtractor(3), xr, y).backward()
    assert_close(grad, xr.grad, rtol=1e-4, atol=1e-8, what="gradient of perceptual_loss with respect to x")
