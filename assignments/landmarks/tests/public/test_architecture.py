"""Public tests of `model.target.Target` and `model.source.Source`: sizes, shapes and zero biases."""

import torch
from hypothesis import example, given
from hypothesis import strategies as st

from grader.testing import assert_equal, points

# Output shapes of the named layers for one 3×64×64 image (from the handout's table).
CONV_SHAPES = {
    "conv1": [1, 16, 32, 32],  # 64 → (64 + 2·2 − 5) // 2 + 1 = 32, then pooled to 16
    "conv2": [1, 64, 8, 8],  # 16 → 8, then pooled to 4
    "conv3": [1, 8, 2, 2],  # 4 → 2; flattened: 8·2·2 = 32
}


def _check_shapes(student, model, fc_name: str, outputs: int) -> None:
    h = student.harness
    shapes = h.layer_output_shapes(model, torch.zeros(1, 3, 64, 64))
    expected = {**CONV_SHAPES, fc_name: [1, outputs]}
    for name, shape in expected.items():
        assert name in shapes, (
            f"no layer named `{name}` ran in forward (layers that ran: {sorted(shapes)})"
        )
        assert_equal(shapes[name], shape, what=f"output shape of `{name}` for one 3×64×64 image")


@points(2, part="architecture")
def test_target_parameter_count(student):
    """Target.__init__: 39,754 learnable parameters."""
    model = student.model.target.Target()
    count = student.harness.count_parameters(model)
    assert count, "TODO not done yet: Target.__init__ (the model has no layers)"
    assert_equal(count, 39754, what="learnable parameters of Target")


@points(2, part="architecture")
def test_source_parameter_count(student):
    """Source.__init__: 39,952 learnable parameters."""
    model = student.model.source.Source()
    count = student.harness.count_parameters(model)
    assert count, "TODO not done yet: Source.__init__ (the model has no layers)"
    assert_equal(count, 39952, what="learnable parameters of Source")


@points(3, part="architecture")
def test_target_layer_shapes(student):
    """Target.__init__ and forward: output shapes of conv1, conv2, conv3 and fc_1 (forward hooks)."""
    _check_shapes(student, student.model.target.Target(), "fc_1", 2)


@points(2, part="architecture")
def test_source_layer_shapes(student):
    """Source.__init__ and forward: output shapes of conv1, conv2, conv3 and fc1 (forward hooks)."""
    _check_shapes(student, student.model.source.Source(), "fc1", 8)


@points(2, part="architecture")
@given(n=st.integers(1, 9))
@example(n=3)
def test_output_shape_for_any_batch_size(student, n):
    """Target.forward gives N×2 logits and Source.forward N×8, for any batch size N."""
    x = torch.randn(n, 3, 64, 64)
    h = student.harness
    out = h.forward(student.model.target.Target(), x)
    assert_equal(tuple(out.shape), (n, 2), what=f"shape of Target()(x) for a batch of {n}")
    out = h.forward(student.model.source.Source(), x)
    assert_equal(tuple(out.shape), (n, 8), what=f"shape of Source()(x) for a batch of {n}")


@points(2, part="architecture")
def test_biases_start_at_zero(student):
    """Target.init_weights and Source.init_weights: every bias is exactly 0."""
    for cls_name, cls in (("Target", student.model.target.Target), ("Source", student.model.source.Source)):
        params = student.harness.parameters(cls())
        biases = {k: v for k, v in params.items() if k.endswith("bias")}
        assert biases, f"TODO not done yet: {cls_name}.__init__ (the model has no bias parameters)"
        for name, b in biases.items():
            assert_equal(b, torch.zeros_like(b), what=f"{name} after init_weights")
