"""Public tests of `train_common.train_epoch` on a small model and loader built by the grader."""

import torch
import torch.nn.functional as F

from grader.testing import assert_equal, points


def _loss(student, model, loader) -> float:
    """Cross-entropy of `model` over every batch of `loader`, computed here from its logits."""
    xs, ys = zip(*list(loader), strict=True)
    x, y = torch.cat(xs), torch.cat(ys)
    return float(F.cross_entropy(student.harness.predict(model, x), y))


@points(3, part="train_epoch")
def test_one_epoch_updates_parameters_and_lowers_loss(student):
    """train_epoch: one pass changes every parameter and lowers the training loss of a small model."""
    h = student.harness
    model = h.tiny_model(seed=0)
    loader = h.tiny_loader(n=32, batch_size=8, seed=0)
    before_params = h.parameters(model)
    before = _loss(student, model, loader)
    student.train_common.train_epoch(
        loader, model, h.make_criterion(), h.make_optimizer(model, "sgd", lr=0.1)
    )
    after_params = h.parameters(model)
    for name, value in before_params.items():
        assert not torch.equal(after_params[name], value), (
            f"parameter {name} did not change during the epoch"
        )
    after = _loss(student, model, loader)
    assert after < before, (
        f"the training loss went from {before:.4f} to {after:.4f}; one epoch of SGD should lower it"
    )


@points(1, part="train_epoch")
def test_train_epoch_sets_training_mode(student):
    """train_epoch: the model is put in training mode (model.train()) for the epoch."""
    h = student.harness
    model = h.tiny_model(seed=1)
    model.eval()
    student.train_common.train_epoch(
        h.tiny_loader(n=16, batch_size=8), model, h.make_criterion(), h.make_optimizer(model)
    )
    assert_equal(
        model.training, True, what="model.training after train_epoch (a model passed in eval mode)"
    )
