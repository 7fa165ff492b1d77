"""Helpers the perceptual tests ship into the sandboxed child (`student.ship(childside)`).

They build, in the child, what the grader chose: files written from bytes the trusted process
encoded, seeded torch generators, small feature stacks and a stand-in extractor whose twins the
trusted process builds from the same code and seed, and one SGD step through an extractor.
Student code can read and patch them (they run in its process), so nothing here is secret, and
no verdict rests on what they report: the tests decide from outputs and tensors returned by
value, compared with the twins built in the trusted process. (`student.harness.offline` makes
any network access an error while a call runs.)

Self-contained: the standard library, numpy and torch only.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn


def write_tree(files: Mapping[str, bytes], copies: Mapping[str, str] | None = None) -> str:
    """Write `files` (relative path → bytes) under a fresh temporary folder, then copy the
    written file at relative path `copies[new]` to each relative path `new`; return the folder's path."""
    root = Path(tempfile.mkdtemp(prefix="tree-"))
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(bytes(data))
    for new, source in (copies or {}).items():
        path = root / new
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / source, path)
    return str(root)


def call_keeping_input(fn: Callable[..., Any], x: Any, *args: Any) -> tuple[Any, Any]:
    """``fn(x, *args)``, and `x` as it is after the call (did `fn` change it in place?)."""
    out = fn(x, *args)
    return out, x


def generator(seed: int) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded with `seed`."""
    return torch.Generator().manual_seed(int(seed))


def draw_global(n: int) -> torch.Tensor:
    """`n` draws from torch's global generator (moves it on)."""
    return torch.rand(int(n))


def backbone(seed: int, dropout: float = 0.5) -> nn.Sequential:
    """A small feature stack with mode-dependent layers (batch norm with non-trivial running
    statistics, dropout), seeded: conv, BN, ReLU, dropout, max-pool, conv, BN, ReLU, max-pool,
    conv, ReLU (indices 0..10). Returned in train mode."""
    torch.manual_seed(int(seed))
    layers = nn.Sequential(
        nn.Conv2d(3, 6, 3, padding=1),
        nn.BatchNorm2d(6),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.MaxPool2d(2),
        nn.Conv2d(6, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 5, 3, padding=1),
        nn.ReLU(),
    )
    with torch.no_grad():
        for m in layers:
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.3, 0.3)
    return layers.train()


class StandinExtractor(nn.Module):
    """A stand-in feature extractor: ``forward(x)`` returns a list of feature maps of different
    sizes (a 4-channel map at full resolution, a 6-channel map at half, an 8-vector), seeded."""

    def __init__(self, seed: int = 0, in_channels: int = 3) -> None:
        super().__init__()
        torch.manual_seed(int(seed))
        self.a = nn.Conv2d(in_channels, 4, 3, padding=1)
        self.b = nn.Conv2d(4, 6, 3, stride=2, padding=1)
        self.c = nn.Linear(6, 8)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Three feature maps of `x`."""
        a = torch.tanh(self.a(x))
        b = torch.relu(self.b(a))
        return [a, b, self.c(b.mean(dim=(2, 3)))]


def step_through(extractor: nn.Module, x: torch.Tensor, lr: float) -> torch.Tensor:
    """One SGD step (learning rate `lr`) over *every* parameter of `extractor` on the loss
    sum(f²) over its feature maps of `x`, as a model that holds the extractor would take it.
    Returns the gradient of that loss with respect to `x`."""
    x = x.detach().clone().requires_grad_(True)
    params = list(extractor.parameters())
    optimizer = torch.optim.SGD(params, lr=lr) if params else None
    loss = sum((f.square().sum() for f in extractor(x)), torch.zeros(()))
    if not loss.requires_grad:
        raise RuntimeError("the extractor's feature maps carry no gradient back to its input x (detached, or under no_grad?)")
    loss.backward()
    if optimizer is not None:
        optimizer.step()
    if x.grad is None:
        raise RuntimeError("no gradient reached the input x: the extractor's output is cut off from it")
    return x.grad



def empty_torch_home() -> str:
    """Point ``TORCH_HOME`` at a fresh, empty folder (no cached weights); return it."""
    home = tempfile.mkdtemp(prefix="torch-home-")
    os.environ["TORCH_HOME"] = home
    return home

