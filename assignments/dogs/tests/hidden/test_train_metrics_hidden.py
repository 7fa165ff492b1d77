"""Hidden tests of `train.py`: predictions, accuracy, make_criterion and make_optimizer.

Arbitrary inputs (hypothesis) against definitions computed here: argmax with ties to the
lowest index, accuracy by counting, the (weighted) cross-entropy written out by hand, and SGD
steps of `torch.optim.SGD` with only lr and momentum set, on the same tensors.
"""

import numpy as np
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from assignments.dogs.labels import KINDS, as_kind
from grader.checks.losses import assert_loss_matches
from grader.checks.modules import definition_of, random_state, report_hint
from grader.checks.optim import assert_optimizer_steps
from grader.sandbox.child.harness import tiny_model
from grader.strategies import logits
from grader.testing import assert_close, assert_equal, points

from ..public.test_train_metrics import _optimizer_hint


@st.composite
def label_pairs(draw, max_n: int = 40, max_k: int = 6):
    """(y_true, y_pred, kind_true, kind_pred): two label lists of one length, and their types."""
    n, k = draw(st.integers(1, max_n)), draw(st.integers(2, max_k))
    labels = st.lists(st.integers(0, k - 1), min_size=n, max_size=n)
    return draw(labels), draw(labels), draw(st.sampled_from(KINDS)), draw(st.sampled_from(KINDS))


def weighted_cross_entropy(weight: torch.Tensor | None):
    """Σ_i w_{y_i}·CE_i / Σ_i w_{y_i} (the plain mean without a weight), written out here."""

    def loss(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        log_p = z - torch.logsumexp(z, dim=1, keepdim=True)
        ce = -log_p[torch.arange(len(y)), y]
        w = torch.ones(len(y)) if weight is None else weight[y]
        return (w * ce).sum() / w.sum()

    return loss


@points(1, part="train_metrics")
@given(x=logits(max_n=12, max_k=6, ties=True))
@example(x=np.array([[1, 1, 0], [0, 2, 2], [3, 0, 3], [-1, -1, -1]], dtype=np.float32))
# a square batch of equal rows: the argmax over the batch would differ
@example(x=np.array([[0, 1, 2, 3, 4]] * 5, dtype=np.float32))
def test_predictions_argmax_lowest_index_on_ties(student, x):
    """predictions: argmax over the classes (dim 1) on arbitrary logits, ties resolved to the lowest index."""
    got = np.asarray(student.train.predictions(torch.from_numpy(x)))
    assert_equal(
        got.shape, (x.shape[0],), what=f"shape of predictions for {x.shape[0]}×{x.shape[1]} logits"
    )
    assert got.dtype.kind in "iu", f"predictions should be integers, got dtype {got.dtype}"
    assert_equal(got.astype(np.int64), np.argmax(x, axis=1), what=f"predictions of\n{x}\n")


@points(1, part="train_metrics")
@given(pair=label_pairs())
@example(pair=([0, 1, 2], [0, 1, 2], "tensor", "list"))  # all right
@example(pair=([0, 1, 1], [1, 0, 0], "numpy", "tensor"))  # all wrong
def test_accuracy_matches_counting(student, pair):
    """accuracy: the fraction of equal positions, a float in [0, 1], on arbitrary label vectors of any mix of types."""
    y_true, y_pred, kind_true, kind_pred = pair
    want = sum(t == p for t, p in zip(y_true, y_pred, strict=True)) / len(y_true)
    got = student.train.accuracy(as_kind(y_true, kind_true), as_kind(y_pred, kind_pred))
    assert isinstance(got, (float, np.floating)), (
        f"accuracy should be a float, got {type(got).__name__} {got!r}"
    )
    assert_close(
        got,
        want,
        what=f"accuracy of y_true {y_true} ({kind_true}) and y_pred {y_pred} ({kind_pred})",
    )


@points(2, part="train_metrics")
def test_make_criterion_with_class_weights(student):
    """make_criterion(weight): the weighted cross-entropy Σ w_y·CE / Σ w_y (value and gradient); without weight, the mean."""
    g = torch.Generator().manual_seed(3)
    cases = [
        (None, torch.tensor([4, 0, 1, 1, 2, 3, 0, 4, 4, 2])),
        (torch.tensor([0.5, 1.0, 2.0, 4.0, 0.25]), torch.tensor([4, 0, 1, 1, 2, 3, 0, 4, 4, 2])),
        # classes 2 and 4 absent
        (torch.rand(5, generator=g) * 3 + 0.1, torch.tensor([0, 0, 0, 3, 3, 1])),
        (torch.tensor([1.0, 20.0]), torch.tensor([0, 0, 1, 0, 0, 0, 1, 0])),
        # one class only: the plain mean
        (torch.tensor([3.0, 0.5, 1.5]), torch.tensor([1, 1, 1, 1])),
    ]
    for weight, labels in cases:
        k = 5 if weight is None else len(weight)
        z = 3 * torch.randn(len(labels), k, generator=g)
        shown = "no weight" if weight is None else f"weight={[round(float(w), 3) for w in weight]}"
        criterion = (
            student.train.make_criterion()
            if weight is None
            else student.train.make_criterion(weight.clone())
        )
        assert_loss_matches(
            student,
            criterion,
            weighted_cross_entropy(weight),
            z,
            labels,
            what=f"train.make_criterion({shown}) on labels {labels.tolist()}",
            hint=report_hint(
                lambda c=criterion: student.harness.type_name(c),
                lambda t: f" (it reports itself as {t})",
            ),
        )


@points(2, part="train_metrics")
@settings(max_examples=12)
@given(
    lr=st.sampled_from([0.01, 0.1, 0.3]) | st.floats(0.01, 0.5),
    momentum=st.sampled_from([0.0, 0.5, 0.9, 0.99]) | st.floats(0.0, 0.99),
)
@example(lr=0.01, momentum=0.9)  # the handout's LEARNING_RATE and MOMENTUM
def test_make_optimizer_uses_lr_and_momentum_only(student, lr, momentum):
    """make_optimizer(model, lr, momentum): three steps move the parameters exactly as SGD with that lr and momentum (no weight decay, dampening or Nesterov)."""
    g = torch.Generator().manual_seed(4)
    model = student.harness.tiny_model(seed=1)
    local = tiny_model(seed=1)
    optimizer = student.train.make_optimizer(model, lr, momentum)
    shapes = {k: tuple(v.shape) for k, v in local.state_dict().items()}
    assert_optimizer_steps(
        student,
        optimizer,
        model,
        definition_of(local),
        lambda ps: torch.optim.SGD(ps, lr=lr, momentum=momentum),
        start=random_state(shapes, generator=g),
        grads=[
            random_state(shapes, generator=g, scale=1e-3),
            random_state(shapes, generator=g),
            random_state(shapes, generator=g, scale=0.1),
        ],  # fmt: skip
        probes=[torch.randn(4, 3, 8, 8, generator=g)],
        what=f"train.make_optimizer(model, {lr:g}, {momentum:g}) (expected SGD with only lr and momentum set)",
        hint=report_hint(lambda: student.harness.optimizer_settings(optimizer), _optimizer_hint),
        rtol=1e-6,  # both sides run the same float32 operations: a weight decay of 1e-4 shows
        atol=1e-7,
    )
