"""Training the breed classifier: metrics, loss and optimizer (TODO), and the provided loop.

``train()`` runs epochs of ``train_epoch``, evaluates on train and val after each, saves a
checkpoint every epoch and resumes from the latest one when started again. ``main()`` trains
``model.Net`` on the breeds with ``LEARNING_RATE`` and ``MOMENTUM`` and writes
``dogs_training.png``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import numpy as np
import torch
from torch import nn

LEARNING_RATE = 0.01  # SOLUTION
MOMENTUM = 0.9  # SOLUTION
BATCH_SIZE = 32
MAX_EPOCHS = int(os.environ.get("DOGS_EPOCHS", "20"))  # DOGS_EPOCHS: a shorter run
CHECKPOINT_DIR = "checkpoints/net"


def predictions(logits: torch.Tensor) -> torch.Tensor:
    """The predicted class of each row of the N×K `logits`: the index of its largest value
    (ties: the lowest index), as a tensor of N ints."""
    # BEGIN SOLUTION
    return torch.argmax(torch.as_tensor(logits), dim=1)
    # END SOLUTION


def accuracy(y_true: Any, y_pred: Any) -> float:
    """The fraction of positions where `y_pred` equals `y_true` (a float in [0, 1]).

    Both are sequences of N ≥ 1 class indices (lists, numpy arrays or tensors).
    """
    # BEGIN SOLUTION
    y_true = np.asarray(torch.as_tensor(y_true).cpu())
    y_pred = np.asarray(torch.as_tensor(y_pred).cpu())
    return float(np.mean(y_true == y_pred))
    # END SOLUTION


def make_criterion(weight: torch.Tensor | None = None) -> nn.Module:
    """Cross-entropy over logits; `weight` (one float per class), when given, weighs each class."""
    # BEGIN SOLUTION
    return nn.CrossEntropyLoss(weight=weight)
    # END SOLUTION


def make_optimizer(model: nn.Module, lr: float, momentum: float) -> torch.optim.Optimizer:
    """SGD over `model`'s parameters with learning rate `lr` and `momentum`, nothing else set."""
    # BEGIN SOLUTION
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    # END SOLUTION


# ---------------------------------------------------------------------------- provided code


def train_epoch(loader: Iterable, model: nn.Module, criterion: nn.Module, optimizer: torch.optim.Optimizer) -> None:
    """One pass over `loader`: zero_grad, forward, loss, backward, step for every batch."""
    model.train()
    for X, y in loader:
        optimizer.zero_grad()
        loss = criterion(model(X), y)
        loss.backward()
        optimizer.step()


@torch.no_grad()
def evaluate(loader: Iterable, model: nn.Module, criterion: nn.Module) -> tuple[float, float]:
    """``(accuracy, mean loss)`` of `model` over `loader`."""
    model.eval()
    trues, preds, losses, n = [], [], 0.0, 0
    for X, y in loader:
        logits = model(X)
        losses += float(criterion(logits, y)) * len(y)
        n += len(y)
        trues.append(y)
        preds.append(predictions(logits))
    return accuracy(torch.cat(trues), torch.cat(preds)), losses / max(n, 1)


def train(
    model: nn.Module,
    train_loader: Iterable,
    val_loader: Iterable,
    criterion: nn.Module,
    optimizer: torch.optim.Optimizer,
    *,
    max_epochs: int = MAX_EPOCHS,
    checkpoint_dir: str | os.PathLike[str] = CHECKPOINT_DIR,
) -> list[list[float]]:
    """Train up to `max_epochs`, resuming from the latest checkpoint in `checkpoint_dir`.

    Returns one row per epoch: ``[train_acc, train_loss, val_acc, val_loss]``.
    """
    from checkpoint import restore_checkpoint, save_checkpoint

    start, stats = restore_checkpoint(model, optimizer, checkpoint_dir)
    if start:
        print(f"resuming after epoch {start}")
    for epoch in range(start + 1, max_epochs + 1):
        train_epoch(train_loader, model, criterion, optimizer)
        row = [*evaluate(train_loader, model, criterion), *evaluate(val_loader, model, criterion)]
        stats.append(row)
        save_checkpoint(model, optimizer, epoch, checkpoint_dir, stats)
        print(f"epoch {epoch:3d}: train acc {row[0]:.3f} loss {row[1]:.3f} | val acc {row[2]:.3f} loss {row[3]:.3f}")
    return stats


def main() -> None:
    """Train ``Net`` on the breeds and save the training plot."""
    from dataset import DogDataset
    from model import Net, count_parameters
    from plot import save_training_plot

    torch.manual_seed(0)
    train_loader, val_loader = DogDataset().get_loaders(BATCH_SIZE, seed=0)
    model = Net()
    print(f"Net: {count_parameters(model)} learnable parameters")
    stats = train(model, train_loader, val_loader, make_criterion(), make_optimizer(model, LEARNING_RATE, MOMENTUM))
    save_training_plot(stats, "dogs_training.png", title="Net on the breeds")
    print(f"final val accuracy {stats[-1][2]:.3f}; plot saved to dogs_training.png")


if __name__ == "__main__":
    main()
