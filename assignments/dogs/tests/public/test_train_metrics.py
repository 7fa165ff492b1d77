"""Public tests of `train.py`: predictions, accuracy, make_criterion and make_optimizer.

Expected values are computed here: argmax by hand, accuracy by counting, cross-entropy with
`torch.nn.functional`, and SGD steps with `torch.optim.SGD` on the same tensors. The
optimizer is judged by the parameters it produces, not by what it reports.
"""

import numpy as np
import torch
import torch.nn.functional as F

from grader.checks.losses import assert_loss_matches
from grader.checks.modules import definition_of, random_state, report_hint
from grader.checks.optim import assert_optimizer_steps
from grader.sandbox.child.harness import tiny_model
from grader.testing import assert_close, assert_equal, points


def _optimizer_hint(report: dict) -> str:
    """What the optimizer says about itself, for a failure message only."""
    group = (report.get("groups") or [{}])[0]
    keys = ("lr", "momentum", "dampening", "weight_decay", "nesterov")
    settings = ", ".join(f"{k}={group[k]!r}" for k in keys if k in group)
    return f" (your optimizer reports itself as {report.get('type')} with {settings})"


@points(1, part="train_metrics")
def test_predictions_worked_example(student):
    """predictions: the index of the largest logit of each row (N×K → N ints); a tie goes to the lowest index."""
    x = torch.tensor(
        [
            [1.0, 3.0, 2.0, 0.0, -1.0],
            [5.0, 5.0, 0.0, 1.0, 5.0],
            [0.0, -1.0, -2.0, -3.0, -4.0],
            [-4.0, 2.0, 2.0, 1.0, 0.0],
        ]
    )
    got = np.asarray(student.train.predictions(x))
    assert_equal(got.shape, (4,), what="shape of predictions for 4×5 logits")
    assert got.dtype.kind in "iu", f"predictions should be integers, got dtype {got.dtype}"
    assert_equal(got.tolist(), [1, 0, 0, 1], what="predictions of a 4×5 batch")


@points(1, part="train_metrics")
def test_accuracy_worked_example(student):
    """accuracy: the fraction of positions where y_pred equals y_true, a float, for lists, numpy arrays and tensors."""
    y_true = [0, 1, 2, 3, 4, 0, 1, 2]
    y_pred = [0, 1, 2, 0, 0, 0, 3, 2]  # 5 of 8 right
    for kind, t, p in (
        ("lists", y_true, y_pred),
        ("numpy arrays", np.array(y_true), np.array(y_pred)),
        ("tensors", torch.tensor(y_true), torch.tensor(y_pred)),
    ):
        got = student.train.accuracy(t, p)
        assert isinstance(got, (float, np.floating)), (
            f"accuracy of two {kind} should be a float, got {type(got).__name__} {got!r}"
        )
        assert_close(got, 5 / 8, what=f"accuracy of two {kind} with 5 of 8 equal")
    assert_close(student.train.accuracy([3], [3]), 1.0, what="accuracy([3], [3])")
    assert_close(student.train.accuracy([1, 2], [2, 1]), 0.0, what="accuracy([1, 2], [2, 1])")


@points(1, part="train_metrics")
def test_make_criterion_is_cross_entropy(student):
    """make_criterion(): the mean cross-entropy of the logits (its value and its gradient)."""
    g = torch.Generator().manual_seed(1)
    logits, labels = 3 * torch.randn(8, 5, generator=g), torch.tensor([0, 1, 2, 3, 4, 4, 2, 0])
    criterion = student.train.make_criterion()
    assert_loss_matches(
        student,
        criterion,
        F.cross_entropy,
        logits,
        labels,
        what="train.make_criterion() (expected cross-entropy)",
        hint=report_hint(
            lambda: student.harness.type_name(criterion), lambda t: f" (it reports itself as {t})"
        ),
    )


@points(1, part="train_metrics")
def test_make_optimizer_is_sgd_with_momentum(student):
    """make_optimizer(model, 0.05, 0.9): three steps move the parameters as SGD with lr 0.05 and momentum 0.9 does."""
    g = torch.Generator().manual_seed(2)
    model = student.harness.tiny_model()  # built in the child; this process builds its twin
    local = tiny_model()
    optimizer = student.train.make_optimizer(model, 0.05, 0.9)
    shapes = {k: tuple(v.shape) for k, v in local.state_dict().items()}
    assert_optimizer_steps(
        student,
        optimizer,
        model,
        definition_of(local),
        lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9),
        start=random_state(shapes, generator=g),
        # small gradients first (a weight decay would show), then ordinary ones (momentum,
        # dampening and Nesterov show from the second step on)
        grads=[
            random_state(shapes, generator=g, scale=1e-3),
            random_state(shapes, generator=g),
            random_state(shapes, generator=g),
        ],  # fmt: skip
        probes=[torch.randn(4, 3, 8, 8, generator=g)],
        what="train.make_optimizer(model, 0.05, 0.9) (expected SGD, lr 0.05, momentum 0.9, nothing else)",
        hint=report_hint(lambda: student.harness.optimizer_settings(optimizer), _optimizer_hint),
    )
