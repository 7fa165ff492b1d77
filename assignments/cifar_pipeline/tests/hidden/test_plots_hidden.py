"""Hidden tests of the data plots (`data.plot_histogram`, `data.plot_class_samples`): PNG files
with one bar per class, and one image per class."""

import torch

from grader.testing import assert_close, assert_equal, points

from ..public.test_evaluate import probes_in
from ..public.test_plots import one_axes, saved_png

NAMES = ["plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


@points(1, part="plots")
def test_plot_histogram_draws_one_bar_per_class(student):
    """plot_histogram writes a PNG of one axes with one bar per class, each as tall as its count."""
    counts = [5, 0, 12, 7, 3, 9, 1, 4, 6, 2]
    what = "plot_histogram(counts, class_names, path)"
    _, figures = saved_png(student, student.data.plot_histogram, (counts, NAMES), what)
    ax = one_axes(figures, what)
    assert_equal(len(ax["bars"]), len(counts), what="number of bars")
    assert_close(ax["bars"], [float(c) for c in counts], what="heights of the bars, in class order")


@points(1, part="plots")
def test_plot_class_samples_shows_one_image_per_class(student):
    """plot_class_samples writes a PNG with one subplot per class, titled with its name; each class present shows one image."""
    g = torch.Generator().manual_seed(3)
    labels = torch.tensor([2, 0, 1, 2, 3, 0, 1, 3, 3, 2])
    images = torch.rand(len(labels), 3, 8, 8, generator=g)
    names = ["red", "green", "blue", "grey"]
    what = "plot_class_samples(dataset, path, class_names) with 4 classes"
    probes = probes_in(student)
    dataset = probes.dataset(images, labels)
    path = probes.temp_path("samples.png")
    figures = probes.recorded(student.data.plot_class_samples, dataset, path, names)
    data = probes.read_bytes(path)
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{what} wrote no PNG at the path given"
    axes = [ax for ax in figures[-1]["axes"] if ax["images"] or ax["title"]] if figures else []
    assert_equal(sorted(ax["title"] for ax in axes), sorted(names), what="titles of the subplots (one per class)")
    assert_equal([ax["images"] for ax in sorted(axes, key=lambda a: names.index(a["title"]))], [1, 1, 1, 1],
                 what="images shown per class subplot")
