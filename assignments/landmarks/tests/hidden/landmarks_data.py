"""Trusted loading of the landmarks data set for training checks (never runs in the child)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image


def load_partition(data_dir: Path, task: str, partition: str) -> tuple[np.ndarray, np.ndarray]:
    """Images (N×H×W×3 uint8) and labels of one partition of one task."""
    with open(data_dir / "landmarks.csv", newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["task"] == task and r["partition"] == partition]
    images = []
    for r in rows:
        with Image.open(data_dir / "images" / r["filename"]) as im:
            images.append(np.asarray(im.convert("RGB"), dtype=np.uint8))
    return np.stack(images), np.array([int(r["numeric_label"]) for r in rows], dtype=np.int64)


@dataclass
class TrainingData:
    """The training check's data, standardised with the training partition's statistics."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_stop: torch.Tensor  # public validation partition: what the child's stopping rule sees
    y_stop: np.ndarray
    x_heldout: torch.Tensor  # held-out validation partition: decides the threshold
    y_heldout: np.ndarray


def standardized_tensors(data_dir: Path, heldout_dir: Path, task: str = "target") -> TrainingData:
    """Train, public-validation and held-out-validation inputs (N×C×H×W float32) and labels.

    Training: `data_dir`'s train partition (the public data set; the child gets it by value
    anyway). The early-stopping statistics come from `data_dir`'s val partition, whose labels
    the child could read anyway, so they tell it nothing new. The threshold is decided on
    `heldout_dir`'s val partition (the `heldout_dir` fixture: generated from the grading seed,
    so neither the files the child can read nor the public generator give its labels, and
    nothing computed from them is sent to the child). All are standardised with the training
    partition's per-channel statistics, computed here so that a standardisation bug costs
    points in its own part only.
    """
    x_tr, y_tr = load_partition(data_dir, task, "train")
    x_st, y_st = load_partition(data_dir, task, "val")
    x_va, y_va = load_partition(heldout_dir, task, "val")
    mean = x_tr.astype(np.float64).mean(axis=(0, 1, 2))
    std = x_tr.astype(np.float64).std(axis=(0, 1, 2))

    def prep(x: np.ndarray) -> torch.Tensor:
        z = ((x.astype(np.float64) - mean) / std).astype(np.float32)
        return torch.from_numpy(np.ascontiguousarray(z.transpose(0, 3, 1, 2)))

    return TrainingData(prep(x_tr), torch.from_numpy(y_tr), prep(x_st), y_st, prep(x_va), y_va)
