"""Public tests of `model.Net` (Appendix A): sizes, layers, output shape and zero biases.

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

# The handout's table: each conv is 5×5, stride 2, padding 2; its input for one 3×32×32 image.
CONVS = {
    "conv1": ((16, 3, 5, 5), (3, 32, 32)),  # → 16×16×16
    "conv2": ((32, 16, 5, 5), (16, 16, 16)),  # → 32×8×8
    "conv3": ((64, 32, 5, 5), (32, 8, 8)),  # → 64×4×4
    "conv4": ((128, 64, 5, 5), (64, 4, 4)),  # → 128×2×2, flattened 512
}
FCS = {"fc1": ((64, 512), (512,)), "fc2": ((5, 64), (64,))}
PARAMETERS = 303_397


def net_state(model) -> dict:
    """The model's tensors by value; a clear message for an untouched template."""
    state = state_of(model, what="Net()")
    if not state:
        raise AssertionError("TODO not done yet: Net.__init__ (the model has no layers)")
    return state


@points(3, part="architecture")
def test_parameter_count(student):
    """Net.__init__: 303,397 learnable parameters, each used by its layer."""
    model = student.model.Net()
    assert_equal(count_elements(net_state(model)), PARAMETERS, what="learnable parameters of Net")
    verified_state(student, model, generator=torch.Generator().manual_seed(0), trainable=True, what="Net")


@points(3, part="architecture")
def test_layer_shapes(student):
    """Net.__init__: conv1..conv4 and fc1, fc2 have the table's sizes, kernel, stride and padding."""
    model = student.model.Net()
    state = net_state(model)
    g = torch.Generator().manual_seed(1)
    layers = {
        **{name: (conv2d(stride=2, padding=2), w, x) for name, (w, x) in CONVS.items()},
        **{name: (linear(), w, x) for name, (w, x) in FCS.items()},
    }
    for name, (definition, weight_shape, in_shape) in layers.items():
        assert f"{name}.weight" in state, f"no layer named `{name}` with a weight (tensors: {sorted(state)})"
        shapes = {"weight": weight_shape, "bias": (weight_shape[0],)}
        layer = submodule(model, name, what="Net")
        got = {k: tuple(v.shape) for k, v in state_of(layer, what=f"Net.{name}").items()}
        assert_equal(got, shapes, what=f"shapes of the tensors of `{name}`")
        assert_computes(
            layer,
            definition,
            random_state(shapes, generator=g, scale=0.2),
            [torch.randn(1, *in_shape, generator=g)],
            what=f"output of `{name}` with random weights",
        )


@points(2, part="architecture")
@given(n=st.integers(1, 9))
@example(n=3)
def test_output_shape_for_any_batch_size(student, n):
    """Net.forward gives N×5 logits for a batch of N 3×32×32 images."""
    out = outputs(student.model.Net(), torch.randn(n, 3, 32, 32), what="Net()")
    assert_equal(tuple(out.shape), (n, 5), what=f"shape of Net()(x) for a batch of {n}")


@points(1, part="architecture")
def test_biases_start_at_zero(student):
    """Net.init_weights: every bias is exactly 0."""
    model = student.model.Net()
    net_state(model)
    params = verified_state(student, model, generator=torch.Generator().manual_seed(2), what="Net")
    for name, b in params.items():
        if name.endswith("bias"):
            assert_equal(b, torch.zeros_like(b), what=f"{name} after init_weights")
