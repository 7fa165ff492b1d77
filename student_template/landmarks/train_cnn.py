"""Train the Target CNN on the target task (the course's ``train_cnn.py``).

The choices the course leaves as TODO are exposed so they can be checked without training:
``make_criterion()``, ``make_optimizer(model)`` and ``PATIENCE``. ``main()`` trains with early
stopping, saves a checkpoint every epoch and writes the training plot.
"""

from __future__ import annotations

import torch
from torch import nn

PATIENCE = None  # TODO


def make_criterion() -> nn.Module:
    """The loss for training: cross-entropy over the logits."""
    # TODO: implement make_criterion
    raise NotImplementedError("make_criterion: TODO")


def make_optimizer(model: nn.Module) -> torch.optim.Optimizer:
    """The optimizer for training `model`: Adam with learning rate 1e-3."""
    # TODO: implement make_optimizer
    raise NotImplementedError("make_optimizer: TODO")


def main() -> None:
    """Train a Target on the target task with early stopping; report val/test scores."""
    import utils
    from config import config
    from dataset import get_train_val_test_loaders
    from model.target import Target
    from train_common import best_epoch, clear_checkpoint, count_parameters, train_model

    torch.manual_seed(config("seed"))
    tr_loader, va_loader, te_loader, _ = get_train_val_test_loaders(
        task="target", batch_size=config("target.batch_size"), seed=config("seed")
    )
    model = Target()
    print(f"Number of float-valued parameters: {count_parameters(model)}")
    criterion = make_criterion()
    optimizer = make_optimizer(model)
    checkpoint_dir = config("target.checkpoint")
    clear_checkpoint(checkpoint_dir)
    axes = utils.make_training_plot("Target Training")
    stats = train_model(
        model, tr_loader, va_loader, te_loader, criterion, optimizer,
        patience=PATIENCE, checkpoint_dir=checkpoint_dir,
        max_epochs=config("target.max_epochs"), include_test=True, axes=axes,
    )  # fmt: skip
    utils.save_training_plot(axes, config("target.plot"))
    utils.hold_training_plot(axes)
    best = best_epoch(stats)
    print(f"Best epoch {best}: val AUROC {stats[best][2]:.4f}, test AUROC {stats[best][8]:.4f}")


if __name__ == "__main__":
    main()
