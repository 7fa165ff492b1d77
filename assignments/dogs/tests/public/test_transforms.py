"""Public tests of the image pipelines: `DogDataset.get_transforms` and `DogCatDataset.get_transforms`.

The grader sends an image's pixels; the child turns them into a PIL image (as `ImageFolder`
would load it) and applies the submission's pipeline; the tensor comes back by value and is
compared with the handout's pipeline run here with torchvision.
"""

import numpy as np
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from assignments.dogs import childside
from assignments.dogs.images import breed_pipeline, dogcat_pipeline
from grader.testing import assert_close, assert_equal, points

from .test_statistics import picture

ATOL = 1e-4


def applied(student, pipeline, pixels: np.ndarray, what: str) -> torch.Tensor:
    """`pipeline(image)` in the child, for the PIL image of `pixels`; a float tensor back."""
    image = student.ship(childside).pil_image(pixels)
    out = pipeline(image)
    if not isinstance(out, torch.Tensor):
        raise AssertionError(f"{what} must give a tensor, got {type(out).__name__}")
    assert_equal(out.dtype, torch.float32, what=f"dtype of {what}")
    return out


def check_breeds(student, data_dir, pixels: np.ndarray, mean, std, *, resize: bool = True) -> None:
    """DogDataset(mean, std).get_transforms(resize) on `pixels` equals the handout's pipeline."""
    from PIL import Image

    ds = student.dataset.DogDataset(str(data_dir / "dogs"), list(mean), list(std))
    what = f"get_transforms(if_resize={resize})(image)"
    out = applied(student, ds.get_transforms(resize), pixels, what)
    want = breed_pipeline(mean, std, resize=resize)(Image.fromarray(pixels, mode="RGB"))
    assert_equal(tuple(out.shape), tuple(want.shape), what=f"shape of {what} for a {pixels.shape[1]}×{pixels.shape[0]} image")
    assert_close(out, want, atol=ATOL, what=f"{what} (mean {list(mean)}, std {list(std)})")


def check_dogcat(student, data_dir, pixels: np.ndarray) -> None:
    """DogCatDataset().get_transforms() on `pixels` equals the handout's pipeline."""
    from PIL import Image

    ds = student.dataset.DogCatDataset(str(data_dir / "dogcat"))
    what = "DogCatDataset.get_transforms()(image)"
    out = applied(student, ds.get_transforms(), pixels, what)
    assert_equal(tuple(out.shape), (3, 224, 224), what=f"shape of {what} for a {pixels.shape[1]}×{pixels.shape[0]} image")
    assert_close(out, dogcat_pipeline()(Image.fromarray(pixels, mode="RGB")), atol=ATOL, what=what)


STATS = st.tuples(st.floats(0.2, 0.8), st.floats(0.2, 0.8), st.floats(0.2, 0.8))
SPREADS = st.tuples(st.floats(0.05, 0.5), st.floats(0.05, 0.5), st.floats(0.05, 0.5))


@points(2, part="transforms")
@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 10**6), h=st.integers(16, 120), w=st.integers(16, 120), mean=STATS, std=SPREADS)
@example(seed=0, h=224, w=224, mean=(0.5, 0.4, 0.3), std=(0.25, 0.2, 0.15))
def test_breed_pipeline(student, data_dir, seed, h, w, mean, std):
    """DogDataset.get_transforms(): Resize((32, 32)), ToTensor, Normalize(mean, std): a 3×32×32 float tensor for any image."""
    check_breeds(student, data_dir, picture(seed, h, w), mean, std)


@points(2, part="transforms")
@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 10**6), h=st.integers(224, 300), w=st.integers(224, 300))
@example(seed=1, h=224, w=224)
def test_dogcat_pipeline(student, data_dir, seed, h, w):
    """DogCatDataset.get_transforms(): Resize((256, 256)), CenterCrop(224), ToTensor, ImageNet Normalize: 3×224×224."""
    check_dogcat(student, data_dir, picture(seed, h, w))
