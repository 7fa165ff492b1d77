"""Public tests of `activation.CustomActivation`: values, gradients, gradcheck, inside a model.

f(x) = x² (x > 0), 0.2·x (x < 0), 0 at 0; f'(x) = 2x, 0.2, and exactly 0 at 0. The tensors
are the grader's; the values and gradients your code computes come back by value and are
compared here with the definition. gradcheck runs here, in float64: each of its forward and
backward evaluations is a call of your module.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from torch.autograd.gradcheck import GradcheckError

from grader.checks.modules import definition_of
from grader.checks.optim import assert_sgd_steps
from grader.testing import assert_close, assert_equal, points

from . import probe_nets

SLOPE = 0.2


def f_definition(x: np.ndarray) -> np.ndarray:
    """f, in float64."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(x > 0, x * x, np.where(x < 0, SLOPE * x, 0.0))


def df_definition(x: np.ndarray) -> np.ndarray:
    """f', in float64, 0 at exactly 0."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(x > 0, 2 * x, np.where(x < 0, SLOPE, 0.0))


class DefinitionActivation(torch.nn.Module):
    """f as a plain module, for the twins built here (inputs there are never exactly 0)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """f(x) element-wise."""
        return torch.where(x > 0, x * x, SLOPE * x)


def probes_in(student: Any) -> Any:
    """The grader's probes, loaded in the child."""
    return student.ship(probe_nets)


def value_and_vjp(student: Any, x: torch.Tensor, g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """CustomActivation()(x) and the gradient of sum(f(x) · g) w.r.t. x, from the child."""
    y, grad = probes_in(student).vjp(student.activation.CustomActivation(), x, g)
    assert isinstance(y, torch.Tensor), f"CustomActivation()(x) returned {type(y).__name__}, expected a tensor"
    assert grad is not None, "CustomActivation()(x) is not differentiable: no gradient reached x"
    assert isinstance(grad, torch.Tensor), "the gradient that reached x is not a tensor"
    return y, grad


FLOATS = st.one_of(st.floats(-10, 10, width=32), st.sampled_from([0.0, -0.0, 1.0, -1.0, 0.5]))


@st.composite
def tensors(draw: Any, dtype: Any = np.float32, max_dims: int = 3, max_side: int = 5) -> np.ndarray:
    """A float array of 1–`max_dims` dimensions whose values often include exact zeros."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=max_dims, min_side=1, max_side=max_side))
    return draw(hnp.arrays(dtype, shape, elements=FLOATS))


@points(2, part="activation")
@settings(max_examples=10)
@given(x=tensors())
@example(x=np.array([-2.0, -0.5, 0.0, 0.5, 3.0], dtype=np.float32))
def test_values_match_the_definition(student, x):
    """CustomActivation: x² for x > 0, 0.2·x for x < 0, 0 at 0, with the input's shape and dtype."""
    y = student.activation.CustomActivation()(torch.from_numpy(x))
    assert isinstance(y, torch.Tensor), f"CustomActivation()(x) returned {type(y).__name__}, expected a tensor"
    assert_equal(tuple(y.shape), x.shape, what="shape of CustomActivation()(x)")
    assert_equal(y.dtype, torch.float32, what="dtype of CustomActivation()(x) for a float32 x")
    assert_close(y.double().numpy(), f_definition(x), rtol=1e-6, atol=1e-7, what=f"CustomActivation()(x) for x of shape {x.shape}")


@points(2, part="activation")
@settings(max_examples=10)
@given(x=tensors(), seed=st.integers(0, 1000))
@example(x=np.array([-2.0, -0.5, 0.0, 0.5, 3.0], dtype=np.float32), seed=0)
def test_gradient_matches_the_definition(student, x, seed):
    """CustomActivation backward: grad_output · f'(x) with f' = 2x, 0.2, and 0 at 0."""
    g = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed))
    _, grad = value_and_vjp(student, torch.from_numpy(x), g)
    want = g.double().numpy() * df_definition(x)
    assert_close(grad.double().numpy(), want, rtol=1e-5, atol=1e-6, what=f"gradient of sum(f(x)·g) w.r.t. x of shape {x.shape}")


@points(1, part="activation")
def test_exactly_zero_at_zero(student):
    """CustomActivation at exactly 0 (and −0): the value and the derivative are exactly 0, in float32 and float64."""
    for dtype in (torch.float32, torch.float64):
        x = torch.tensor([0.0, -0.0, 0.0], dtype=dtype)
        y, grad = value_and_vjp(student, x, torch.tensor([1.0, -3.0, 0.5], dtype=dtype))
        assert_equal(y.double(), torch.zeros(3, dtype=torch.float64), what=f"f(0) in {dtype}")
        assert_equal(grad.double(), torch.zeros(3, dtype=torch.float64), what=f"gradient at exactly 0 in {dtype} (f'(0) = 0)")


class Remote(torch.autograd.Function):
    """Your module as an autograd function here: forward and backward are calls into the child."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, student: Any) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.student = student
        y = student.activation.CustomActivation()(x.detach().clone())
        assert isinstance(y, torch.Tensor), f"CustomActivation()(x) returned {type(y).__name__}, expected a tensor"
        return y.to(torch.float64)

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor, None]:
        (x,) = ctx.saved_tensors
        _, grad = value_and_vjp(ctx.student, x.detach(), grad_output.detach())
        return grad.to(torch.float64), None


def assert_gradcheck(student: Any, x: torch.Tensor, *, fast: bool = False) -> None:
    """torch.autograd.gradcheck of the student's module at float64 `x`, run here."""
    x = x.to(torch.float64).requires_grad_(True)
    try:
        torch.autograd.gradcheck(lambda t: Remote.apply(t, student), (x,), eps=1e-6, atol=1e-6, rtol=1e-4, fast_mode=fast)
    except GradcheckError as exc:
        raise AssertionError(
            f"torch.autograd.gradcheck in float64 failed at x = {x.detach().flatten().tolist()}: "
            f"your backward does not match finite differences of your forward ({str(exc).splitlines()[0]})"
        ) from None


AWAY_FROM_ZERO = st.floats(0.1, 5.0).flatmap(lambda m: st.sampled_from([m, -m]))


@points(2, part="activation")
@settings(max_examples=6)
@given(values=st.lists(AWAY_FROM_ZERO, min_size=1, max_size=6))
@example(values=[-1.5, 0.3, 2.0])
def test_gradcheck_in_float64_away_from_zero(student, values):
    """CustomActivation passes torch.autograd.gradcheck in float64 (finite differences of your forward against your backward), away from 0."""
    assert_gradcheck(student, torch.tensor(values, dtype=torch.float64))


@points(1, part="activation")
def test_works_inside_a_model(student):
    """CustomActivation inside a small network (linear → CustomActivation → linear): two SGD steps move every weight as the definition says."""
    g = torch.Generator().manual_seed(3)
    model = probes_in(student).TinyMLP(student.activation.CustomActivation(), seed=3)
    local = probe_nets.TinyMLP(DefinitionActivation(), seed=3)
    steps = [(torch.randn(5, 4, generator=g), torch.randn(5, 3, generator=g)) for _ in range(2)]
    assert_sgd_steps(
        student, model, definition_of(local), steps, lr=0.1,
        probes=[torch.randn(3, 4, generator=g)], what="a network with CustomActivation between two linear layers",
    )  # fmt: skip
