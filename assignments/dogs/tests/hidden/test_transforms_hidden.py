"""Hidden tests of the image pipelines: the statistics they are given, `if_resize=False`,
non-square images, and dog/cat images smaller than 224."""

from hypothesis import example, given, settings
from hypothesis import strategies as st

from grader.testing import points

from ..public.test_statistics import picture
from ..public.test_transforms import SPREADS, STATS, check_breeds, check_dogcat


@points(2, part="transforms")
@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 10**6), mean=STATS, std=SPREADS)
def test_normalisation_uses_the_given_statistics(student, data_dir, seed, mean, std):
    """DogDataset(mean, std).get_transforms(): normalised with the statistics the dataset was given, channel by channel."""
    check_breeds(student, data_dir, picture(seed, 40, 40), mean, std)


@points(2, part="transforms")
@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 10**6), h=st.integers(8, 80), w=st.integers(8, 80), mean=STATS, std=SPREADS)
@example(seed=3, h=32, w=48, mean=(0.5, 0.5, 0.5), std=(0.2, 0.3, 0.4))
def test_without_resize_only_the_resize_is_dropped(student, data_dir, seed, h, w, mean, std):
    """DogDataset.get_transforms(if_resize=False): ToTensor and Normalize only; the image keeps its size."""
    check_breeds(student, data_dir, picture(seed, h, w), mean, std, resize=False)


@points(1, part="transforms")
@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 10**6), h=st.integers(16, 120), w=st.integers(16, 120))
@example(seed=4, h=20, w=100)
def test_breed_pipeline_for_narrow_images(student, data_dir, seed, h, w):
    """DogDataset.get_transforms(): a narrow or tall image is resized to exactly 32×32 (both sides)."""
    check_breeds(student, data_dir, picture(seed, h, w), (0.5, 0.5, 0.5), (0.25, 0.25, 0.25))


@points(1, part="transforms")
@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 10**6), h=st.integers(120, 400), w=st.integers(120, 400))
@example(seed=5, h=150, w=300)
def test_dogcat_pipeline_for_any_size(student, data_dir, seed, h, w):
    """DogCatDataset.get_transforms(): 3×224×224 for any image size, smaller than 224 or not square too."""
    check_dogcat(student, data_dir, picture(seed, h, w))
