"""A loss function in the child, checked by its value and gradient on the grader's inputs.

What the child reports about a criterion (its class name) is a hint; the verdict compares the
loss it computes on logits and targets the grader chose, and the gradient with respect to the
logits, with the expected loss computed here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from grader.checks.modules import hinted
from grader.testing import assert_close


def assert_loss_matches(
    sub: Any,
    criterion: Any,
    expected: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    what: str,
    hint: Callable[[], str] | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> None:
    """`criterion(logits, target)` equals `expected(logits, target)`, and so does its gradient.

    The value comes from calling the criterion itself; the gradient with respect to the logits
    from `harness.value_and_grad`. `hint` (called only on failure) may add a report.
    """
    want_logits = logits.detach().clone().requires_grad_(True)
    want = expected(want_logits, target)
    (want_grad,) = torch.autograd.grad(want, want_logits)
    with hinted(hint):
        got = criterion(logits.detach(), target)
        if not isinstance(got, torch.Tensor):
            raise AssertionError(f"{what}(logits, labels) gave {type(got).__name__}, expected a tensor")
        assert_close(got.detach(), want.detach(), rtol=rtol, atol=atol, what=f"{what}: the loss on the grader's logits")
        _, grad = sub.harness.value_and_grad(criterion, logits.detach(), target)
        if not isinstance(grad, torch.Tensor):
            raise AssertionError(f"{what}: autograd cannot differentiate the loss with respect to the logits")
        assert_close(grad, want_grad, rtol=rtol, atol=atol, what=f"{what}: gradient of the loss with respect to the logits")
