"""Helpers the model tests ship into the sandboxed child (`student.ship(model_support)`).

They drive the submission's model the way the grader chose (a mode, a torch seed) and hand
its outputs back by value; the tests compare them with the handout's network computed here.
Student code can read and patch this file, so nothing here is secret or decides a verdict.
Self-contained: torch only.
"""

from __future__ import annotations

from typing import Any

import torch


def seeded_forward(model: Any, x: torch.Tensor, seed: int, train: bool) -> Any:
    """``model(x)`` without gradients, in train or eval mode, right after ``torch.manual_seed(seed)``."""
    model.train(train)
    torch.manual_seed(seed)
    with torch.no_grad():
        out = model(x)
    return out.detach() if isinstance(out, torch.Tensor) else out

