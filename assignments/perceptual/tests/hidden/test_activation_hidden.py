"""Hidden tests of `activation.CustomActivation`: float64 and wide ranges, gradcheck on larger
tensors, the input left as it is, each backward with its own input, a residual network."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.checks.modules import definition_of, state_of
from grader.checks.optim import assert_sgd_steps
from grader.testing import assert_close, assert_equal, points

from ..public.test_activation import (
    AWAY_FROM_ZERO,
    DefinitionActivation,
    assert_gradcheck,
    df_definition,
    f_definition,
    probes_in,
    value_and_vjp,
)
from . import standins

WIDE = st.one_of(st.floats(-1e3, 1e3), st.sampled_from([0.0, -0.0, 1e-30, -1e-30]))


@points(2, part="activation")
@settings(max_examples=15)
@given(
    x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=4, max_side=4), elements=WIDE),
    seed=st.integers(0, 1000),
)
@example(x=np.array([[-1e3, -1e-30, 0.0], [1e-30, 7.5, 1e3]]), seed=1)
def test_values_and_gradients_in_float64(student, x, seed):
    """CustomActivation in float64 over a wide range (tiny and large values, zeros): values and gradients as the definition, dtype kept."""
    g = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    y, grad = value_and_vjp(student, torch.from_numpy(x), g)
    assert_equal(y.dtype, torch.float64, what="dtype of CustomActivation()(x) for a float64 x")
    assert_close(y.numpy(), f_definition(x), rtol=1e-12, atol=1e-300, what=f"CustomActivation()(x) in float64, x of shape {x.shape}")
    assert_close(grad.double().numpy(), g.numpy() * df_definition(x), rtol=1e-12, atol=1e-300, what="gradient of sum(f(x)·g) in float64")


@points(1, part="activation")
@settings(max_examples=3)
@given(values=st.lists(AWAY_FROM_ZERO, min_size=6, max_size=12), cols=st.sampled_from([2, 3]))
@example(values=[-0.1, 0.1, -4.0, 4.0, 0.7, -0.7], cols=3)
def test_gradcheck_on_matrices(student, values, cols):
    """CustomActivation passes torch.autograd.gradcheck in float64 on 2-D inputs, away from 0."""
    rows = len(values) // cols
    assert_gradcheck(student, torch.tensor(values[: rows * cols], dtype=torch.float64).reshape(rows, cols))


@points(1, part="activation")
def test_input_is_left_unchanged(student):
    """CustomActivation does not change its input in place (float32 and float64)."""
    for dtype in (torch.float32, torch.float64):
        x = torch.tensor([[-2.0, -0.5, 0.0], [0.25, 1.5, -3.0]], dtype=dtype)
        y, after = probes_in(student).forward_keeping(student.activation.CustomActivation(), x)
        assert isinstance(y, torch.Tensor), f"CustomActivation()(x) returned {type(y).__name__}, expected a tensor"
        assert_close(y.double().numpy(), f_definition(x.numpy()), rtol=1e-6, what=f"CustomActivation()(x) in {dtype}")
        assert_equal(after, x, what=f"the input x after CustomActivation()(x) ({dtype}): it must not change")


@points(1, part="activation")
def test_backward_uses_its_own_input(student):
    """CustomActivation: the gradient of a first call uses that call's input, even after a second call with another input (state kept in ctx, not on the class)."""
    x1 = torch.tensor([-1.0, 2.0, 3.0, -0.5])
    x2 = torch.tensor([4.0, -2.0, -1.0, 5.0])
    g = torch.tensor([1.0, 1.0, -2.0, 0.5])
    module = student.activation.CustomActivation()
    grad = student.ship(standins).vjp_after_another_call(module, x1, x2, g)
    assert isinstance(grad, torch.Tensor), "no gradient reached the first call's input"
    assert_close(grad.double().numpy(), g.double().numpy() * df_definition(x1.numpy()), rtol=1e-6,
                 what="gradient of the first call, taken after a second call")


@points(2, part="activation")
def test_inside_a_residual_network(student):
    """CustomActivation used three times in a small residual network (the grader's stand-in): two SGD steps move every weight as the definition says."""
    g = torch.Generator().manual_seed(11)
    model = student.ship(standins).SmallResNet(student.activation.CustomActivation(), seed=11)
    local = standins.SmallResNet(DefinitionActivation(), seed=11)
    local.load_state_dict(state_of(model, what="the grader's residual network"))
    steps = [(2 * torch.randn(2, 3, 5, 5, generator=g), 3 * torch.randn(2, 3, generator=g)) for _ in range(2)]
    assert_sgd_steps(
        student, model, definition_of(local), steps, lr=0.2,
        probes=[torch.randn(2, 3, 6, 4, generator=g)], what="a residual network with CustomActivation",
    )  # fmt: skip
