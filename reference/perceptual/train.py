"""One training epoch that stops at the first non-finite loss (TODO: `train_one_epoch`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import nn


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or ±inf; `step` is the 0-based index of that batch in the epoch."""

    def __init__(self, step: int, loss: float) -> None:
        super().__init__(f"non-finite loss {loss} at step {step}")
        self.step = step
        self.loss = loss


def train_one_epoch(
    model: nn.Module,
    loader: Iterable[Any],
    optimizer: torch.optim.Optimizer,
    criterion: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    max_grad_norm: float | None = None,
) -> float:
    """One pass over `loader` in train mode; returns the mean of the batch losses.

    For each batch (x, y): zero the gradients, compute `criterion(model(x), y)`; if that loss
    is not finite, raise `NonFiniteLossError(step, loss)` at once (this batch must not change
    the weights, and no later batch runs); otherwise backpropagate, clip the *global* gradient
    norm of all parameters together to `max_grad_norm` when it is set
    (`torch.nn.utils.clip_grad_norm_`), and take the optimizer step.
    """
    # BEGIN SOLUTION
    model.train()
    total, count = 0.0, 0
    for step, (x, y) in enumerate(loader):
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        if not torch.isfinite(loss).all():
            raise NonFiniteLossError(step, float(loss.detach()))
        loss.backward()
        if max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
        optimizer.step()
        total += float(loss.detach())
        count += 1
    return total / max(count, 1)
    # END SOLUTION
