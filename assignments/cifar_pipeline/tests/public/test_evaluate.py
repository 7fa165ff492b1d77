"""Public tests of `train.evaluate`: the mean loss and accuracy in eval mode without gradients,
the model's mode restored.

The model is the grader's `ModeProbe` (`pipeline_probes.py`): its logits carry one offset in
train mode and another with gradient tracking on, so the loss and the accuracy you return are
those of eval mode without gradients only if that is how your code ran it. The expected values
come from its twin, built here.
"""

import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.testing import assert_close, assert_equal, points

from . import pipeline_probes


def probes_in(student):
    """The grader's networks and probes, loaded in the child."""
    return student.ship(pipeline_probes)


def labelled(seed: int, n: int, shape: tuple[int, ...], num_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Seeded random inputs and labels."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn((n, *shape), generator=g), torch.randint(0, num_classes, (n,), generator=g)


def expected_evaluation(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """The definition, computed here: eval mode, no gradients, the mean loss over all samples."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        logits = model(x)
    model.train(was_training)
    return float(F.cross_entropy(logits, y)), float((logits.argmax(dim=1) == y).double().mean())


def assert_evaluation(got, want: tuple[float, float], what: str) -> None:
    """`got` is a pair (mean_loss, accuracy) equal to `want`."""
    assert isinstance(got, tuple | list) and len(got) == 2, f"{what} returned {got!r}, expected (mean_loss, accuracy)"
    assert_close(float(got[0]), want[0], rtol=1e-5, atol=1e-6, what=f"mean_loss of {what}")
    assert_close(float(got[1]), want[1], rtol=1e-9, atol=1e-9, what=f"accuracy of {what}")


def check_mode_probe(student, seed: int, n: int, batch_size: int, num_classes: int, train_mode: bool) -> None:
    """evaluate on a ModeProbe: the values of eval mode without gradients, and the mode restored."""
    x, y = labelled(seed, n, (5,), num_classes)
    probes = probes_in(student)
    model = probes.set_mode(probes.ModeProbe(5, num_classes, seed), train_mode)
    local = pipeline_probes.ModeProbe(5, num_classes, seed).train(train_mode)
    what = f"evaluate(model, loader, cross-entropy) on {n} samples in batches of {batch_size}"
    got = student.train.evaluate(model, probes.loader(x, y, batch_size), student.harness.make_criterion())
    assert_evaluation(got, expected_evaluation(local, x, y), what)
    mode = "train" if train_mode else "eval"
    with torch.enable_grad():
        want = local(x).detach()
    assert_close(probes.outputs_as_is(model, x), want, rtol=1e-5, atol=1e-6,
                 what=f"the model's outputs after evaluate (it was in {mode} mode before, and must be again)")
    assert_equal(model.training, train_mode, what=f"model.training after evaluate (it was in {mode} mode before)")


@points(4, part="evaluate")
@settings(max_examples=15)
@given(seed=st.integers(0, 2**16), n=st.integers(1, 23), batch_size=st.integers(1, 8), num_classes=st.integers(2, 5))
def test_evaluate_matches_eval_mode_without_gradients(student, seed, n, batch_size, num_classes):
    """evaluate: the mean of the per-sample losses and the accuracy over the whole loader, in eval mode without gradient tracking (a last, smaller batch counts for its size)."""
    x, y = labelled(seed, n, (5,), num_classes)
    probes = probes_in(student)
    model = probes.ModeProbe(5, num_classes, seed)
    local = pipeline_probes.ModeProbe(5, num_classes, seed)
    got = student.train.evaluate(model, probes.loader(x, y, batch_size), student.harness.make_criterion())
    assert_evaluation(got, expected_evaluation(local, x, y),
                      f"evaluate(model, loader, cross-entropy) on {n} samples in batches of {batch_size}")


@points(2, part="evaluate")
def test_evaluate_restores_train_mode(student):
    """evaluate leaves a model that was in train mode in train mode."""
    check_mode_probe(student, seed=3, n=10, batch_size=4, num_classes=3, train_mode=True)


@points(1, part="evaluate")
def test_evaluate_leaves_eval_mode_as_it_was(student):
    """evaluate leaves a model that was in eval mode in eval mode."""
    check_mode_probe(student, seed=4, n=9, batch_size=3, num_classes=4, train_mode=False)
