"""Train the Source CNN on the 8-class source task (the course's ``train_source.py``).

TODO: ``make_criterion()``, ``make_optimizer(model)`` (with weight decay) and ``PATIENCE``.
``main()`` trains with early stopping and saves a checkpoint every epoch; ``train_target.py``
starts from the best one.
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
    """The optimizer for training `model`: Adam, learning rate 1e-3, weight_decay 0.01."""
    # TODO: implement make_optimizer
    raise NotImplementedError("make_optimizer: TODO")


def main() -> None:
    """Train a Source on the source task with early stopping; report the best epoch."""
    import utils
    from config import config
    from dataset import get_train_val_test_loaders
    from model.source import Source
    from train_common import best_epoch, clear_checkpoint, count_parameters, train_model

    torch.manual_seed(config("seed"))
    tr_loader, va_loader, te_loader, _ = get_train_val_test_loaders(
        task="source", batch_size=config("source.batch_size"), seed=config("seed")
    )
    model = Source()
    print(f"Number of float-valued parameters: {count_parameters(model)}")
    criterion = make_criterion()
    optimizer = make_optimizer(model)
    checkpoint_dir = config("source.checkpoint")
    clear_checkpoint(checkpoint_dir)
    axes = utils.make_training_plot("Source Training")
    stats = train_model(
        model, tr_loader, va_loader, te_loader, criterion, optimizer,
        patience=PATIENCE, checkpoint_dir=checkpoint_dir,
        max_epochs=config("source.max_epochs"), multiclass=True, axes=axes,
    )  # fmt: skip
    utils.save_training_plot(axes, config("source.plot"))
    utils.hold_training_plot(axes)
    best = best_epoch(stats)
    print(f"Best epoch {best}: val accuracy {stats[best][0]:.4f}, val loss {stats[best][1]:.4f}")


if __name__ == "__main__":
    main()
