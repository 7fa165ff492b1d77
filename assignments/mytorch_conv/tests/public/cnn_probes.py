"""Small networks and probes that the `architectures` and `interpret` tests ship into the child.

Tests ship this file (`student.ship(cnn_probes)`) and import it here, so the two sides build
their networks from one definition: the child's copy is handed to student code, the twin built
here computes what to expect. The probes inspect objects in the child (the grader's own
networks, hook dictionaries, files in a temporary folder); student code runs in the same
process and could patch them, so they only report, and the tests decide from values checked
in the grading process. Nothing here is a solution.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import torch
from torch import nn


class ProbeNet(nn.Module):
    """A small CNN ending in global average pooling + a linear layer (CAM's setting).

    features: conv(3→a, 3×3) → batch norm → ReLU → conv(a→b, 3×3) → ReLU; then pool
    (AdaptiveAvgPool2d(1)) → flatten → dropout → fc. The batch norm has non-trivial running
    statistics and the convolutions have biases, so their outputs have negative entries.
    """

    def __init__(self, seed: int = 0, num_classes: int = 3, widths: tuple[int, int] = (4, 5)) -> None:
        super().__init__()
        torch.manual_seed(seed)
        a, b = widths
        self.features = nn.Sequential(
            nn.Conv2d(3, a, 3, padding=1), nn.BatchNorm2d(a), nn.ReLU(),
            nn.Conv2d(a, b, 3, padding=1), nn.ReLU(),
        )  # fmt: skip
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(b, num_classes)
        bn = self.features[1]
        with torch.no_grad():
            bn.running_mean.copy_(0.3 * torch.randn(a))
            bn.running_var.copy_(0.5 + torch.rand(a))
            bn.weight.copy_(1 + 0.3 * torch.randn(a))
            bn.bias.copy_(0.2 * torch.randn(a))
            self.fc.bias.copy_(torch.randn(num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×3×H×W → N×num_classes."""
        return self.fc(self.drop(torch.flatten(self.pool(self.features(x)), 1)))


def tiny_mlp() -> nn.Module:
    """The worked example of guided backpropagation: a 2-channel 1×1 image → 3 hidden units → 2 classes.

    flatten → fc1 (weights rows (1, -2), (2, 1), (1, 1), no bias) → ReLU → fc2 (rows
    (1, -1, 2) and (0.5, 1, -1), no bias).
    """
    net = nn.Sequential(nn.Flatten(), nn.Linear(2, 3, bias=False), nn.ReLU(), nn.Linear(3, 2, bias=False))
    with torch.no_grad():
        net[1].weight.copy_(torch.tensor([[1.0, -2.0], [2.0, 1.0], [1.0, 1.0]]))
        net[3].weight.copy_(torch.tensor([[1.0, -1.0, 2.0], [0.5, 1.0, -1.0]]))
    return net


# ---------------------------------------------------------------------------- probes (reports)


def hook_count(model: nn.Module) -> int:
    """The hooks registered on `model`'s modules, and global module hooks (all kinds)."""
    kinds = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks")
    n = sum(len(getattr(m, k, {}) or {}) for m in model.modules() for k in kinds)
    g = nn.modules.module
    for k in (
        "_global_forward_hooks", "_global_forward_pre_hooks",
        "_global_backward_hooks", "_global_backward_pre_hooks",
    ):  # fmt: skip
        n += len(getattr(g, k, {}) or {})
    return n


def modes(model: nn.Module) -> list[bool]:
    """`training` of every module of `model`, in order."""
    return [bool(m.training) for m in model.modules()]


def train_outputs(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """`model(x)` in the mode the model is in (no change), without gradients."""
    with torch.no_grad():
        return model(x)


def input_gradient(model: nn.Module, x: torch.Tensor, target_class: int) -> torch.Tensor:
    """A plain backward pass: d(sum of the class's logits)/dx, in the model's current mode."""
    x = x.detach().clone().requires_grad_(True)
    model(x)[:, target_class].sum().backward()
    model.zero_grad(set_to_none=True)
    return x.grad.detach()


def grad_names(model: nn.Module) -> list[str]:
    """The parameters of `model` that hold a gradient."""
    return [k for k, p in model.named_parameters() if p.grad is not None]


def relu_count(model: nn.Module) -> int:
    """How many submodules are exactly `nn.ReLU`."""
    return sum(type(m) is nn.ReLU for m in model.modules())


def conv_calls(model: nn.Module, x: torch.Tensor) -> list[tuple[str, torch.Tensor, torch.Tensor]]:
    """(name, input, output) of every `nn.Conv2d` call during `model(x)` in eval mode, in order."""
    calls: list[tuple[str, torch.Tensor, torch.Tensor]] = []
    handles = []
    for name, m in model.named_modules():
        if isinstance(m, nn.Conv2d):

            def hook(_m: nn.Module, inputs: Any, output: Any, name: str = name) -> None:
                calls.append((name, inputs[0].detach().clone(), output.detach().clone()))

            handles.append(m.register_forward_hook(hook))
    try:
        model.eval()
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return calls


def temp_png() -> str:
    """A fresh path `plot.png` in a new temporary folder (nothing written yet)."""
    return os.path.join(tempfile.mkdtemp(prefix="plots-"), "plot.png")


def read_bytes(path: str, limit: int = 20_000_000) -> bytes:
    """The bytes of the file at `path` (at most `limit`); b"" when there is no such file."""
    if not os.path.isfile(path):
        return b""
    with open(path, "rb") as f:
        return f.read(limit)
