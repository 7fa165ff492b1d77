"""Public tests of `models.LeNetStyle` and `models.NiNStyle`: output shapes, dropout and batch
normalisation in LeNetStyle, global average pooling (and no linear layer) in NiNStyle.

Each fact is decided by behaviour: logits, tensors and outputs come back by value and are
compared here; what the child reports about layer types only words a failure message.
"""

import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from grader.checks.modules import (
    layer_definition,
    load_state,
    outputs,
    report_hint,
    state_of,
    submodule,
)
from grader.testing import assert_close, assert_equal, points

from . import cnn_probes


def cnn_probes_in(student):
    """The probes, loaded in the child."""
    return student.ship(cnn_probes)


def _types_hint(student, model):
    return report_hint(
        lambda: student.harness.module_types(model),
        lambda types: f" (your model reports the layers {sorted(set(types.values()))})",
    )


def own_state(model, what: str) -> dict:
    """The model's tensors by value; a clear message for an untouched template."""
    state = state_of(model, what=what)
    if not state:
        raise AssertionError(f"TODO not done yet: {what} has no layers")
    return state


def assert_logits_are_spatial_mean(student, model, x: torch.Tensor, what: str) -> None:
    """The logits equal the spatial mean of the last convolution's output (its own computation)."""
    calls = cnn_probes_in(student).conv_calls(model, x)
    if not calls:
        raise AssertionError(f"{what}: no nn.Conv2d layer ran during the forward pass")
    name, conv_in, conv_out = calls[-1]
    layer = submodule(model, name, what=what)
    own = state_of(layer, what=f"{what}.{name}")
    definition, _ = layer_definition(layer, own, what=f"{what}.{name}")
    with torch.no_grad():
        expected_out = definition(own, conv_in)
    assert_close(conv_out, expected_out, rtol=1e-4, atol=1e-5,
                 what=f"output of the last convolution `{name}` computed with its own weights")
    logits = outputs(model, x, what=what)
    means = [conv_out.mean(dim=(2, 3)), torch.relu(conv_out).mean(dim=(2, 3))]
    if any(m.shape == logits.shape and torch.allclose(logits, m, rtol=1e-4, atol=1e-5) for m in means):
        return
    assert_equal(tuple(logits.shape), tuple(means[0].shape),
                 what=f"shape of the logits: N × the channels of the last convolution `{name}`")
    assert_close(logits, means[0], rtol=1e-4, atol=1e-5,
                 what=f"{what} logits compared with the spatial mean of the last convolution's output (`{name}`)")


@points(1, part="architectures")
@settings(max_examples=8)
@given(n=st.integers(1, 8))
@example(n=1)
def test_lenet_output_shape_for_any_batch_size(student, n):
    """LeNetStyle() maps a batch of N 3×32×32 images to N×10 logits."""
    model = student.models.LeNetStyle()
    own_state(model, "LeNetStyle()")
    out = outputs(model, torch.randn(n, 3, 32, 32), what="LeNetStyle()")
    assert_equal(tuple(out.shape), (n, 10), what=f"shape of LeNetStyle()(x) for a batch of {n}")


@points(1, part="architectures")
@settings(max_examples=8)
@given(n=st.integers(1, 8))
@example(n=1)
def test_nin_output_shape_for_any_batch_size(student, n):
    """NiNStyle() maps a batch of N 3×32×32 images to N×10 logits."""
    model = student.models.NiNStyle()
    own_state(model, "NiNStyle()")
    out = outputs(model, torch.randn(n, 3, 32, 32), what="NiNStyle()")
    assert_equal(tuple(out.shape), (n, 10), what=f"shape of NiNStyle()(x) for a batch of {n}")


@points(1, part="architectures")
def test_lenet_dropout_is_active_in_training_only(student):
    """LeNetStyle has dropout: in train mode two passes over the same images differ; in eval mode they are identical."""
    model = student.models.LeNetStyle()
    own_state(model, "LeNetStyle()")
    x = torch.randn(8, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    model.train()
    a, b = model(x), model(x)
    assert isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor), "LeNetStyle()(x) did not give a tensor"
    assert not torch.equal(a, b), (
        "in train mode, two forward passes over the same batch gave identical logits: no dropout is active"
        + _types_hint(student, model)()
    )
    model.eval()
    c, d = model(x), model(x)
    assert_equal(c, d, what="LeNetStyle logits of two forward passes over the same batch in eval mode")


@points(1, part="architectures")
def test_lenet_batchnorm_uses_running_statistics(student):
    """LeNetStyle has batch normalisation: a train-mode pass updates its running statistics, and eval-mode logits depend on them."""
    model = student.models.LeNetStyle()
    before = own_state(model, "LeNetStyle()")
    keys = [k for k in before if k.endswith("running_mean") or k.endswith("running_var")]
    assert keys, (
        "LeNetStyle has no batch normalisation: its state_dict holds no running statistics"
        + _types_hint(student, model)()
    )
    g = torch.Generator().manual_seed(1)
    x = 2 * torch.randn(16, 3, 32, 32, generator=g) + 1
    model.train()
    model(x)
    after = state_of(model, what="LeNetStyle()")
    assert any(not torch.equal(before[k], after[k]) for k in keys), (
        "a forward pass in train mode left the running statistics of the batch norm unchanged"
    )
    probe = torch.randn(4, 3, 32, 32, generator=g)
    base = outputs(model, probe, what="LeNetStyle()")
    shifted = dict(after)
    for k in keys:
        shifted[k] = after[k] + 1.0 if k.endswith("running_mean") else after[k] * 4.0
    load_state(model, shifted, what="LeNetStyle()")
    moved = outputs(model, probe, what="LeNetStyle()")
    assert not torch.allclose(base, moved, rtol=1e-5, atol=1e-6), (
        "eval-mode logits did not change when the batch norm's running statistics changed: "
        "they are not used in eval mode"
    )


@points(1, part="architectures")
def test_nin_has_no_linear_layer(student):
    """NiNStyle has no nn.Linear: none of its tensors is a 2-D weight matrix."""
    model = student.models.NiNStyle()
    state = own_state(model, "NiNStyle()")
    matrices = sorted(k for k, v in state.items() if v.dim() == 2)
    assert not matrices, (
        f"NiNStyle has weight matrices {matrices}: a linear (fully connected) layer; "
        "the last NiN block should give one channel per class instead"
    )
    assert any(v.dim() == 4 for v in state.values()), "NiNStyle has no convolution weights"


@points(1, part="architectures")
def test_nin_logits_are_the_spatial_mean_of_the_last_convolution(student):
    """NiNStyle ends with global average pooling: its logits are the mean over H×W of its last convolution's output."""
    model = student.models.NiNStyle()
    own_state(model, "NiNStyle()")
    x = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    assert_logits_are_spatial_mean(student, model, x, "NiNStyle()")
