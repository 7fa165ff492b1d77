"""Saving and restoring training checkpoints (provided code).

A checkpoint is ``<dir>/epoch=<n>.checkpoint.pth.tar`` holding the model's and the
optimizer's ``state_dict`` and the statistics of every epoch so far. Checkpoints are read
with ``torch.load(..., weights_only=True)``: they hold tensors, numbers and lists only.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import torch
from torch import nn

_NAME = re.compile(r"^epoch=(\d+)\.checkpoint\.pth\.tar$")


def checkpoint_path(checkpoint_dir: str | os.PathLike[str], epoch: int) -> Path:
    """Where the checkpoint of `epoch` is kept."""
    return Path(checkpoint_dir) / f"epoch={epoch}.checkpoint.pth.tar"


def save_checkpoint(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    epoch: int,
    checkpoint_dir: str | os.PathLike[str],
    stats: list[list[float]],
) -> Path:
    """Save the state after `epoch` (atomically: a half-written file is never left behind)."""
    path = checkpoint_path(checkpoint_dir, epoch)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"epoch": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict(), "stats": stats}
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)
    return path


def latest_epoch(checkpoint_dir: str | os.PathLike[str]) -> int:
    """The highest epoch with a checkpoint in `checkpoint_dir` (0 when there is none)."""
    folder = Path(checkpoint_dir)
    if not folder.is_dir():
        return 0
    epochs = [int(m.group(1)) for p in folder.iterdir() if (m := _NAME.match(p.name))]
    return max(epochs, default=0)


def restore_checkpoint(
    model: nn.Module,
    optimizer: torch.optim.Optimizer | None,
    checkpoint_dir: str | os.PathLike[str],
    epoch: int | None = None,
) -> tuple[int, list[list[float]]]:
    """Load the checkpoint of `epoch` (default: the latest) into `model` (and `optimizer`).

    Returns ``(epoch, stats)``; ``(0, [])`` when there is nothing to resume from.
    """
    epoch = latest_epoch(checkpoint_dir) if epoch is None else epoch
    if epoch == 0:
        return 0, []
    state: dict[str, Any] = torch.load(checkpoint_path(checkpoint_dir, epoch), map_location="cpu", weights_only=True)
    model.load_state_dict(state["model"])
    if optimizer is not None:
        optimizer.load_state_dict(state["optimizer"])
    return int(state["epoch"]), [list(map(float, s)) for s in state["stats"]]


def clear_checkpoints(checkpoint_dir: str | os.PathLike[str]) -> None:
    """Remove every checkpoint of `checkpoint_dir` (to start training from scratch)."""
    folder = Path(checkpoint_dir)
    if folder.is_dir():
        for p in folder.iterdir():
            if _NAME.match(p.name):
                p.unlink()
