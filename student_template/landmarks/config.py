"""Settings for the landmarks project (provided code).

``config("target.batch_size")`` looks a dotted name up in ``CONFIG``. The data folder is read
from the environment variable ``LANDMARKS_DATA`` (default ``data/``) each time it is asked
for, so it can be changed without re-importing this module.
"""

from __future__ import annotations

import os
from typing import Any

CONFIG: dict[str, Any] = {
    "image_dim": 64,
    "csv_file": "landmarks.csv",
    "image_dir": "images",
    "augmented_csv_file": "augmented_landmarks.csv",
    "augmented_image_dir": "augmented",
    "seed": 445,
    "num_workers": 0,
    "target": {
        "batch_size": 32,
        "max_epochs": 100,
        "checkpoint": "checkpoints/target/",
        "plot": "cnn_training_plot.png",
    },
    "source": {
        "batch_size": 64,
        "max_epochs": 100,
        "checkpoint": "checkpoints/source/",
        "plot": "source_training_plot.png",
    },
    "transfer": {
        "batch_size": 32,
        "max_epochs": 100,
        "checkpoint": "checkpoints/target{num_layers}/",
        "plot": "target_training_plot_frozen_layers={num_layers}.png",
    },
    "gradcam": {"layer": "conv3", "out": "gradcam.png"},
}


def data_dir() -> str:
    """The folder with ``landmarks.csv`` and ``images/`` ($LANDMARKS_DATA, else ``data/``)."""
    return os.environ.get("LANDMARKS_DATA", "data/")


def config(attr: str) -> Any:
    """The setting `attr`, a dotted path into ``CONFIG`` (``"data_dir"`` is the data folder)."""
    if attr == "data_dir":
        return data_dir()
    node: Any = CONFIG
    for key in attr.split("."):
        if not isinstance(node, dict) or key not in node:
            raise KeyError(f"no setting {attr!r}")
        node = node[key]
    return node
