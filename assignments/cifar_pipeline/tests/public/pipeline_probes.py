"""Small networks, loaders and probes that the `train.py` and `seeds.py` tests ship into the child.

Tests ship this file (`student.ship(pipeline_probes)`) and import it here, so the two sides
build their networks from one definition: the child's copy is handed to your functions, the
twin built here computes what to expect. The probes only build objects or report (student code
runs in the same process and could patch them); the tests decide from values they check in
the grading process. Nothing here is a solution.
"""

from __future__ import annotations

import os
import random
import tempfile
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def shifts(num_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The class-dependent offsets ModeProbe adds in train mode and with gradient tracking on."""
    train_shift = torch.linspace(-2.0, 2.0, num_classes)
    grad_shift = 1.5 * torch.cos(torch.arange(num_classes, dtype=torch.float32) * 2.0)
    return train_shift, grad_shift


class ModeProbe(nn.Module):
    """A linear classifier whose logits show the mode it ran in.

    In train mode its logits get one class-dependent offset, with gradient tracking on another
    (`shifts`), so a loss or an accuracy computed from them tells eval mode without
    gradients apart from the other three combinations.
    """

    def __init__(self, in_features: int, num_classes: int, seed: int = 0) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.fc = nn.Linear(in_features, num_classes)
        with torch.no_grad():
            self.fc.weight.copy_(torch.randn(num_classes, in_features, generator=g))
            self.fc.bias.copy_(0.5 * torch.randn(num_classes, generator=g))
        train_shift, grad_shift = shifts(num_classes)
        self.register_buffer("train_shift", train_shift)
        self.register_buffer("grad_shift", grad_shift)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×… → N×num_classes."""
        z = self.fc(torch.flatten(x, 1))
        if self.training:
            z = z + self.train_shift
        if torch.is_grad_enabled():
            z = z + self.grad_shift
        return z


class TinyNet(nn.Module):
    """conv(3→4, 3×3, no bias) → batch norm → ReLU → 2×2 average pooling → flatten → linear,
    for 3×4×4 images. The batch norm makes train and eval mode differ (and keeps running
    statistics); the convolution has no bias, which the batch norm would cancel (its gradient
    would be rounding noise, which Adam scales up)."""

    def __init__(self, seed: int = 0, num_classes: int = 3) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.conv = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 2 * 2, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×3×4×4 → N×num_classes."""
        x = torch.relu(self.bn(self.conv(x)))
        return self.fc(torch.flatten(nn.functional.avg_pool2d(x, 2), 1))


def dataset(x: torch.Tensor, y: torch.Tensor) -> TensorDataset:
    """A data set yielding `(x[i], y[i])`."""
    return TensorDataset(x, y)


def loader(x: torch.Tensor, y: torch.Tensor, batch_size: int) -> DataLoader:
    """A DataLoader over the given tensors, in order (no shuffling), on the CPU."""
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False)


def set_mode(model: nn.Module, train: bool) -> nn.Module:
    """`model.train(train)`, returning the model."""
    return model.train(train)


def outputs_as_is(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """`model(x)` in whatever mode the model is in, with gradient tracking on (as in training)."""
    with torch.enable_grad():
        return model(x).detach()


# ----------------------------------------------------------------------------- files


def temp_path(name: str) -> str:
    """A fresh path `name` in a new temporary folder (nothing written yet)."""
    return os.path.join(tempfile.mkdtemp(prefix="pipeline-"), name)


def write_bytes(path: str, data: bytes) -> None:
    """Write `data` to `path`."""
    with open(path, "wb") as f:
        f.write(data)


def read_bytes(path: str, limit: int = 20_000_000) -> bytes:
    """The bytes of the file at `path` (at most `limit`); b"" when there is no such file."""
    if not os.path.isfile(path):
        return b""
    with open(path, "rb") as f:
        return f.read(limit)


def load_as_specified(path: str, model: nn.Module, optimizer: Any) -> None:
    """Read a checkpoint the way the handout specifies it: `torch.load(..., weights_only=True)`,
    then `model_state` into the model and `optimizer` into the optimizer."""
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(checkpoint["model_state"])
    optimizer.load_state_dict(checkpoint["optimizer"])


# ----------------------------------------------------------------------------- plots


def _figure_summary(fig: Any) -> dict[str, Any]:
    axes = []
    for ax in fig.get_axes():
        legend = ax.get_legend()
        axes.append({
            "lines": [[[float(v) for v in line.get_xdata()], [float(v) for v in line.get_ydata()]]
                      for line in ax.get_lines()],
            "bars": [float(p.get_height()) for p in ax.patches if type(p).__name__ == "Rectangle"],
            "images": len(ax.images),
            "title": str(ax.get_title()),
            "xlabel": str(ax.get_xlabel()),
            "ylabel": str(ax.get_ylabel()),
            "legend": [t.get_text() for t in legend.get_texts()] if legend is not None else [],
        })  # fmt: skip
    return {"axes": axes, "suptitle": fig._suptitle.get_text() if getattr(fig, "_suptitle", None) else ""}


def recorded(fn: Any, *args: Any) -> list[dict[str, Any]]:
    """Call `fn(*args)`; return a summary of every figure it saved (axes, their lines' data,
    bars, images, labels, legend), taken as `savefig` was called. A report, for messages and
    for the structure of a plot that the PNG's pixels cannot tell."""
    from matplotlib.figure import Figure

    saved: list[dict[str, Any]] = []
    original = Figure.savefig

    def savefig(self: Any, *a: Any, **k: Any) -> Any:
        saved.append(_figure_summary(self))
        return original(self, *a, **k)

    Figure.savefig = savefig  # type: ignore[method-assign]
    try:
        fn(*args)
    finally:
        Figure.savefig = original  # type: ignore[method-assign]
    return saved


# ----------------------------------------------------------------------------- seeds


def draws() -> dict[str, Any]:
    """Draws from every generator a training run uses: Python's `random`, numpy's global
    generator, torch's (a tensor, a freshly initialised layer, a shuffled loader's order)."""
    layer = nn.Linear(6, 4)
    order = [int(i) for batch in DataLoader(TensorDataset(torch.arange(16)), batch_size=4, shuffle=True) for i in batch[0]]
    return {
        "random": [random.random() for _ in range(3)],
        "numpy": np.random.rand(3),
        "torch": torch.rand(3),
        "weights": layer.weight.detach().clone(),
        "order": order,
    }


def make_model() -> nn.Module:
    """A freshly initialised small layer (from torch's global generator)."""
    return nn.Linear(5, 3)


def fingerprint(model: nn.Module) -> float:
    """A number that depends on every initial weight of `make_model()`'s layer."""
    with torch.no_grad():
        return float(model.weight.sum() + 10 * model.bias.sum())


class Scripted:
    """A `run(model)` that returns the given accuracies one call after the other."""

    def __init__(self, values: list[float]) -> None:
        self.values = list(values)
        self.calls = 0

    def __call__(self, model: Any) -> float:
        """The next value."""
        value = self.values[self.calls % len(self.values)]
        self.calls += 1
        return value

