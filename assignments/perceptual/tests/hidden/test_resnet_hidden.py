"""Hidden tests of `resnet36`: the block with another activation and random shapes, ResNet36's
tensors and parameter count for small configurations, any input size, and `widen` (rounding,
the model left as it is, fresh weights)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from grader.checks.modules import outputs, state_of
from grader.testing import assert_equal, points

from ..public import probe_nets
from ..public.test_resnet import (
    BUFFERS,
    assert_block_computes,
    assert_same_shapes,
    parameter_count,
    resnet_shapes,
    shapes_of,
)

WIDTHS = st.tuples(*[st.integers(1, 6)] * 4)
BLOCKS = st.tuples(*[st.integers(1, 2)] * 4)


def small_state(student, num_classes, widths, blocks) -> tuple:
    """ResNet36(num_classes, widths, blocks) in the child and its tensors by value."""
    model = student.resnet36.ResNet36(num_classes, widths=widths, blocks=blocks)
    state = state_of(model, what=f"ResNet36({num_classes}, widths={widths}, blocks={blocks})")
    if not state:
        raise AssertionError("TODO not done yet: ResNet36.__init__ (the model has no tensors)")
    return model, state


@points(3, part="resnet")
@settings(max_examples=6)
@given(num_classes=st.integers(1, 6), widths=WIDTHS, blocks=BLOCKS)
@example(num_classes=10, widths=(16, 32, 48, 64), blocks=(1, 2, 2, 1))
def test_resnet36_tensors_and_parameter_count_for_small_configurations(student, num_classes, widths, blocks):
    """ResNet36(num_classes, widths, blocks): every tensor of the handout's design and its parameter count (e.g. ResNet36(10, (16, 32, 48, 64), (1, 2, 2, 1)))."""
    _, state = small_state(student, num_classes, widths, blocks)
    what = f"ResNet36({num_classes}, widths={widths}, blocks={blocks})"
    assert_same_shapes(shapes_of(state), resnet_shapes(num_classes, widths, blocks), what=what)
    learnable = sum(int(v.numel()) for k, v in state.items() if not k.endswith(BUFFERS))
    assert_equal(learnable, parameter_count(num_classes, widths, blocks), what=f"learnable parameters of {what}")


@points(1, part="resnet")
@settings(max_examples=5)
@given(n=st.integers(1, 3), h=st.integers(1, 40), w=st.integers(1, 40))
@example(n=2, h=64, w=48)
def test_resnet36_forward_any_input_size(student, n, h, w):
    """ResNet36(5, widths=(2, 3, 4, 5), blocks=(1, 1, 1, 1)) in eval mode: N×5 logits for any N×3×H×W input (global average pooling)."""
    model = student.resnet36.ResNet36(5, widths=(2, 3, 4, 5), blocks=(1, 1, 1, 1))
    out = outputs(model, torch.randn(n, 3, h, w), what="ResNet36(5, widths=(2, 3, 4, 5), blocks=(1, 1, 1, 1))")
    assert_equal(tuple(out.shape), (n, 5), what=f"shape of the logits for an input of shape {(n, 3, h, w)}")


@points(2, part="resnet")
@settings(max_examples=6)
@given(widths=st.tuples(*[st.integers(1, 9)] * 4), tenths=st.integers(5, 30), blocks=BLOCKS)
@example(widths=(5, 7, 9, 3), tenths=13, blocks=(1, 1, 1, 1))
def test_widen_rounds_every_width(student, widths, tenths, blocks):
    """widen(model, factor): every stage width becomes round(width · factor), classes and blocks kept, and the model passed in is left as it is."""
    factor = tenths / 10
    new = tuple(round(w * factor) for w in widths)
    assume(all(n >= 1 for n in new) and all(abs(w * factor - math.floor(w * factor) - 0.5) > 1e-6 for w in widths))
    model, before = small_state(student, 3, widths, blocks)
    wide = student.resnet36.widen(model, factor)
    assert_same_shapes(shapes_of(state_of(wide, what=f"widen(model, {factor})")), resnet_shapes(3, new, blocks),
                       what=f"widen(ResNet36(3, widths={widths}, blocks={blocks}), {factor}) (widths {new})")
    after = state_of(model, what="the model after widen")
    assert_equal(sorted(after), sorted(before), what="tensor names of the model passed to widen, afterwards")
    for k in before:
        assert torch.equal(after[k], before[k]), f"widen changed {k} of the model passed in"


@points(1, part="resnet")
def test_widen_gives_fresh_weights_that_run(student):
    """widen: two widened copies start from different random weights (fresh, not zeros or copies), and the widened model trains (a step in train mode, then finite logits)."""
    model, _ = small_state(student, 4, (3, 4, 5, 6), (1, 1, 1, 1))
    a = state_of(student.resnet36.widen(model, 2), what="widen(model, 2)")
    b = state_of(student.resnet36.widen(model, 2), what="widen(model, 2)")
    convs = [k for k, v in a.items() if v.dim() == 4]
    assert convs, "widen(model, 2) has no convolution"
    for k in convs:
        assert float(a[k].std()) > 0, f"{k} of widen(model, 2) is constant: not freshly initialised"
        assert k in b and not torch.equal(a[k], b[k]), f"{k} is identical in two widened models: not freshly initialised"
    wide = student.resnet36.widen(model, 2)
    student.harness.sgd_step(wide, torch.randn(4, 3, 16, 16), torch.randn(4, 4), 0.01)
    out = outputs(wide, torch.randn(2, 3, 16, 16), what="widen(model, 2) after one step")
    assert_equal(tuple(out.shape), (2, 4), what="shape of the widened model's logits")
    assert bool(torch.isfinite(out).all()), "the widened model gives non-finite logits"


@points(2, part="resnet")
def test_block_uses_the_activation_it_is_given(student):
    """ResidualBlock3(..., activation=nn.Softsign): the block computes with that activation everywhere the handout puts one."""
    softsign = student.ship(probe_nets).Softsign
    for seed, (i, o, s) in enumerate([(4, 4, 1), (3, 5, 2), (4, 4, 2), (2, 5, 1)]):
        assert_block_computes(student, i, o, s, seed=10 + seed, activation=softsign, act=F.softsign)


@points(1, part="resnet")
@settings(max_examples=4)
@given(in_ch=st.integers(1, 5), out_ch=st.integers(1, 5), stride=st.sampled_from([1, 2]), seed=st.integers(0, 100),
       size=st.tuples(st.integers(3, 8), st.integers(3, 8)))
@example(in_ch=5, out_ch=2, stride=2, seed=3, size=(8, 5))
def test_block_computes_for_random_shapes(student, in_ch, out_ch, stride, seed, size):
    """ResidualBlock3 with random tensors computes the handout's block for random widths, strides and input sizes."""
    assert_block_computes(student, in_ch, out_ch, stride, seed=seed, size=size)
