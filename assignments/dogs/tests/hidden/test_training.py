"""The training checks: Net on the breeds, and the weighted loss on the imbalanced cats and dogs.

The model, criterion, optimizer, learning rate and momentum are the submission's (stand-ins
replace those whose own part lost points); `grader.checks.training` does the rest (the device
and its settings, the reference trained the same way in the same run, held-out labels kept in
this process, time budgets). The imbalance check trains the grader's own small network twice
with the same seed and the submission's optimizer settings, once with plain cross-entropy and
once with the submission's weighted criterion, and compares the recall of dogs on held-out
images.
"""

import numpy as np

from assignments.dogs.data import breeds_training_data, dogcat_training_data
from grader.checks.metrics import accuracy, recall_of
from grader.checks.training import Piece, TrainingCheck
from grader.testing import points

from . import standins


def _grader_net(sub):
    return sub.ship(standins).SmallNet(2)


def _train_epoch(sub):
    return sub.train.train_epoch


# The submission's optimizer with its own learning rate and momentum (the choices this part
# judges); when make_optimizer lost points, textbook SGD with those same choices.
optimizer = Piece(
    "make_optimizer",
    lambda sub, model: sub.train.make_optimizer(model, *choices(sub)),
    part="train_metrics",
    standin=lambda sub, model: sub.ship(standins).sgd(model, *choices(sub)),
)


def choices(sub) -> tuple[float, float]:
    """The submission's LEARNING_RATE and MOMENTUM, which must be numbers."""
    lr, momentum = sub.train.LEARNING_RATE, sub.train.MOMENTUM
    for name, value in (("LEARNING_RATE", lr), ("MOMENTUM", momentum)):
        if value is None:
            raise AssertionError(f"TODO not done yet: train.{name} (it is None)")
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise AssertionError(f"train.{name} must be a number, got {type(value).__name__}")
    return float(lr), float(momentum)


breeds = TrainingCheck(
    model=Piece("Net", lambda sub: sub.model.Net(), part="architecture", standin=lambda sub: sub.ship(standins).SmallNet(5)),
    train_epoch=Piece("train_epoch", _train_epoch),
    criterion=Piece(
        "make_criterion",
        lambda sub, model: sub.train.make_criterion(),
        part="train_metrics",
        standin=lambda sub, model: sub.ship(standins).criterion(),
    ),
    optimizer=optimizer,
    # Resized and normalised here with the training statistics: a bug in the statistics or
    # the transforms costs points in its own part only. The threshold is decided on the
    # held-out partition.
    data=breeds_training_data,
    metrics={"val_accuracy": accuracy},
)
training = breeds.fixture()


def _imbalance(criterion: Piece) -> TrainingCheck:
    return TrainingCheck(
        model=Piece("the grader's network", _grader_net),
        train_epoch=Piece("train_epoch", _train_epoch),
        criterion=criterion,
        optimizer=optimizer,
        data=dogcat_training_data,
        metrics={"dog_recall": recall_of(1)},
        against_reference=False,  # the submission's two runs are compared with each other
    )


unweighted = _imbalance(Piece("cross-entropy", lambda sub, model: sub.ship(standins).criterion())).fixture(name="unweighted")
weighted = _imbalance(
    Piece(
        "make_weighted_criterion",
        lambda sub, model: sub.imbalance.make_weighted_criterion(),
        part="weighted_loss",
        standin=lambda sub, model: sub.ship(standins).weighted_criterion(),
    )
).fixture(name="weighted")


@points(6, part="training")
def test_net_reaches_val_accuracy_threshold(training, timings):
    """Net, trained with your criterion, optimizer, learning rate and momentum, reaches the validation accuracy threshold."""
    training.assert_metric("val_accuracy", timings)


@points(2, part="training")
def test_loss_stays_finite(training):
    """The validation loss stays finite during training."""
    training.assert_finite()


@points(3, part="training")
def test_training_within_time_budget(training, timings):
    """Training time per epoch is within the budget: a ratio of the reference's time, and a cap."""
    training.assert_within_budget(timings)


@points(4, part="training")
def test_weighted_loss_raises_dog_recall(weighted, unweighted):
    """On the imbalanced cats and dogs, training with your weighted criterion (and your optimizer settings) recalls more held-out dogs than plain cross-entropy (same network, seed and data)."""
    # Averaged over the epochs: with 10 training dogs, one epoch's recall is noisy.
    w = float(np.mean(weighted.student.val_metrics["dog_recall"]))
    u = float(np.mean(unweighted.student.val_metrics["dog_recall"]))
    assert w > u, (
        f"held-out dog recall, averaged over the epochs: {w:.3f} with your weighted criterion, "
        f"{u:.3f} with plain cross-entropy; the weights should make the rare dogs count more{weighted.note()}"
    )
