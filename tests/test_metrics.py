"""grader.checks.metrics against scikit-learn, and the training check's step of a non-finite loss."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.metrics import accuracy_score, recall_score, roc_auc_score

from grader.checks import metrics
from grader.checks.training import TrainingCheck, TrainingResult, TrainingRun, run_epochs


@st.composite
def labelled_logits(draw: Any, classes: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    k = classes if classes is not None else draw(st.integers(2, 5))
    n = draw(st.integers(2, 40))
    labels = draw(hnp.arrays(np.int64, n, elements=st.integers(0, k - 1)))
    logits = draw(hnp.arrays(np.float64, (n, k), elements=st.floats(-20, 20)))
    return labels, logits


@given(labelled_logits())
def test_accuracy_is_sklearns(case: tuple[np.ndarray, np.ndarray]) -> None:
    labels, logits = case
    assert metrics.accuracy(labels, logits) == pytest.approx(accuracy_score(labels, logits.argmax(axis=1)))


@given(labelled_logits())
def test_per_class_recall_is_sklearns_for_present_classes(case: tuple[np.ndarray, np.ndarray]) -> None:
    labels, logits = case
    got = metrics.per_class_recall(labels, logits)
    present = np.unique(labels)
    want = recall_score(labels, logits.argmax(axis=1), labels=present, average=None, zero_division=0)
    np.testing.assert_allclose(got[present], want)
    assert np.isnan(np.delete(got, present)).all()  # a class with no row has no recall
    assert metrics.min_class_recall(labels, logits) == pytest.approx(float(want.min()))
    assert metrics.recall_of(int(present[0]))(labels, logits) == pytest.approx(float(want[0]))


@given(labelled_logits(classes=2))
def test_binary_auroc_is_sklearns_on_the_softmax(case: tuple[np.ndarray, np.ndarray]) -> None:
    labels, logits = case
    got = metrics.binary_auroc(labels, logits)
    if len(np.unique(labels)) < 2:
        assert math.isnan(got)
    else:
        p = torch.softmax(torch.as_tensor(logits), dim=1)[:, 1].numpy()
        assert got == pytest.approx(roc_auc_score(labels, p))


def test_non_finite_logits_give_nan_never_a_pass() -> None:
    labels = np.array([0, 1, 1])
    logits = np.array([[0.0, 1.0], [np.nan, 0.0], [1.0, 0.0]])
    for metric in (metrics.accuracy, metrics.binary_auroc, metrics.min_class_recall):
        assert math.isnan(metric(labels, logits))


def test_cross_entropy_is_torchs() -> None:
    g = torch.Generator().manual_seed(0)
    logits, labels = torch.randn(7, 3, generator=g, dtype=torch.float64), torch.randint(0, 3, (7,), generator=g)
    want = float(torch.nn.functional.cross_entropy(logits, labels))
    assert metrics.cross_entropy(logits.numpy(), labels.numpy()) == pytest.approx(want)


# --------------------------------------------------------------------------- finite losses


class _Harness:
    def __init__(self, bad_epoch: int) -> None:
        self.epoch = 0
        self.bad_epoch = bad_epoch

    def synchronize(self) -> None:
        self.epoch += 1

    def predict(self, model: Any, x: torch.Tensor) -> np.ndarray:
        value = np.nan if self.epoch >= self.bad_epoch else 0.0
        return np.stack([x[:, 0].numpy(), np.full(len(x), value)], axis=1)


class _Sub:
    def __init__(self, bad_epoch: int) -> None:
        self.harness = _Harness(bad_epoch)
        self.sandbox = type("S", (), {"cpu_seconds": staticmethod(lambda: 0.0)})()

    def time_limit(self, seconds: float) -> Any:
        import contextlib

        return contextlib.nullcontext()


def test_a_loss_that_stops_being_finite_is_reported_with_its_epoch_and_step() -> None:
    x, y = torch.randn(10, 2), np.arange(10) % 2
    steps = iter([[0.7, 0.6], [0.5, float("nan"), float("nan")]])  # epoch 2 goes bad at step 2
    run = run_epochs(
        _Sub(bad_epoch=2), model=None, train_epoch=lambda *a: None, early_stopping=None, criterion=None,
        optimizer=None, patience=None, train_loader=None, x_val=x, y_val=y, max_epochs=5,
        step_losses=lambda: next(steps),
    )  # fmt: skip
    assert run.non_finite_at == 2 and run.non_finite_step == 2 and run.epochs == 2
    check = TrainingCheck(
        model=None, train_epoch=None, criterion=None, optimizer=None, data=None,  # type: ignore[arg-type]
        metrics={"auroc": metrics.binary_auroc},
    )  # fmt: skip
    result = TrainingResult(check, spec=None, config=None)
    result._student = run
    with pytest.raises(AssertionError, match="in epoch 2, first at training step 2"):
        result.assert_finite()
    result._student = TrainingRun(val_losses=[0.5])
    result.assert_finite()  # finite: passes
