"""The training loop: evaluation, training with train/validation curves, checkpoints, plots.

Every function takes the model, optimizer, loss function and loaders it works with; nothing
here builds them. Batches are moved to the device of the model's parameters.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torch import nn

HISTORY_KEYS = ("steps", "train_loss", "train_acc", "val_loss", "val_acc")


def _device(model: nn.Module) -> torch.device:
    return next((p.device for p in model.parameters()), torch.device("cpu"))


def evaluate(model: nn.Module, loader: Iterable, loss_fn: Any) -> tuple[float, float]:
    """`(mean_loss, accuracy)` of `model` over every batch of `loader`.

    - Runs in eval mode and without gradient tracking (`torch.no_grad()`); the model's mode
      (train or eval) is restored afterwards, whatever it was.
    - `mean_loss` is the mean of the per-sample losses over the whole loader: each batch's
      `loss_fn(logits, y)` (a mean over the batch) weighted by the batch's size, divided by
      the number of samples. A last, smaller batch counts for its size only.
    - `accuracy` is the fraction of samples whose largest logit is at the label.
    Both are Python floats.
    """
    # BEGIN SOLUTION
    was_training = model.training
    model.eval()
    device = _device(model)
    total_loss, correct, count = 0.0, 0, 0
    try:
        with torch.no_grad():
            for x, y in loader:
                x, y = x.to(device), y.to(device)
                logits = model(x)
                total_loss += float(loss_fn(logits, y)) * len(y)
                correct += int((logits.argmax(dim=1) == y).sum())
                count += len(y)
    finally:
        model.train(was_training)
    return total_loss / count, correct / count
    # END SOLUTION


def train(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    loss_fn: Any,
    train_loader: Iterable,
    val_loader: Iterable,
    num_epochs: int,
    eval_every: int,
) -> dict[str, list[float]]:
    """Train `model` for `num_epochs` passes over `train_loader`; return the history.

    One step per batch, in train mode: `optimizer.zero_grad()`, forward, `loss_fn`,
    backward, `optimizer.step()`. Steps are counted from 1 over all epochs.

    The history is a dict of equal-length lists, keys `steps`, `train_loss`, `train_acc`,
    `val_loss`, `val_acc`: one entry at step 0, measured before any update, then one after
    every step whose number is a multiple of `eval_every`. An entry holds the step number
    and `evaluate(model, train_loader, loss_fn)` and `evaluate(model, val_loader, loss_fn)`
    at that moment.
    """
    # BEGIN SOLUTION
    history: dict[str, list[float]] = {key: [] for key in HISTORY_KEYS}
    device = _device(model)

    def record(step: int) -> None:
        train_loss, train_acc = evaluate(model, train_loader, loss_fn)
        val_loss, val_acc = evaluate(model, val_loader, loss_fn)
        for key, value in zip(HISTORY_KEYS, (step, train_loss, train_acc, val_loss, val_acc), strict=True):
            history[key].append(value)

    record(0)
    step = 0
    for _ in range(num_epochs):
        model.train()
        for x, y in train_loader:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            loss_fn(model(x), y).backward()
            optimizer.step()
            step += 1
            if step % eval_every == 0:
                record(step)
    return history
    # END SOLUTION


def save_checkpoint(model: nn.Module, optimizer: torch.optim.Optimizer, path: str | os.PathLike[str]) -> None:
    """Save `{"model_state": model.state_dict(), "optimizer": optimizer.state_dict()}` to `path`
    with `torch.save` (tensors, numbers and lists only, so it loads with `weights_only=True`)."""
    # BEGIN SOLUTION
    torch.save({"model_state": model.state_dict(), "optimizer": optimizer.state_dict()}, path)
    # END SOLUTION


def load_checkpoint(path: str | os.PathLike[str], model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
    """Restore `model` and `optimizer` from a checkpoint written by `save_checkpoint`.

    Reads it with `torch.load(path, map_location="cpu", weights_only=True)` (a file that holds
    anything but tensors and plain containers is refused, never unpickled), then loads
    `model_state` into the model and `optimizer` into the optimizer (its moments and step
    counts too, e.g. Adam's), so that training resumes exactly where it stopped.
    """
    # BEGIN SOLUTION
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(checkpoint["model_state"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    # END SOLUTION


def plot_results(
    steps: Sequence[float],
    train_values: Sequence[float],
    val_values: Sequence[float],
    ylabel: str,
    title: str,
    path: str | os.PathLike[str],
) -> None:
    """Save a PNG line plot to `path`: one axes with two lines, `train_values` and
    `val_values` against `steps` (labelled "train" and "validation", with a legend), x label
    "step", y label `ylabel`, title `title`. The figure is closed afterwards."""
    # BEGIN SOLUTION
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(steps, train_values, label="train")
    ax.plot(steps, val_values, label="validation")
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    fig.savefig(path, format="png", dpi=80)
    plt.close(fig)
    # END SOLUTION
