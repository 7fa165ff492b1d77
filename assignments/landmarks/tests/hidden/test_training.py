"""The training check: the target task trained with the submission's own pieces.

The model, criterion, optimizer, patience, train_epoch and early_stopping are the
submission's; `grader.checks.training` does the rest (the device and its settings, the
reference trained the same way in the same run, held-out labels kept in this process, time
budgets, stand-ins). What is here is this assignment's choices.
"""

from assignments.landmarks.data import standardized
from grader.checks.metrics import binary_auroc
from grader.checks.training import Piece, TrainingCheck
from grader.testing import points

from . import standins

check = TrainingCheck(
    # A model whose own part lost points is replaced by a different small network, so the
    # training pieces below are still judged (and their bugs are not blamed on the model).
    model=Piece(
        "Target",
        lambda sub: sub.model.target.Target(),
        part="architecture",
        standin=lambda sub: sub.ship(standins).SmallNet(),
    ),
    train_epoch=Piece(
        "train_epoch",
        lambda sub: sub.train_common.train_epoch,
        part="train_epoch",
        standin=lambda sub: sub.ship(standins).train_epoch,
    ),
    early_stopping=Piece(
        "early_stopping",
        lambda sub: sub.train_common.early_stopping,
        part="early_stopping",
        standin=lambda sub: sub.ship(standins).early_stopping,
    ),
    criterion=lambda sub, model: sub.train_cnn.make_criterion(),
    optimizer=lambda sub, model: sub.train_cnn.make_optimizer(model),
    patience=lambda sub: sub.train_cnn.PATIENCE,
    # Standardised here with the training statistics: a standardisation bug costs points in
    # its own part only. The threshold is decided on the held-out partition.
    data=lambda data_dir, heldout_dir: standardized(data_dir, heldout_dir, task="target"),
    metrics={"val_auroc": binary_auroc},
)
training = check.fixture()


@points(6, part="training")
def test_target_reaches_val_auroc_threshold(training, timings):
    """The trained Target reaches the validation AUROC threshold."""
    training.assert_metric("val_auroc", timings)


@points(2, part="training")
def test_loss_stays_finite(training):
    """The validation loss stays finite during training."""
    training.assert_finite()


@points(2, part="training")
def test_early_stopping_halts(training):
    """Training stops once the validation loss has not improved for PATIENCE epochs."""
    training.assert_stopped_early()


@points(2, part="training")
def test_training_within_time_budget(training, timings):
    """Training time is within the budget: a ratio of the reference's time, and a cap."""
    training.assert_within_budget(timings)
