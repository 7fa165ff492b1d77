"""Hidden tests of `Target` and `Source`: initialisation statistics and the forward pass."""

import math

import torch
import torch.nn.functional as F
from hypothesis import example, given, settings
from hypothesis import strategies as st

from grader.checks.modules import (
    assert_computes,
    assert_init_statistics,
    assert_shapes,
    random_state,
    state_of,
    verified_state,
)
from grader.testing import points

# σ of each weight tensor: conv 1/√(5·5·C_in), fully connected 1/√fan_in.
SIGMA = {
    "conv1.weight": 1 / math.sqrt(5 * 5 * 3),
    "conv2.weight": 1 / math.sqrt(5 * 5 * 16),
    "conv3.weight": 1 / math.sqrt(5 * 5 * 64),
}
FC_SIGMA = 1 / math.sqrt(32)
INITS = 8  # models built per class; their weights are pooled per layer (tolerances from the count)


def _check_init(student, cls, cls_name: str, fc_name: str) -> None:
    pooled: dict[str, list[torch.Tensor]] = {}
    g = torch.Generator().manual_seed(0)
    for _ in range(INITS):
        # The model's own tensors, by value: each layer computes with them.
        params = verified_state(student, cls(), generator=g, what=cls_name)
        if not params:
            raise AssertionError(f"TODO not done yet: {cls_name}.__init__ (the model has no layers)")
        for name, value in params.items():
            pooled.setdefault(name, []).append(value)
    assert_init_statistics(pooled, {**SIGMA, f"{fc_name}.weight": FC_SIGMA}, what=cls_name)


def _definition_forward(p: dict[str, torch.Tensor], x: torch.Tensor, fc_name: str) -> torch.Tensor:
    """The handout's network, written with torch.nn.functional."""
    x = F.max_pool2d(
        F.relu(F.conv2d(x, p["conv1.weight"], p["conv1.bias"], stride=2, padding=2)), 2, 2
    )
    x = F.max_pool2d(
        F.relu(F.conv2d(x, p["conv2.weight"], p["conv2.bias"], stride=2, padding=2)), 2, 2
    )
    x = F.relu(F.conv2d(x, p["conv3.weight"], p["conv3.bias"], stride=2, padding=2))
    return F.linear(torch.flatten(x, 1), p[f"{fc_name}.weight"], p[f"{fc_name}.bias"])


def _shapes(fc_name: str, outputs: int) -> dict[str, tuple[int, ...]]:
    convs = {"conv1": (16, 3, 5, 5), "conv2": (64, 16, 5, 5), "conv3": (8, 64, 5, 5)}
    shapes = {f"{k}.weight": w for k, w in convs.items()} | {f"{k}.bias": (w[0],) for k, w in convs.items()}
    return shapes | {f"{fc_name}.weight": (outputs, 32), f"{fc_name}.bias": (outputs,)}


def _check_forward(student, cls, cls_name: str, fc_name: str, outputs: int, n: int) -> None:
    """Load random tensors of the handout's shapes (σ as in init_weights, non-zero biases, so
    that a layer applied in the wrong place cannot hide behind zeros) and compare the logits
    on random images with the definition computed here with the same tensors."""
    g = torch.Generator().manual_seed(n)
    shapes = _shapes(fc_name, outputs)
    scale = {k: SIGMA.get(k, FC_SIGMA if k.endswith("weight") else 0.1) for k in shapes}
    state = random_state(shapes, generator=g, scale=scale)
    x = torch.randn(n, 3, 64, 64, generator=g)
    model = cls()
    own = state_of(model, what=f"{cls_name}()")
    if not own:
        raise AssertionError(f"TODO not done yet: {cls_name}.__init__ (the model has no layers)")
    assert_shapes(own, shapes, what=f"{cls_name}()")
    assert_computes(
        model,
        lambda p, x: _definition_forward(p, x, fc_name),
        state,
        [x],
        what=f"{fc_name} logits of the network with random weights",
    )


@points(3, part="architecture")
def test_weights_initialised_with_specified_sigma(student):
    """Target.init_weights and Source.init_weights: conv weights N(0, 1/√(5·5·C_in)), fc weights N(0, 1/√fan_in)."""
    _check_init(student, student.model.target.Target, "Target", "fc_1")
    _check_init(student, student.model.source.Source, "Source", "fc1")


@points(3, part="architecture")
@settings(max_examples=4)
@given(n=st.integers(1, 6))
@example(n=2)
def test_target_forward_matches_definition(student, n):
    """Target.forward: conv1 → ReLU → pool → conv2 → ReLU → pool → conv3 → ReLU → flatten → fc_1."""
    _check_forward(student, student.model.target.Target, "Target", "fc_1", 2, n)


@points(1, part="architecture")
@settings(max_examples=3)
@given(n=st.integers(1, 6))
@example(n=2)
def test_source_forward_matches_definition(student, n):
    """Source.forward: the Target's conv stack, then flatten → fc1 with 8 outputs."""
    _check_forward(student, student.model.source.Source, "Source", "fc1", 8, n)
