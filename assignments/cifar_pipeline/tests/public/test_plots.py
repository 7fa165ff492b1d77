"""Public tests of `train.plot_results`: a PNG file with one axes and the two curves.

The file must be a PNG (read back here and decoded). What it shows is read from the figure as
your code saved it (the grader wraps matplotlib's `Figure.savefig` in the child while your
function runs): the axes, the data of their lines, labels and legend.
"""

import io

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from grader.testing import assert_close, assert_equal, points

from .test_evaluate import probes_in


def saved_png(student, fn, args: tuple, what: str) -> tuple[Image.Image, list]:
    """Call fn(*args, path) with a fresh path; return (the PNG read back here, the figures' summaries)."""
    probes = probes_in(student)
    path = probes.temp_path("plot.png")
    figures = probes.recorded(fn, *args, path)
    data = probes.read_bytes(path)
    assert data, f"{what} wrote no file at the path given"
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{what} wrote a file that is not a PNG"
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.size[0] >= 100 and image.size[1] >= 100, f"{what} wrote a PNG of {image.size} pixels"
    assert len(figures) >= 1, f"{what} saved no matplotlib figure"
    return image, figures


def one_axes(figures, what: str) -> dict:
    """The only axes of the last figure saved."""
    axes = figures[-1]["axes"]
    assert_equal(len(axes), 1, what=f"number of axes in the figure of {what}")
    return axes[0]


def curves(seed: int, n: int) -> tuple[list[int], list[float], list[float]]:
    """Seeded steps and two curves."""
    rng = np.random.default_rng(seed)
    steps = sorted(rng.choice(np.arange(0, 10 * n + 1), size=n, replace=False).tolist())
    return [int(s) for s in steps], rng.random(n).round(4).tolist(), rng.random(n).round(4).tolist()


@points(2, part="plots")
@settings(max_examples=5)
@given(seed=st.integers(0, 2**16), n=st.integers(2, 12))
def test_plot_results_draws_train_and_validation_curves(student, seed, n):
    """plot_results writes a PNG with one axes holding two lines: train_values and val_values against steps."""
    steps, train_values, val_values = curves(seed, n)
    what = f"plot_results with {n} points"
    _, figures = saved_png(student, student.train.plot_results, (steps, train_values, val_values, "loss", "Loss"), what)
    ax = one_axes(figures, what)
    assert_equal(len(ax["lines"]), 2, what=f"number of lines in the axes of {what}")
    for (xs, ys), want, name in zip(ax["lines"], (train_values, val_values), ("first (train)", "second (validation)"), strict=True):
        assert_close(xs, steps, what=f"x data of the {name} line")
        assert_close(ys, want, what=f"y data of the {name} line")


@points(1, part="plots")
def test_plot_results_labels_the_plot(student):
    """plot_results sets the y label and the title it is given, and a legend with two entries."""
    steps, train_values, val_values = curves(1, 5)
    what = "plot_results(..., ylabel='accuracy', title='Accuracy of MyNet')"
    _, figures = saved_png(student, student.train.plot_results,
                           (steps, train_values, val_values, "accuracy", "Accuracy of MyNet"), what)
    ax = one_axes(figures, what)
    assert_equal(ax["ylabel"], "accuracy", what="the y label")
    assert_equal(ax["title"], "Accuracy of MyNet", what="the title")
    assert_equal(len(ax["legend"]), 2, what="number of legend entries")
