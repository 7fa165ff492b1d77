"""Public tests of `mytorch/loss.py`: `MSELoss.forward` and `MSELoss.backward`.

The definition, computed here in float64: L = mean over every element of (A − Y)², and
dL/dA = 2·(A − Y) / (number of elements).
"""

from __future__ import annotations

import numpy as np
from hypothesis import example, given
from hypothesis import strategies as st

from grader.testing import assert_close, assert_equal, points

RTOL, ATOL = 1e-10, 1e-12


@st.composite
def pairs(
    draw, *, min_dims: int = 2, max_dims: int = 2, max_side: int = 8
) -> tuple[np.ndarray, np.ndarray]:
    """Predictions A and targets Y of one shape (min_dims to max_dims axes of 1 to max_side), float64."""
    dims = draw(st.integers(min_dims, max_dims))
    shape = tuple(draw(st.lists(st.integers(1, max_side), min_size=dims, max_size=dims)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.standard_normal(shape), rng.standard_normal(shape)


def as_loss(student, value, what: str) -> float:
    """A returned loss as a Python float (a clear message when it is not one number)."""
    value = student.value(value)
    arr = np.asarray(value) if isinstance(value, (int, float, np.ndarray, np.generic)) else None
    assert arr is not None and arr.size == 1 and arr.dtype.kind in "fiu", (
        f"{what} should be one number (a float), got {type(value).__name__}"
    )
    return float(arr.reshape(()))


def student_mse(student, a: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """(MSELoss().forward(A, Y), then backward()) in the child."""
    loss = student.mytorch.loss.MSELoss()
    value = as_loss(
        student, loss.forward(a, y), f"MSELoss().forward(A, Y) for A of shape {a.shape}"
    )
    grad = student.value(loss.backward())
    assert isinstance(grad, np.ndarray), (
        f"MSELoss.backward() should return a numpy array, got {type(grad).__name__}"
    )
    return value, grad


@points(1, part="mse")
@given(pair=pairs())
@example(pair=(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 0.0], [0.0, 4.0]])))
def test_mse_forward_is_the_mean_squared_error(student, pair):
    """forward(A, Y): the mean over all elements of (A − Y)² (e.g. 13/4 for [[1, 2], [3, 4]] against [[1, 0], [0, 4]])."""
    a, y = pair
    loss = student.mytorch.loss.MSELoss()
    got = as_loss(student, loss.forward(a, y), f"MSELoss().forward(A, Y) for A of shape {a.shape}")
    assert_close(
        got,
        float(np.mean((a - y) ** 2)),
        rtol=RTOL,
        atol=ATOL,
        what=f"MSELoss().forward(A, Y) for A of shape {a.shape}",
    )


@points(1, part="mse")
@given(pair=pairs())
@example(pair=(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 0.0], [0.0, 4.0]])))
def test_mse_backward_is_the_gradient(student, pair):
    """backward() after forward(A, Y): dL/dA = 2·(A − Y) / (number of elements), of A's shape."""
    a, y = pair
    _, grad = student_mse(student, a, y)
    assert_equal(
        tuple(grad.shape), a.shape, what=f"shape of MSELoss.backward() for A of shape {a.shape}"
    )
    assert_close(
        grad,
        2 * (a - y) / a.size,
        rtol=RTOL,
        atol=ATOL,
        what=f"MSELoss.backward() for A of shape {a.shape}",
    )
