"""Hidden tests of model.py: MyNet on any batch with any weights; MyNetRegularized computed
exactly (eval mode with running statistics, train mode with batch statistics and the dropout
masks of a given seed), its running statistics, and every parameter learnable."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from hypothesis import example, given, settings
from hypothesis import strategies as st

from grader.checks.modules import assert_computes, assert_shapes, load_state, outputs, state_of
from grader.checks.optim import assert_sgd_steps
from grader.testing import assert_close, assert_equal, points

from ..public import model_support
from ..public.test_model import (
    BUFFERS,
    CONVS,
    MYNET_SHAPES,
    REGULARIZED_SHAPES,
    mynet,
    mynet_state,
    own_state,
    regularized_state,
    scale_of,
)

EPS, MOMENTUM, P = 1e-5, 0.1, 0.5  # BatchNorm2d's defaults; Dropout(0.5)


def regularized(p: dict[str, torch.Tensor], x: torch.Tensor, *, train: bool = False) -> torch.Tensor:
    """The handout's MyNetRegularized: conv → bn → ReLU → max-pool (×3), flatten, dropout, fc1 → ReLU → dropout, fc2.

    In train mode the batch norms use the batch's statistics and update the running ones in
    `p` (in place, as nn.BatchNorm2d does), and dropout draws from torch's global generator.
    """
    for i, name in enumerate(CONVS, start=1):
        x = F.conv2d(x, p[f"{name}.weight"], padding=1)
        x = F.batch_norm(x, p[f"bn{i}.running_mean"], p[f"bn{i}.running_var"], p[f"bn{i}.weight"], p[f"bn{i}.bias"],
                         training=train, momentum=MOMENTUM, eps=EPS)
        x = F.max_pool2d(F.relu(x), 2)
    x = F.dropout(torch.flatten(x, 1), P, training=train)
    x = F.dropout(F.relu(F.linear(x, p["fc1.weight"])), P, training=train)
    return F.linear(x, p["fc2.weight"])


def regularized_random_state(g: torch.Generator) -> dict[str, torch.Tensor]:
    """Random tensors for MyNetRegularized: weights, batch-norm scales near 1, shifts, and running statistics."""
    state: dict[str, torch.Tensor] = {}
    for name, shape in REGULARIZED_SHAPES.items():
        kind = name.rpartition(".")[2]
        if kind == "num_batches_tracked":
            state[name] = torch.tensor(5)
        elif kind == "running_var":
            state[name] = 0.5 + torch.rand(shape, generator=g)
        elif name.startswith("bn") and kind == "weight":
            state[name] = 1 + 0.2 * torch.randn(shape, generator=g)
        elif name.startswith("bn"):  # bias, running_mean
            state[name] = 0.3 * torch.randn(shape, generator=g)
        else:
            state[name] = scale_of(name, shape) * torch.randn(shape, generator=g)
    return state


def eval_definition(p: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """MyNetRegularized in eval mode (the running statistics are read, not changed)."""
    return regularized({k: v.clone() for k, v in p.items()}, x, train=False)


@points(1, part="model")
@settings(max_examples=4)
@given(n=st.integers(1, 7), seed=st.integers(0, 10**6))
@example(n=1, seed=0)
def test_mynet_forward_for_any_batch_and_weights(student, n, seed):
    """MyNet.forward gives the handout's N×10 logits for any batch size and any weights."""
    model = student.model.MyNet()
    assert_shapes(own_state(model, "MyNet()"), MYNET_SHAPES, what="MyNet()")
    g = torch.Generator().manual_seed(seed)
    assert_computes(model, mynet, mynet_state(g), [torch.randn(n, 3, 32, 32, generator=g)],
                    what=f"MyNet logits with random weights for a batch of {n}")


