"""Training helpers shared by ``train_cnn.py``, ``train_source.py`` and ``train_target.py``.

TODO: ``predictions``, ``early_stopping`` and ``train_epoch``. Provided: ``evaluate_epoch``,
``train_model``, checkpointing and ``count_parameters``.

``stats`` is a list with one entry per evaluated epoch:
``[val_acc, val_loss, val_auroc, train_acc, train_loss, train_auroc]`` followed by
``[test_acc, test_loss, test_auroc]`` when the test partition is included. So
``stats[-1][1]`` is the newest validation loss.
"""

from __future__ import annotations

import itertools
import math
import os
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from sklearn import metrics
from torch import nn


def count_parameters(model: nn.Module) -> int:
    """The number of learnable (``requires_grad``) parameters of `model`."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def model_device(model: nn.Module) -> torch.device:
    """The device of `model`'s parameters (CPU for a model without any)."""
    for p in itertools.chain(model.parameters(), model.buffers()):
        return p.device
    return torch.device("cpu")


def predictions(logits: torch.Tensor) -> torch.Tensor:
    """The predicted class of every row of `logits`.

    `logits` has shape N×K; return the N indices of the largest logit in each row (an
    integer tensor). Ties go to the lowest index.
    """
    # TODO: implement predictions
    raise NotImplementedError("predictions: TODO")


def early_stopping(
    stats: Sequence[Sequence[float]], curr_count_to_patience: int, global_min_loss: float
) -> tuple[int, float]:
    """Update the early-stopping counter after an epoch.

    ``stats[-1][1]`` is the newest validation loss. If it is strictly below
    `global_min_loss`, reset the count to 0 and take it as the new minimum; otherwise add
    one to the count. Return ``(curr_count_to_patience, global_min_loss)``.
    """
    # TODO: implement early_stopping
    raise NotImplementedError("early_stopping: TODO")


def train_epoch(
    data_loader: Iterable[tuple[torch.Tensor, torch.Tensor]],
    model: nn.Module,
    criterion: nn.Module,
    optimizer: torch.optim.Optimizer,
) -> None:
    """Train `model` for one pass over `data_loader`.

    Put the model in training mode; then, for every batch ``(X, y)`` (moved to the model's
    device): zero the gradients, run the forward pass, compute ``criterion(output, y)``,
    back-propagate, and take an optimizer step.
    """
    # TODO: implement train_epoch
    raise NotImplementedError("train_epoch: TODO")


def _outputs(
    model: nn.Module, loader: Iterable[tuple[torch.Tensor, torch.Tensor]]
) -> tuple[torch.Tensor, torch.Tensor]:
    device = model_device(model)
    logits, labels = [], []
    with torch.no_grad():
        for X, y in loader:
            logits.append(model(X.to(device)).float().cpu())
            labels.append(y.cpu())
    if not logits:
        return torch.zeros((0, 0)), torch.zeros((0,), dtype=torch.long)
    return torch.cat(logits), torch.cat(labels)


def auroc(labels: np.ndarray, probs: np.ndarray, multiclass: bool = False) -> float:
    """AUROC of class probabilities N×K (NaN where it is undefined, e.g. one class only)."""
    try:
        if multiclass:
            return float(
                metrics.roc_auc_score(labels, probs, multi_class="ovo", labels=range(probs.shape[1]))
            )
        return float(metrics.roc_auc_score(labels, probs[:, 1]))
    except ValueError:
        return math.nan


def _scores(
    model: nn.Module,
    loader: Iterable[tuple[torch.Tensor, torch.Tensor]],
    criterion: nn.Module,
    multiclass: bool,
) -> tuple[float, float, float]:
    logits, y = _outputs(model, loader)
    if len(y) == 0:
        return math.nan, math.nan, math.nan
    loss = float(criterion(logits, y).item())
    # argmax here rather than `predictions`, so that a bug there cannot break training
    acc = float((logits.argmax(dim=1) == y).float().mean().item())
    probs = torch.softmax(logits, dim=1).numpy()
    return acc, loss, auroc(y.numpy(), probs, multiclass)


def evaluate_epoch(
    axes: Any,
    tr_loader: Iterable[tuple[torch.Tensor, torch.Tensor]],
    val_loader: Iterable[tuple[torch.Tensor, torch.Tensor]],
    te_loader: Iterable[tuple[torch.Tensor, torch.Tensor]] | None,
    model: nn.Module,
    criterion: nn.Module,
    epoch: int,
    stats: list[list[float]],
    include_test: bool = False,
    update_plot: bool = True,
    multiclass: bool = False,
) -> None:
    """Evaluate `model` on train, val (and test) and append the epoch's entry to `stats`.

    The entry is ``[val_acc, val_loss, val_auroc, train_acc, train_loss, train_auroc]``
    (+ ``[test_acc, test_loss, test_auroc]`` with `include_test`). With `update_plot` and
    `axes` (from ``utils.make_training_plot``), the training curves are redrawn.
    """
    was_training = model.training
    model.eval()
    try:
        val = _scores(model, val_loader, criterion, multiclass)
        train = _scores(model, tr_loader, criterion, multiclass)
        entry = [*val, *train]
        if include_test and te_loader is not None:
            entry.extend(_scores(model, te_loader, criterion, multiclass))
    finally:
        model.train(was_training)
    stats.append(entry)
    log_training(epoch, stats)
    if update_plot and axes is not None:
        import utils

        utils.update_training_plot(axes, epoch, stats)


