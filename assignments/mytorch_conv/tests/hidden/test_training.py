"""The training check: the submission's LeNetStyle trained on the synthetic CIFAR-10 with the
provided loop and optimizer (`train.train_epoch`, `train.make_optimizer`) and cross-entropy;
`grader.checks.training` does the rest (device and settings, the reference trained the same
way in the same run, held-out labels kept in this process, time budgets). A LeNetStyle whose
part lost points is replaced by a stand-in network, so its bug is paid once."""

import torch

from assignments.mytorch_conv.data import training_data
from grader.checks.metrics import accuracy
from grader.checks.training import Piece, TrainingCheck
from grader.testing import points

from . import standins


def _standin(sub):
    """The stand-in network, for a LeNetStyle that runs but lost points in its own part.

    A LeNetStyle that does not run (a TODO, or a forward pass that fails or gives no N×10
    logits) is not replaced: the model is the only piece of the submission this check trains,
    and a stand-in for a model that is not there would earn the training points for nothing.
    """
    logits = sub.harness.forward(sub.models.LeNetStyle(), torch.zeros(2, 3, 32, 32))
    if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != (2, 10):
        raise AssertionError("LeNetStyle does not give 2×10 logits for 2 images: there is no model of yours to train")
    return sub.ship(standins).SmallNet()


check = TrainingCheck(
    model=Piece("LeNetStyle", lambda sub: sub.models.LeNetStyle(), part="architectures", standin=_standin),
    train_epoch=Piece("train_epoch", lambda sub: sub.train.train_epoch),
    criterion=lambda sub, model: sub.harness.make_criterion(),
    optimizer=lambda sub, model: sub.train.make_optimizer(model),
    # Normalised here with the training statistics; the threshold is decided on the held-out set.
    data=training_data,
    metrics={"val_accuracy": accuracy},
)
training = check.fixture()


@points(8, part="training")
def test_lenet_reaches_val_accuracy_threshold(training, timings):
    """Your LeNetStyle, trained with the provided loop, reaches the validation accuracy threshold."""
    training.assert_metric("val_accuracy", timings)


@points(2, part="training")
def test_loss_stays_finite(training):
    """The validation loss stays finite during training."""
    training.assert_finite()


@points(5, part="training")
def test_training_within_time_budget(training, timings):
    """Training time per epoch is within the budget: a ratio of the reference's time, and a cap."""
    training.assert_within_budget(timings)
