"""Trusted loading of the landmarks data set for training checks (never runs in the child)."""

from __future__ import annotations

import csv
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


def standardized_tensors(
    data_dir: Path, task: str = "target"
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, np.ndarray]:
    """Train inputs and labels, validation inputs (N×C×H×W float32) and validation labels.

    Standardised with the training partition's per-channel statistics, computed here so that a
    standardisation bug costs points in its own part only.
    """
    x_tr, y_tr = load_partition(data_dir, task, "train")
    x_va, y_va = load_partition(data_dir, task, "val")
    mean = x_tr.astype(np.float64).mean(axis=(0, 1, 2))
    std = x_tr.astype(np.float64).std(axis=(0, 1, 2))

    def prep(x: np.ndarray) -> torch.Tensor:
        z = ((x.astype(np.float64) - mean) / std).astype(np.float32)
        return torch.from_numpy(np.ascontiguousarray(z.transpose(0, 3, 1, 2)))

    return prep(x_tr), torch.from_numpy(y_tr), prep(x_va), y_va
