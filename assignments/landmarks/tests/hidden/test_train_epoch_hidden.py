"""Hidden tests of `train_common.train_epoch`: one epoch against the reference loop.

Model, loader, optimizer and criterion are built by the harness in both children, so that only
the loop itself is compared (an architecture bug does not cost points here).
"""

from hypothesis import example, given, settings
from hypothesis import strategies as st

from assignments.landmarks import nets
from grader.testing import assert_close, points


def _run(sub, *, seed, batch_size, optimizer, lr, criterion, num_classes=2, **kw):
    h = sub.harness
    model = h.tiny_model(in_shape=(3, 8, 8), num_classes=num_classes, seed=seed)
    loader = h.tiny_loader(
        n=40, seed=seed, num_classes=num_classes, batch_size=batch_size, shuffle=True
    )
    opt = h.make_optimizer(model, optimizer, lr=lr, **kw)
    crit = h.make_criterion() if criterion is None else getattr(sub.ship(nets), criterion)()
    sub.train_common.train_epoch(loader, model, crit, opt)
    return h.parameters(model)


def _compare(student, reference, **kw):
    got = _run(student, **kw)
    expected = _run(reference, **kw)
    for name, value in expected.items():
        assert name in got, f"parameter {name} is missing"
        assert_close(got[name], value, rtol=1e-4, atol=1e-6, what=f"{name} after one epoch ({kw})")


@points(3, part="train_epoch")
@settings(max_examples=6)
@given(seed=st.integers(0, 10_000), batch_size=st.sampled_from([4, 8, 16]))
@example(seed=0, batch_size=8)
def test_sgd_epoch_matches_reference(student, reference, seed, batch_size):
    """train_epoch: zero_grad, forward, loss, backward, step per batch — SGD with momentum gives the reference's parameters."""
    _compare(
        student,
        reference,
        seed=seed,
        batch_size=batch_size,
        optimizer="sgd",
        lr=0.05,
        criterion=None,
        momentum=0.9,
    )


@points(3, part="train_epoch")
@settings(max_examples=4)
@given(seed=st.integers(0, 10_000), batch_size=st.sampled_from([5, 8]))
@example(seed=1, batch_size=8)
def test_adam_epoch_with_given_criterion_matches_reference(student, reference, seed, batch_size):
    """train_epoch: uses the criterion and optimizer it is given — Adam and a weighted loss give the reference's parameters."""
    _compare(
        student,
        reference,
        seed=seed,
        batch_size=batch_size,
        optimizer="adam",
        lr=0.01,
        criterion="weighted_criterion",  # the loop must use the criterion it is given
        num_classes=3,
    )