def log_training(epoch: int, stats: Sequence[Sequence[float]]) -> None:
    """Print the newest entry of `stats`."""
    names = ["Validation", "Train", "Test"]
    print(f"Epoch {epoch}")
    entry = stats[-1]
    for i in range(len(entry) // 3):
        acc, loss, auc = entry[3 * i : 3 * i + 3]
        print(f"\t{names[i]} Accuracy: {acc:.4f}  Loss: {loss:.4f}  AUROC: {auc:.4f}")


def checkpoint_path(checkpoint_dir: str | os.PathLike[str], epoch: int) -> Path:
    """Where the checkpoint of `epoch` lives."""
    return Path(checkpoint_dir) / f"epoch={epoch}.checkpoint.pth.tar"


def save_checkpoint(
    model: nn.Module, epoch: int, checkpoint_dir: str | os.PathLike[str], stats: list[list[float]]
) -> Path:
    """Save `model`'s weights, the epoch and `stats` to `checkpoint_dir`; return the file."""
    Path(checkpoint_dir).mkdir(parents=True, exist_ok=True)
    state = {
        "epoch": int(epoch),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "stats": [[float(v) for v in entry] for entry in stats],
    }
    path = checkpoint_path(checkpoint_dir, epoch)
    torch.save(state, path)
    return path


def saved_epochs(checkpoint_dir: str | os.PathLike[str]) -> list[int]:
    """The epochs that have a checkpoint in `checkpoint_dir`, ascending."""
    d = Path(checkpoint_dir)
    if not d.is_dir():
        return []
    epochs = []
    for f in d.glob("epoch=*.checkpoint.pth.tar"):
        try:
            epochs.append(int(f.name[len("epoch=") :].split(".")[0]))
        except ValueError:
            continue
    return sorted(epochs)


def restore_checkpoint(
    model: nn.Module,
    checkpoint_dir: str | os.PathLike[str],
    epoch: int | None = None,
    pretrain: bool = False,
) -> tuple[nn.Module, int, list[list[float]]]:
    """Load the checkpoint of `epoch` (default: the newest) from `checkpoint_dir` into `model`.

    Returns ``(model, next_epoch, stats)``; with no checkpoint, ``(model, 0, [])``. With
    `pretrain`, only the parameters whose names and shapes match `model` are loaded (used to
    start a Target from a Source: everything but the output layer) and the returned epoch
    and stats start afresh.
    """
    epochs = saved_epochs(checkpoint_dir)
    if not epochs:
        print(f"No saved model in {checkpoint_dir}; starting from scratch.")
        return model, 0, []
    if epoch is None:
        epoch = epochs[-1]
    if epoch not in epochs:
        raise FileNotFoundError(f"no checkpoint for epoch {epoch} in {checkpoint_dir}")
    state = torch.load(checkpoint_path(checkpoint_dir, epoch), map_location="cpu", weights_only=True)
    if pretrain:
        own = model.state_dict()
        shared = {
            k: v for k, v in state["state_dict"].items() if k in own and own[k].shape == v.shape
        }
        model.load_state_dict(shared, strict=False)
        print(f"Loaded {len(shared)} tensors from epoch {epoch} of {checkpoint_dir}.")
        return model, 0, []
    model.load_state_dict(state["state_dict"])
    print(f"Restored epoch {epoch} from {checkpoint_dir}.")
    return model, epoch + 1, [list(e) for e in state["stats"]]


def clear_checkpoint(checkpoint_dir: str | os.PathLike[str]) -> None:
    """Remove `checkpoint_dir` and everything in it."""
    shutil.rmtree(checkpoint_dir, ignore_errors=True)


def best_epoch(stats: Sequence[Sequence[float]]) -> int:
    """The epoch whose validation loss (``stats[e][1]``) is lowest (the first on ties)."""
    losses = [entry[1] for entry in stats]
    return int(np.nanargmin(np.asarray(losses, dtype=np.float64)))


def train_model(
    model: nn.Module,
    tr_loader: Iterable[tuple[torch.Tensor, torch.Tensor]],
    va_loader: Iterable[tuple[torch.Tensor, torch.Tensor]],
    te_loader: Iterable[tuple[torch.Tensor, torch.Tensor]] | None,
    criterion: nn.Module,
    optimizer: torch.optim.Optimizer,
    *,
    patience: int,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    max_epochs: int = 100,
    include_test: bool = False,
    multiclass: bool = False,
    axes: Any = None,
) -> list[list[float]]:
    """Train with early stopping; return ``stats`` (entry 0 is the untrained model).

    After every epoch: evaluate, save a checkpoint (when `checkpoint_dir` is given) and
    update the early-stopping counter; stop once it reaches `patience` or after
    `max_epochs` epochs.
    """
    stats: list[list[float]] = []
    evaluate_epoch(
        axes, tr_loader, va_loader, te_loader, model, criterion, 0, stats,
        include_test=include_test, multiclass=multiclass,
    )  # fmt: skip
    if checkpoint_dir is not None:
        save_checkpoint(model, 0, checkpoint_dir, stats)
    global_min_loss = stats[0][1]
    curr_count_to_patience = 0
    epoch = 0
    while curr_count_to_patience < patience and epoch < max_epochs:
        train_epoch(tr_loader, model, criterion, optimizer)
        epoch += 1
        evaluate_epoch(
            axes, tr_loader, va_loader, te_loader, model, criterion, epoch, stats,
            include_test=include_test, multiclass=multiclass,
        )  # fmt: skip
        if checkpoint_dir is not None:
            save_checkpoint(model, epoch, checkpoint_dir, stats)
        curr_count_to_patience, global_min_loss = early_stopping(
            stats, curr_count_to_patience, global_min_loss
        )
    print(f"Finished training after {epoch} epochs.")
    return stats
