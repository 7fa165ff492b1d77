"""Hidden tests of `MSELoss`: any number of axes, autograd's gradient, and the last forward."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import given

from grader.testing import assert_close, assert_equal, points

from ..public.test_mse import ATOL, RTOL, as_loss, pairs, student_mse


@points(1, part="mse")
@given(pair=pairs(min_dims=1, max_dims=4, max_side=6))
def test_mse_forward_any_number_of_axes(student, pair):
    """forward(A, Y) equals F.mse_loss (the mean over every element) for 1-D to 4-D arrays."""
    a, y = pair
    want = float(F.mse_loss(torch.from_numpy(a), torch.from_numpy(y)))
    got = as_loss(
        student,
        student.mytorch.loss.MSELoss().forward(a, y),
        f"MSELoss().forward(A, Y) for A of shape {a.shape}",
    )
    assert_close(
        got, want, rtol=RTOL, atol=ATOL, what=f"MSELoss().forward(A, Y) for A of shape {a.shape}"
    )


@points(1, part="mse")
@given(pair=pairs(min_dims=1, max_dims=4, max_side=6))
def test_mse_backward_matches_autograd(student, pair):
    """backward() equals autograd's gradient of F.mse_loss with respect to A, for 1-D to 4-D arrays."""
    a, y = pair
    ta = torch.from_numpy(a).clone().requires_grad_(True)
    F.mse_loss(ta, torch.from_numpy(y)).backward()
    _, grad = student_mse(student, a, y)
    assert_equal(
        tuple(grad.shape), a.shape, what=f"shape of MSELoss.backward() for A of shape {a.shape}"
    )
    assert_close(
        grad,
        ta.grad.numpy(),
        rtol=RTOL,
        atol=ATOL,
        what=f"MSELoss.backward() for A of shape {a.shape}",
    )


@points(1, part="mse")
def test_mse_backward_uses_the_last_forward(student):
    """backward() after two forward calls is the gradient of the last one (of its shape)."""
    rng = np.random.default_rng(17)
    a1, y1 = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    a2, y2 = rng.standard_normal((2, 3, 6)), rng.standard_normal((2, 3, 6))
    loss = student.mytorch.loss.MSELoss()
    loss.forward(a1, y1)
    loss.forward(a2, y2)
    grad = student.value(loss.backward())
    assert isinstance(grad, np.ndarray), (
        f"MSELoss.backward() should return a numpy array, got {type(grad).__name__}"
    )
    what = "MSELoss.backward() after forward on 4×5 arrays, then on 2×3×6 arrays"
    assert_equal(tuple(grad.shape), a2.shape, what=f"shape of {what}")
    assert_close(grad, 2 * (a2 - y2) / a2.size, rtol=RTOL, atol=ATOL, what=what)
