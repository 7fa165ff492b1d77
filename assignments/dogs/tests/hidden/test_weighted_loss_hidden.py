"""Hidden tests of `imbalance.make_weighted_criterion` on arbitrary batches.

The weighted definition Σ_i w_{y_i}·CE_i / Σ_i w_{y_i} with w = [1, 20] (cat 0, dog 1) is
written out here; the student's criterion is judged by its value and gradient on logits and
labels chosen here. A batch of one class only gives the plain mean (the weights cancel), so
it shows the normalisation; mixed batches show the weights and their order.
"""

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import example, given
from hypothesis import strategies as st

from grader.checks.losses import assert_loss_matches
from grader.checks.modules import report_hint
from grader.testing import points

WEIGHT = torch.tensor([1.0, 20.0])  # cat (0), dog (1)
WHAT = "imbalance.make_weighted_criterion() (expected cross-entropy with weight [1, 20])"


def weighted_cross_entropy(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Σ_i w_{y_i}·CE_i / Σ_i w_{y_i}, written out here."""
    ce = -(z - torch.logsumexp(z, dim=1, keepdim=True))[torch.arange(len(y)), y]
    w = WEIGHT[y]
    return (w * ce).sum() / w.sum()


@st.composite
def batches(draw, max_n: int = 24):
    """(logits N×2 float32, labels N) with mostly cats, as in the imbalanced data."""
    n = draw(st.integers(1, max_n))
    labels = draw(st.lists(st.sampled_from([0, 0, 0, 1]), min_size=n, max_size=n))
    values = draw(st.lists(st.floats(-6, 6, width=32), min_size=2 * n, max_size=2 * n))
    return np.array(values, dtype=np.float32).reshape(n, 2), np.array(labels, dtype=np.int64)


def _check(
    student, criterion, logits: torch.Tensor, labels: torch.Tensor, expected, note: str
) -> None:
    assert_loss_matches(
        student,
        criterion,
        expected,
        logits,
        labels,
        what=f"{WHAT} on {note}, labels {labels.tolist()}",
        hint=report_hint(
            lambda: student.harness.type_name(criterion), lambda t: f" (it reports itself as {t})"
        ),
    )


@points(2, part="weighted_loss")
@given(batch=batches())
@example(
    batch=(np.array([[2.0, -1.0], [0.5, 0.5], [-3.0, 1.0]], dtype=np.float32), np.array([1, 0, 0]))
)
@example(batch=(np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32), np.array([0, 1])))
def test_weighted_criterion_on_arbitrary_batches(student, batch):
    """make_weighted_criterion() on arbitrary batches of cats and dogs: Σ w_y·CE / Σ w_y with w = [1, 20] (value and gradient)."""
    logits, labels = batch
    criterion = student.imbalance.make_weighted_criterion()
    _check(
        student,
        criterion,
        torch.from_numpy(logits),
        torch.from_numpy(labels),
        weighted_cross_entropy,
        "a batch",
    )


@points(1, part="weighted_loss")
def test_weighted_criterion_on_one_class_batches(student):
    """make_weighted_criterion() on batches of only cats and of only dogs: the plain mean cross-entropy (the weights cancel)."""
    g = torch.Generator().manual_seed(6)
    criterion = student.imbalance.make_weighted_criterion()
    for name, label, n in (("only cats", 0, 7), ("only dogs", 1, 5), ("one dog", 1, 1)):
        logits = 3 * torch.randn(n, 2, generator=g)
        labels = torch.full((n,), label, dtype=torch.int64)
        _check(student, criterion, logits, labels, F.cross_entropy, f"a batch of {name}")
