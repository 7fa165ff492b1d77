"""Hidden tests of `dataset.compute_train_statistics`: the data set itself, and large or
narrow images (a resize that keeps the aspect ratio, or no resize, shows there)."""

from hypothesis import given, settings

from assignments.dogs.data import train_statistics
from grader.testing import assert_close, points

from ..public.test_statistics import TOLERANCE, check_statistics, files_of, trees


@points(3, part="statistics")
def test_statistics_of_the_breeds_data_set(student, data_dir):
    """compute_train_statistics(data/dogs): the training statistics of the breeds data set."""
    want_mean, want_std = train_statistics(data_dir)
    mean, std = student.dataset.compute_train_statistics(str(data_dir / "dogs"))
    assert_close(list(mean), list(want_mean), atol=TOLERANCE, what="per-channel mean of data/dogs/train")
    assert_close(list(std), list(want_std), atol=TOLERANCE, what="per-channel std of data/dogs/train")


@points(2, part="statistics")
@settings(max_examples=5, deadline=None)
@given(tree=trees(min_side=20, max_side=300))
def test_statistics_for_images_of_any_shape(student, tree):
    """compute_train_statistics: images of any size and aspect ratio are resized to exactly 32×32 first."""
    check_statistics(student, files_of("train", tree))
