"""Public tests of `model.target.Target` and `model.source.Source`: sizes, layers and zero biases.

Every fact is checked by behaviour: the model's tensors come back by value and its layers must
compute with them (and with tensors this test chooses) what the handout's table says.
"""

import torch
from hypothesis import example, given
from hypothesis import strategies as st

from grader.checks.modules import (
    assert_computes,
    conv2d,
    count_elements,
    linear,
    outputs,
    random_state,
    state_of,
    submodule,
    verified_state,
)
from grader.testing import assert_equal, points

# The named layers, from the handout's table: each conv is 5×5 with stride 2 and padding 2, and
# its input for one 3×64×64 image (conv1 sees the image; conv2 and conv3 the pooled maps).
CONVS = {
    "conv1": ((16, 3, 5, 5), (3, 64, 64)),  # 64 → 32, then pooled to 16
    "conv2": ((64, 16, 5, 5), (16, 16, 16)),  # 16 → 8, then pooled to 4
    "conv3": ((8, 64, 5, 5), (64, 4, 4)),  # 4 → 2; flattened: 8·2·2 = 32
}


def _state(model, cls_name: str) -> dict:
    state = state_of(model, what=f"{cls_name}()")
    if not state:
        raise AssertionError(f"TODO not done yet: {cls_name}.__init__ (the model has no layers)")
    return state


def _check_count(student, model, cls_name: str, expected: int) -> None:
    state = _state(model, cls_name)
    assert_equal(count_elements(state), expected, what=f"learnable parameters of {cls_name}")
    # The counted tensors must be the layers' own, and learnable: each layer computes with them
    # and takes an exact SGD step.
    verified_state(student, model, generator=torch.Generator().manual_seed(0), trainable=True, what=cls_name)


def _check_layers(student, model, cls_name: str, fc_name: str, outputs_: int) -> None:
    state = _state(model, cls_name)
    g = torch.Generator().manual_seed(1)
    layers = {
        **{name: (conv2d(stride=2, padding=2), w, x) for name, (w, x) in CONVS.items()},
        fc_name: (linear(), (outputs_, 32), (32,)),
    }
    for name, (definition, weight_shape, in_shape) in layers.items():
        assert f"{name}.weight" in state, f"no layer named `{name}` with a weight (tensors: {sorted(state)})"
        layer = submodule(model, name, what=cls_name)
        shapes = {"weight": weight_shape, "bias": (weight_shape[0],)}
        got = {k: tuple(v.shape) for k, v in state_of(layer, what=f"{cls_name}.{name}").items()}
        assert_equal(got, shapes, what=f"shapes of the tensors of `{name}`")
        assert_computes(
            layer,
            definition,
            random_state(shapes, generator=g, scale=0.2),
            [torch.randn(1, *in_shape, generator=g)],
            what=f"output of `{name}` with random weights",
        )


@points(2, part="architecture")
def test_target_parameter_count(student):
    """Target.__init__: 39,754 learnable parameters."""
    _check_count(student, student.model.target.Target(), "Target", 39754)


@points(2, part="architecture")
def test_source_parameter_count(student):
    """Source.__init__: 39,952 learnable parameters."""
    _check_count(student, student.model.source.Source(), "Source", 39952)


@points(3, part="architecture")
def test_target_layer_shapes(student):
    """Target.__init__: conv1, conv2, conv3 and fc_1 have the handout's sizes, strides and padding (output shapes)."""
    _check_layers(student, student.model.target.Target(), "Target", "fc_1", 2)


@points(2, part="architecture")
def test_source_layer_shapes(student):
    """Source.__init__: conv1, conv2, conv3 and fc1 have the handout's sizes, strides and padding (output shapes)."""
    _check_layers(student, student.model.source.Source(), "Source", "fc1", 8)


@points(2, part="architecture")
@given(n=st.integers(1, 9))
@example(n=3)
def test_output_shape_for_any_batch_size(student, n):
    """Target.forward gives N×2 logits and Source.forward N×8, for any batch size N."""
    x = torch.randn(n, 3, 64, 64)
    out = outputs(student.model.target.Target(), x, what="Target()")
    assert_equal(tuple(out.shape), (n, 2), what=f"shape of Target()(x) for a batch of {n}")
    out = outputs(student.model.source.Source(), x, what="Source()")
    assert_equal(tuple(out.shape), (n, 8), what=f"shape of Source()(x) for a batch of {n}")


@points(2, part="architecture")
def test_biases_start_at_zero(student):
    """Target.init_weights and Source.init_weights: every bias is exactly 0."""
    for cls_name, cls in (("Target", student.model.target.Target), ("Source", student.model.source.Source)):
        model = cls()
        _state(model, cls_name)
        # The model's own tensors: each layer computes with them.
        params = verified_state(student, model, generator=torch.Generator().manual_seed(2), what=cls_name)
        biases = {k: v for k, v in params.items() if k.endswith("bias")}
        assert biases, f"TODO not done yet: {cls_name}.__init__ (the model has no bias parameters)"
        for name, b in biases.items():
            assert_equal(b, torch.zeros_like(b), what=f"{name} after init_weights")