@points(2, part="model")
@settings(max_examples=3)
@given(n=st.integers(1, 6), seed=st.integers(0, 10**6))
@example(n=3, seed=1)
def test_regularized_eval_forward(student, n, seed):
    """MyNetRegularized in eval mode: conv → batch norm (running statistics) → ReLU → max-pool ×3, fc1 → ReLU, fc2; no dropout."""
    model = student.model.MyNetRegularized()
    regularized_state(model)
    g = torch.Generator().manual_seed(seed)
    state, x = regularized_random_state(g), 2 * torch.randn(n, 3, 32, 32, generator=g) + 0.5
    load_state(model, state, what="MyNetRegularized()")
    assert_equal(outputs(model, x, what="MyNetRegularized()"), outputs(model, x, what="MyNetRegularized()"),
                 what="MyNetRegularized logits of two eval-mode passes over the same batch (is dropout still active in eval mode?)")
    assert_computes(model, eval_definition, state, [x],
                    what=f"MyNetRegularized logits in eval mode with random weights and running statistics, batch of {n}")


@points(2, part="model")
@settings(max_examples=3)
@given(seed=st.integers(0, 10**6))
@example(seed=2)
def test_regularized_train_forward_with_dropout(student, seed):
    """MyNetRegularized in train mode: batch statistics in the batch norms, Dropout(0.5) after the conv stack and after fc1 (same seed, same masks)."""
    model = student.model.MyNetRegularized()
    regularized_state(model)
    g = torch.Generator().manual_seed(seed)
    state = regularized_random_state(g)
    x = 2 * torch.randn(6, 3, 32, 32, generator=g) + 0.5
    assert_computes(model, eval_definition, state, [x[:2]], what="MyNetRegularized logits in eval mode")
    got = student.ship(model_support).seeded_forward(model, x, seed, True)
    assert isinstance(got, torch.Tensor), "MyNetRegularized()(x) did not give a tensor"
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        want = regularized({k: v.clone() for k, v in state.items()}, x, train=True)
    assert_close(got, want, rtol=1e-4, atol=1e-4,
                 what=f"MyNetRegularized logits in train mode after torch.manual_seed({seed}) "
                 "(batch statistics, dropout p=0.5 after flatten and after fc1's ReLU)")


@points(1, part="model")
def test_regularized_batchnorm_running_statistics(student):
    """MyNetRegularized: a train-mode pass updates bn1..bn3's running statistics from the conv outputs (momentum 0.1)."""
    model = student.model.MyNetRegularized()
    regularized_state(model)
    g = torch.Generator().manual_seed(4)
    state = regularized_random_state(g)
    x = 2 * torch.randn(8, 3, 32, 32, generator=g) + 0.5
    assert_computes(model, eval_definition, state, [x[:2]], what="MyNetRegularized logits in eval mode")
    student.ship(model_support).seeded_forward(model, x, 0, True)
    want = {k: v.clone() for k, v in state.items()}
    with torch.random.fork_rng(devices=[]):
        regularized(want, x, train=True)
    got = state_of(model, what="MyNetRegularized()")
    for i in range(1, 4):
        for kind in ("running_mean", "running_var"):
            key = f"bn{i}.{kind}"
            assert_close(got[key], want[key], rtol=1e-4, atol=1e-5,
                         what=f"{key} after one train-mode pass (batch norm right after conv{i}, before the ReLU)")


@points(1, part="model")
def test_regularized_parameters_are_learnable(student):
    """MyNetRegularized: every weight and batch-norm scale and shift takes an exact SGD step (running statistics are buffers)."""
    model = student.model.MyNetRegularized()
    regularized_state(model)
    g = torch.Generator().manual_seed(5)
    state = regularized_random_state(g)
    x = torch.randn(2, 3, 32, 32, generator=g)
    assert_computes(model, eval_definition, state, [x], what="MyNetRegularized logits in eval mode")
    model.eval()
    after = assert_sgd_steps(student, model, eval_definition, [(x, torch.randn(2, 10, generator=g))], lr=0.1,
                             probes=[torch.randn(2, 3, 32, 32, generator=g)], frozen=BUFFERS, what="MyNetRegularized")
    assert_equal(sorted(after), sorted(REGULARIZED_SHAPES), what="the tensors of MyNetRegularized after an SGD step")
