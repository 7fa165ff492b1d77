"""Small networks, loaders and probes that the activation, nan_guard and gradcam tests ship
into the child (`student.ship(probe_nets)`).

The tests import this file here too, so both sides build their networks from one definition
("twins"): the child's copy is handed to student code, the twin built here computes what to
expect. Student code runs in the same process as the child's copy and could patch it, so the
probes only drive calls and report; every verdict is decided in the grading process from
values that come back. Self-contained (torch only), and nothing here is a solution.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

Softsign = nn.Softsign  # an activation class the tests can hand to student code


class TinyMLP(nn.Module):
    """fc1 (in → hidden) → act → fc2 (hidden → out), seeded; `act` is any module."""

    def __init__(self, act: nn.Module, seed: int = 0, sizes: tuple[int, int, int] = (4, 6, 3)) -> None:
        super().__init__()
        torch.manual_seed(seed)
        a, b, c = sizes
        self.fc1 = nn.Linear(a, b)
        self.act = act
        self.fc2 = nn.Linear(b, c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×in → N×out."""
        return self.fc2(self.act(self.fc1(x)))


class Regressor(nn.Module):
    """fc1 (3 → 4) → tanh → fc2 (4 → 2), seeded; with `linear`, one layer 3 → 2 only."""

    def __init__(self, seed: int = 0, linear: bool = False) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.linear = linear
        if linear:
            self.fc = nn.Linear(3, 2)
        else:
            self.fc1 = nn.Linear(3, 4)
            self.fc2 = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×3 → N×2."""
        if self.linear:
            return self.fc(x)
        return self.fc2(torch.tanh(self.fc1(x)))


class CamNet(nn.Module):
    """features: conv(3→a, 3×3, pad 1) → ReLU → conv(a→b, 3×3, pad 1) → ReLU; then global
    average pooling → fc (b → classes). Grad-CAM's textbook setting (target: `features`)."""

    def __init__(self, seed: int = 0, classes: int = 3, widths: tuple[int, int] = (4, 5)) -> None:
        super().__init__()
        torch.manual_seed(seed)
        a, b = widths
        self.features = nn.Sequential(nn.Conv2d(3, a, 3, padding=1), nn.ReLU(), nn.Conv2d(a, b, 3, padding=1), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(b, classes)
        with torch.no_grad():
            self.fc.bias.copy_(torch.randn(classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×3×H×W → N×classes."""
        return self.fc(torch.flatten(self.pool(self.features(x)), 1))


class StridedCamNet(nn.Module):
    """conv(3→4, stride 2) → ReLU → conv(4→6) → tanh → max-pool 2 → conv(6→5) → ReLU → flatten
    of a 2×2 adaptive average pool → fc (20 → classes): gradients that vary over positions."""

    def __init__(self, seed: int = 0, classes: int = 4) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.body = nn.Sequential(
            nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(4, 6, 3, padding=1), nn.Tanh(), nn.MaxPool2d(2, ceil_mode=True),
            nn.Conv2d(6, 5, 3, padding=1), nn.ReLU(),
        )  # fmt: skip
        self.pool = nn.AdaptiveAvgPool2d(2)
        self.fc = nn.Linear(20, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×3×H×W → N×classes."""
        return self.fc(torch.flatten(self.pool(self.body(x)), 1))


def loader(x: torch.Tensor, y: torch.Tensor, batch_size: int) -> DataLoader:
    """A DataLoader over (x, y) on the CPU, in order."""
    return DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False)


# ---------------------------------------------------------------------------- probes (reports)


def vjp(module: Any, x: torch.Tensor, grad_output: torch.Tensor) -> tuple[Any, Any]:
    """`module(x)` and the gradient of sum(module(x) · grad_output) with respect to x."""
    x = x.detach().clone().requires_grad_(True)
    y = module(x)
    if not isinstance(y, torch.Tensor):
        return y, None
    if not y.requires_grad:
        return y.detach(), None
    (grad,) = torch.autograd.grad(y, x, grad_output.to(y.dtype), allow_unused=True)
    return y.detach(), grad


def forward_keeping(module: Any, x: torch.Tensor) -> tuple[Any, torch.Tensor]:
    """`module(x)`, and x itself as it is after the call (to see whether it was changed in place)."""
    x = x.detach().clone()
    y = module(x)
    return (y.detach() if isinstance(y, torch.Tensor) else y), x


def catch(fn: Any, *args: Any, expected: Any = None, **kwargs: Any) -> dict[str, Any]:
    """Call `fn`; what it returned, or what it raised (type, message, whether it is an
    `expected`, and the exception's `step` attribute when that is an int)."""
    try:
        result = fn(*args, **kwargs)
    except Exception as exc:  # the student's own exception, reported as data
        step = getattr(exc, "step", None)
        if isinstance(step, torch.Tensor) and step.numel() == 1:
            step = step.item()
        return {
            "raised": True,
            "type": type(exc).__name__,
            "message": str(exc)[:500],
            "is_expected": bool(expected is not None and isinstance(exc, expected)),
            "step": step if isinstance(step, int) and not isinstance(step, bool) else None,
            "step_repr": repr(step)[:100],
        }
    if isinstance(result, torch.Tensor) and result.numel() == 1:
        result = result.item()
    return {"raised": False, "result": result if isinstance(result, int | float) else repr(result)[:100]}


def parameters(model: nn.Module) -> dict[str, torch.Tensor]:
    """Every parameter of `model`, detached copies, by name."""
    return {k: v.detach().clone() for k, v in model.named_parameters()}


def hook_count(model: nn.Module) -> int:
    """The module hooks registered on `model`'s modules, and global module hooks (all kinds)."""
    kinds = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks")
    n = sum(len(getattr(m, k, {}) or {}) for m in model.modules() for k in kinds)
    g = nn.modules.module
    for k in ("_global_forward_hooks", "_global_forward_pre_hooks", "_global_backward_hooks", "_global_backward_pre_hooks"):
        n += len(getattr(g, k, {}) or {})
    return n


def cam_in_context(cls: Any, model: nn.Module, layer: nn.Module, x: torch.Tensor, class_idx: Any = None) -> Any:
    """`with cls(model, layer) as cam: return cam(x, class_idx)`."""
    with cls(model, layer) as cam:
        return cam(x, class_idx)
