"""Metrics a training check computes in the trusted process from labels and logits.

A metric is any callable `metric(labels, logits) -> float` (labels: N integers; logits: N×C
numbers returned by value from the child); higher is better. A NaN means "undefined here"
(a class missing, non-finite logits) and never passes a threshold.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Metric = Callable[[np.ndarray, np.ndarray], float]


def _checked(labels: np.ndarray, logits: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    labels = np.asarray(labels).astype(np.int64).ravel()
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim != 2 or len(logits) != len(labels) or not np.isfinite(logits).all():
        return None
    return labels, logits


def accuracy(labels: np.ndarray, logits: np.ndarray) -> float:
    """The fraction of rows whose largest logit is at the label."""
    checked = _checked(labels, logits)
    if checked is None or not len(checked[0]):
        return float("nan")
    labels, logits = checked
    return float((logits.argmax(axis=1) == labels).mean())


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax in float64."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def binary_auroc(labels: np.ndarray, logits: np.ndarray) -> float:
    """AUROC of the positive class (column 1 of N×2 logits), computed with scikit-learn."""
    from sklearn.metrics import roc_auc_score

    checked = _checked(labels, logits)
    if checked is None or checked[1].shape[1] != 2 or len(np.unique(checked[0])) < 2:
        return float("nan")
    labels, logits = checked
    return float(roc_auc_score(labels, softmax(logits)[:, 1]))


def per_class_recall(labels: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """The recall of each class (NaN for a class with no row)."""
    checked = _checked(labels, logits)
    if checked is None:
        return np.full(np.asarray(logits).shape[-1] if np.ndim(logits) == 2 else 0, np.nan)
    labels, logits = checked
    predicted = logits.argmax(axis=1)
    out = np.full(logits.shape[1], np.nan)
    for c in range(logits.shape[1]):
        rows = labels == c
        if rows.any():
            out[c] = float((predicted[rows] == c).mean())
    return out


def recall_of(cls: int) -> Metric:
    """A metric: the recall of class `cls`."""

    def recall(labels: np.ndarray, logits: np.ndarray) -> float:
        values = per_class_recall(labels, logits)
        return float(values[cls]) if 0 <= cls < len(values) else float("nan")

    recall.__name__ = f"recall_of_{cls}"
    recall.label = f"recall of class {cls}"  # type: ignore[attr-defined]
    return recall


def min_class_recall(labels: np.ndarray, logits: np.ndarray) -> float:
    """The lowest recall over the classes present (every class must be learnt)."""
    values = per_class_recall(labels, logits)
    values = values[~np.isnan(values)]
    return float(values.min()) if len(values) else float("nan")


# How messages name the metrics ("validation AUROC 0.61 ..."); a custom metric may set `label`.
accuracy.label = "accuracy"  # type: ignore[attr-defined]
binary_auroc.label = "AUROC"  # type: ignore[attr-defined]
min_class_recall.label = "lowest per-class recall"  # type: ignore[attr-defined]


def label_of(metric: Metric, name: str) -> str:
    """How messages call `metric` (its `label`, else the name it was given)."""
    return str(getattr(metric, "label", name))


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean cross-entropy of logits against integer labels, in float64 (a loss: lower is better)."""
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels).astype(np.int64).ravel()
    shifted = z - z.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(y)), y].mean())
