"""Imbalanced data: per-class accuracy, precision, recall, F1 and a weighted loss (TODO).

The positive class is *dog* = 1 (cat = 0), as ``ImageFolder`` numbers the sorted folders.
Conventions: a zero denominator gives 0.0 for precision, recall and F1 (never an error), and
``per_class_accuracy`` gives NaN for a class with no example.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

DOG_WEIGHT = 20.0
CAT_WEIGHT = 1.0


def _labels(y: Any) -> np.ndarray:
    return np.asarray(torch.as_tensor(y).cpu(), dtype=np.int64).reshape(-1)


def per_class_accuracy(y_true: Any, y_pred: Any, num_classes: int) -> list[float]:
    """For each class k in 0..num_classes-1: the fraction of the examples of class k that are
    predicted k; NaN for a class with no example."""
    # BEGIN SOLUTION
    t, p = _labels(y_true), _labels(y_pred)
    out = []
    for k in range(num_classes):
        mask = t == k
        out.append(float(np.mean(p[mask] == k)) if mask.any() else math.nan)
    return out
    # END SOLUTION


def precision(y_true: Any, y_pred: Any) -> float:
    """TP / (TP + FP) for the positive class 1; 0.0 when nothing is predicted positive."""
    # BEGIN SOLUTION
    t, p = _labels(y_true), _labels(y_pred)
    tp = int(np.sum((p == 1) & (t == 1)))
    predicted = int(np.sum(p == 1))
    return tp / predicted if predicted else 0.0
    # END SOLUTION


def recall(y_true: Any, y_pred: Any) -> float:
    """TP / (TP + FN) for the positive class 1; 0.0 when there is no positive example."""
    # BEGIN SOLUTION
    t, p = _labels(y_true), _labels(y_pred)
    tp = int(np.sum((p == 1) & (t == 1)))
    positives = int(np.sum(t == 1))
    return tp / positives if positives else 0.0
    # END SOLUTION


def f1_score(y_true: Any, y_pred: Any) -> float:
    """2·P·R / (P + R) with P = precision and R = recall; 0.0 when P + R = 0."""
    # BEGIN SOLUTION
    p, r = precision(y_true, y_pred), recall(y_true, y_pred)
    return 2 * p * r / (p + r) if p + r > 0 else 0.0
    # END SOLUTION


def make_weighted_criterion() -> nn.Module:
    """Cross-entropy that weighs the dog class (1) by ``DOG_WEIGHT`` and cat (0) by ``CAT_WEIGHT``."""
    # BEGIN SOLUTION
    return nn.CrossEntropyLoss(weight=torch.tensor([CAT_WEIGHT, DOG_WEIGHT]))
    # END SOLUTION


def report(y_true: Any, y_pred: Any) -> str:
    """The metrics of one run, one line."""
    cat, dog = per_class_accuracy(y_true, y_pred, 2)
    return (
        f"cat acc {cat:.3f}, dog acc {dog:.3f}, precision {precision(y_true, y_pred):.3f}, "
        f"recall {recall(y_true, y_pred):.3f}, F1 {f1_score(y_true, y_pred):.3f}"
    )


def main() -> None:
    """Fine-tune ResNet-18's last layer on cats vs dogs with and without the weighted loss."""
    from dataset import DogCatDataset
    from train import LEARNING_RATE, MOMENTUM, make_criterion, predictions, train
    from transfer import EPOCHS, load_pretrained, local_weights, trainable_parameters

    train_loader, val_loader = DogCatDataset().get_loaders(32, seed=0)
    for name, criterion in (("unweighted", make_criterion()), ("weighted", make_weighted_criterion())):
        torch.manual_seed(0)
        model = load_pretrained(2, local_weights())
        optimizer = torch.optim.SGD(trainable_parameters(model), lr=LEARNING_RATE, momentum=MOMENTUM)
        train(model, train_loader, val_loader, criterion, optimizer, max_epochs=EPOCHS,
              checkpoint_dir=f"checkpoints/{name}")  # fmt: skip
        model.eval()
        with torch.no_grad():
            pairs = [(y, predictions(model(X))) for X, y in val_loader]
        y_true = torch.cat([t for t, _ in pairs])
        y_pred = torch.cat([p for _, p in pairs])
        print(f"{name:>10}: {report(y_true, y_pred)}")


if __name__ == "__main__":
    main()
