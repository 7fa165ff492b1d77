"""The training checks: MyNet and MyNetRegularized trained on a small synthetic CIFAR-10 set.

The training epoch and the optimizer (Adam) are the grader's (`standins.py`): this part judges
your networks, not your loop. `grader.checks.training` does the rest (device and settings, the
reference MyNet trained the same way in the same run, held-out labels kept in this process,
time budgets). The accuracy threshold is decided after the last epoch. The training set is small (`PER_CLASS` images per class) so that MyNet
overfits within the budget: the regularised network must narrow the gap between validation and
training loss, on the same data, epochs, optimizer and seed. A network whose part (`model`)
lost points is replaced by a stand-in (both networks, by the grader's pair), so its bug is paid
once.
"""

import numpy as np
import torch

from assignments.cifar_pipeline.data import split_metric, training_data
from grader.checks.metrics import accuracy, cross_entropy
from grader.checks.training import Piece, TrainingCheck
from grader.testing import points

from . import standins

PER_CLASS = 15
N_TRAIN = 10 * PER_CLASS
LAST_EPOCHS = 5  # the gap is averaged over the run's last epochs


def _loss(labels, logits) -> float:
    return cross_entropy(logits, labels)


METRICS = {
    "val_accuracy": split_metric(accuracy, N_TRAIN, on_train=False, label="accuracy"),
    "train_accuracy": split_metric(accuracy, N_TRAIN, on_train=True, label="training accuracy"),
    "train_loss": split_metric(_loss, N_TRAIN, on_train=True, label="training loss"),
    "heldout_loss": split_metric(_loss, N_TRAIN, on_train=False, label="validation loss"),
}


def _standin(name: str, regularized: bool):
    """The stand-in for a network that runs but lost points in `model`.

    One that does not run (a TODO, or a forward pass that fails or gives no N×10 logits) is
    not replaced: the networks are the only pieces of the submission these checks train.
    """

    def get(sub):
        logits = sub.harness.forward(getattr(sub.model, name)(), torch.zeros(2, 3, 32, 32))
        if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != (2, 10):
            raise AssertionError(f"{name} does not give 2×10 logits for 2 images: there is no network of yours to train")
        return sub.ship(standins).SmallNet(regularized)

    return get


def _check(name: str, regularized: bool, *, against_reference: bool) -> TrainingCheck:
    return TrainingCheck(
        model=Piece(name, lambda sub: getattr(sub.model, name)(), part="model", standin=_standin(name, regularized)),
        train_epoch=Piece("the grader's training epoch", lambda sub: sub.ship(standins).train_epoch),
        criterion=lambda sub, model: sub.harness.make_criterion(),
        optimizer=lambda sub, model: sub.ship(standins).adam(model),
        data=lambda data_dir, heldout_dir: training_data(data_dir, heldout_dir, per_class=PER_CLASS),
        metrics=METRICS,
        against_reference=against_reference,
    )


training = _check("MyNet", False, against_reference=True).fixture()
# Compared with the MyNet run above (same data, epochs, optimizer, seed), not with a reference.
regularized = _check("MyNetRegularized", True, against_reference=False).fixture(name="regularized")


def gap(run) -> float:
    """Validation loss minus training loss, averaged over the run's last epochs."""
    val = np.asarray(run.val_metrics["heldout_loss"][-LAST_EPOCHS:], dtype=float)
    train = np.asarray(run.val_metrics["train_loss"][-LAST_EPOCHS:], dtype=float)
    return float(np.mean(val - train))


@points(7, part="training")
def test_mynet_reaches_val_accuracy_threshold(training, timings):
    """Your MyNet, trained by the grader's loop with Adam, reaches the validation accuracy threshold after the last epoch."""
    # The last epoch, not the epoch of the lowest validation loss (the kit's `assert_metric`):
    # on this small set MyNet overfits, and its validation loss may be lowest before it learnt.
    run, ref = training.student, training.reference
    if ref is not None:
        timings["student_train_s"] = round(run.wall_seconds, 3)
        timings["reference_train_s"] = round(ref.wall_seconds, 3)
    threshold = training.threshold("val_accuracy")
    got = last(run, "val_accuracy")
    ref_text = f" (the reference reached {last(ref, 'val_accuracy'):.3f})" if ref is not None else ""
    assert np.isfinite(got) and got >= threshold, (
        f"validation accuracy {got:.3f} after {run.epochs} epochs is below the threshold {threshold:g}{ref_text}{training.note()}"
    )


def last(run, name: str) -> float:
    """The metric `name` after the run's last epoch (NaN when there is none)."""
    values = run.val_metrics.get(name, [])
    return float(values[-1]) if values else float("nan")


@points(2, part="training")
def test_loss_stays_finite(training):
    """MyNet's validation loss stays finite during training."""
    training.assert_finite()


@points(2, part="training")
def test_training_within_time_budget(training, timings):
    """MyNet's training time per epoch is within the budget: a ratio of the reference's time, and a cap."""
    training.assert_within_budget(timings)


@points(4, part="training")
def test_regularization_narrows_the_gap(training, regularized):
    """On the same small training set, epochs and optimizer, MyNetRegularized's validation loss exceeds its training loss by less than MyNet's (averaged over the last epochs)."""
    plain, reg = training.student, regularized.student
    regularized.assert_finite()
    g_plain, g_reg = gap(plain), gap(reg)
    assert np.isfinite(g_reg) and g_reg < g_plain, (
        f"validation minus training loss over the last {LAST_EPOCHS} epochs: {g_reg:.3f} for MyNetRegularized, "
        f"{g_plain:.3f} for MyNet (training accuracy {plain.val_metrics['train_accuracy'][-1]:.2f} vs "
        f"{reg.val_metrics['train_accuracy'][-1]:.2f}, validation accuracy {plain.val_metrics['val_accuracy'][-1]:.2f} vs "
        f"{reg.val_metrics['val_accuracy'][-1]:.2f}); dropout and batch norm should narrow the gap{regularized.note()}"
    )
