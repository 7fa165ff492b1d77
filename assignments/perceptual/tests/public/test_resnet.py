"""Public tests of `resnet36`: ResidualBlock3 shapes, shortcut and computation, ResNet36's
parameter count, and `widen`.

Your tensors come back by value and are counted and measured here. Your block is checked by
behaviour without relying on your attribute names: the grader loads random tensors into it
and its output must be what the handout's block computes under some reading of those tensors
as conv1, bn1, conv2, bn2, conv3, bn3 (and the projection's conv and BN).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from hypothesis import example, given, settings
from hypothesis import strategies as st

from grader.checks.modules import load_state, outputs, state_of
from grader.testing import assert_close, assert_equal, points

Shape = tuple[int, ...]
BN_SUFFIXES = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


# ----------------------------------------------------------------------------- the handout's shapes


def bn_shapes(c: int, buffers: bool = True) -> list[Shape]:
    """The state_dict shapes of one BatchNorm2d(c) (only its weight and bias without `buffers`)."""
    return [(c,), (c,), (c,), (c,), ()] if buffers else [(c,), (c,)]


def needs_projection(in_ch: int, out_ch: int, stride: int) -> bool:
    """The handout's rule: a projection only when the shape changes."""
    return stride != 1 or in_ch != out_ch


def block_shapes(in_ch: int, out_ch: int, stride: int, buffers: bool = True) -> list[Shape]:
    """Every state_dict tensor shape of ResidualBlock3(in_ch, out_ch, stride), sorted
    (parameters only without `buffers`)."""
    shapes = [(out_ch, in_ch, 3, 3), (out_ch, out_ch, 3, 3), (out_ch, out_ch, 3, 3)] + 3 * bn_shapes(out_ch, buffers)
    if needs_projection(in_ch, out_ch, stride):
        shapes += [(out_ch, in_ch, 1, 1), *bn_shapes(out_ch, buffers)]
    return sorted(shapes)


def resnet_shapes(num_classes: int, widths: Sequence[int], blocks: Sequence[int], buffers: bool = True) -> list[Shape]:
    """Every state_dict tensor shape of ResNet36(num_classes, widths, blocks), sorted
    (parameters only without `buffers`)."""
    w0 = widths[0]
    shapes = [(w0, 3, 7, 7), *bn_shapes(w0, buffers), (w0, w0, 3, 3), *bn_shapes(w0, buffers)]
    in_ch = w0
    for i, (w, n) in enumerate(zip(widths, blocks, strict=True)):
        for j in range(n):
            shapes += block_shapes(in_ch, w, 2 if i > 0 and j == 0 else 1, buffers)
            in_ch = w
    return sorted([*shapes, (num_classes, in_ch), (num_classes,)])


def parameter_count(num_classes: int, widths: Sequence[int], blocks: Sequence[int]) -> int:
    """The number of learnable values of ResNet36(num_classes, widths, blocks)."""
    return sum(math.prod(s) for s in resnet_shapes(num_classes, widths, blocks, buffers=False))


def shapes_of(state: dict[str, torch.Tensor]) -> list[Shape]:
    """The sorted shapes of a state_dict's tensors."""
    return sorted(tuple(v.shape) for v in state.values())


def assert_same_shapes(got: list[Shape], want: list[Shape], *, what: str) -> None:
    """Two multisets of shapes are equal; the message shows what is missing and what is extra."""
    if got == want:
        return
    g, w = list(got), list(want)
    for s in want:
        if s in g:
            g.remove(s)
            w.remove(s)
    raise AssertionError(f"{what}: the tensors' shapes differ from the handout's; missing {w[:12]}, unexpected {g[:12]} ({len(got)} tensors, expected {len(want)})")


def block_state(student: Any, in_ch: int, out_ch: int, stride: int, activation: Any = None) -> tuple[Any, dict]:
    """A ResidualBlock3 in the child and its tensors by value (a clear message for a TODO)."""
    args = (in_ch, out_ch, stride) if activation is None else (in_ch, out_ch, stride, activation)
    block = student.resnet36.ResidualBlock3(*args)
    state = state_of(block, what=f"ResidualBlock3{args[:3]}")
    if not state:
        raise AssertionError("TODO not done yet: ResidualBlock3.__init__ (the block has no tensors)")
    return block, state


# ----------------------------------------------------------------------------- the block's computation


def split_block(state: dict[str, torch.Tensor], what: str) -> tuple[list[str], list[str], list[str]]:
    """(3×3 conv weights, 1×1 conv weights, BN prefixes) of a block's state, by PyTorch's names."""
    bns = sorted(k[: -len(".running_mean")] for k in state if k.endswith(".running_mean"))
    bn_keys = {f"{p}.{s}" for p in bns for s in BN_SUFFIXES}
    convs = [k for k, v in state.items() if k not in bn_keys and v.dim() == 4]
    rest = sorted(set(state) - bn_keys - set(convs))
    if rest:
        raise AssertionError(f"{what}: tensors that are neither a bias-free conv's weight nor batch norm's: {rest}")
    k3 = sorted(k for k in convs if tuple(state[k].shape[2:]) == (3, 3))
    k1 = sorted(k for k in convs if tuple(state[k].shape[2:]) == (1, 1))
    if len(k3) + len(k1) != len(convs):
        raise AssertionError(f"{what}: convolutions that are neither 3×3 nor 1×1: {sorted(set(convs) - set(k3) - set(k1))}")
    return k3, k1, bns


def random_block_state(state: dict[str, torch.Tensor], g: torch.Generator) -> dict[str, torch.Tensor]:
    """Grader-chosen tensors of the same names and shapes: He-scaled convs, BNs far from identity."""
    out = {}
    for k, v in state.items():
        if k.endswith("num_batches_tracked"):
            out[k] = v.clone()
        elif v.dim() == 4:
            out[k] = torch.randn(v.shape, generator=g) * math.sqrt(2.0 / (v.shape[1] * v.shape[2] * v.shape[3]))
        elif k.endswith("running_var") or k.endswith(".weight"):
            out[k] = 0.5 + torch.rand(v.shape, generator=g)
        else:  # bias, running_mean
            out[k] = 0.3 * torch.randn(v.shape, generator=g)
    return out


def block_definition(
    p: dict[str, torch.Tensor], x: torch.Tensor, roles: tuple, stride: int, act: Callable[[torch.Tensor], torch.Tensor]
) -> torch.Tensor:
    """The handout's block (eval mode) with tensors `p` read as `roles`."""
    c1, c2, c3, b1, b2, b3, pc, pb = roles

    def bn(prefix: str, t: torch.Tensor) -> torch.Tensor:
        return F.batch_norm(t, p[f"{prefix}.running_mean"], p[f"{prefix}.running_var"], p[f"{prefix}.weight"], p[f"{prefix}.bias"], False, 0.0, 1e-5)

    out = act(bn(b1, F.conv2d(x, p[c1], stride=stride, padding=1)))
    out = act(bn(b2, F.conv2d(out, p[c2], padding=1)))
    out = bn(b3, F.conv2d(out, p[c3], padding=1))
    shortcut = x if pc is None else bn(pb, F.conv2d(x, p[pc], stride=stride))
    return act(out + shortcut)


def readings(p: dict[str, torch.Tensor], k3: list[str], k1: list[str], bns: list[str], in_ch: int) -> list[tuple]:
    """Every way of reading the tensors as the handout's roles that the shapes allow."""
    out = []
    for c1 in k3:
        if p[c1].shape[1] != in_ch:
            continue
        for c2, c3 in itertools.permutations([k for k in k3 if k != c1]):
            for order in itertools.permutations(bns):
                pb = order[3] if k1 else None
                out.append((c1, c2, c3, order[0], order[1], order[2], k1[0] if k1 else None, pb))
    return out


def assert_block_computes(
    student: Any,
    in_ch: int,
    out_ch: int,
    stride: int,
    *,
    seed: int,
    size: tuple[int, int] = (7, 6),
    n: int = 2,
    activation: Any = None,
    act: Callable[[torch.Tensor], torch.Tensor] = F.relu,
) -> None:
    """The block, loaded with random tensors, computes the handout's block under some reading."""
    what = f"ResidualBlock3({in_ch}, {out_ch}, stride={stride})"
    block, state = block_state(student, in_ch, out_ch, stride, activation)
    k3, k1, bns = split_block(state, what)
    proj = needs_projection(in_ch, out_ch, stride)
    if (len(k3), len(k1), len(bns)) != (3, int(proj), 3 + int(proj)):
        raise AssertionError(
            f"{what}: expected three 3×3 convolutions, {int(proj)} 1×1 projection and {3 + int(proj)} batch norms "
            f"({'the shape changes' if proj else 'the shape does not change: identity shortcut'}); "
            f"it has {len(k3)}, {len(k1)} and {len(bns)}"
        )
    g = torch.Generator().manual_seed(seed)
    p = random_block_state(state, g)
    x = torch.randn(n, in_ch, *size, generator=g)
    load_state(block, p, what=what)
    got = outputs(block, x, what=what)
    want_shape = (n, out_ch, -(-size[0] // stride), -(-size[1] // stride))
    assert_equal(tuple(got.shape), want_shape, what=f"shape of {what}(x) for x of shape {tuple(x.shape)}")
    best = math.inf
    with torch.no_grad():
        for roles in readings(p, k3, k1, bns, in_ch):
            want = block_definition(p, x, roles, stride, act)
            diff = float((got.double() - want.double()).abs().max())
            if diff <= 1e-4 + 1e-4 * float(want.abs().max()):
                return
            best = min(best, diff)
    raise AssertionError(
        f"{what} in eval mode with the grader's tensors: no reading of its tensors as conv1 (stride) → BN → act → "
        f"conv2 → BN → act → conv3 → BN, plus the {'projection (1×1 conv, stride → BN)' if proj else 'identity'} "
        f"shortcut, then act after the sum, gives its output (closest: largest difference {best:.3g})"
    )


# ----------------------------------------------------------------------------- tests: the block

BLOCK_CASES = [(4, 4, 1), (3, 5, 1), (4, 4, 2), (3, 6, 2)]


@points(2, part="resnet")
@settings(max_examples=10)
@given(
    in_ch=st.integers(1, 6), out_ch=st.integers(1, 6), stride=st.sampled_from([1, 2]),
    n=st.integers(1, 3), h=st.integers(1, 9), w=st.integers(1, 9),
)  # fmt: skip
@example(in_ch=4, out_ch=4, stride=1, n=2, h=5, w=5)
@example(in_ch=3, out_ch=6, stride=2, n=1, h=7, w=4)
def test_block_output_shape(student, in_ch, out_ch, stride, n, h, w):
    """ResidualBlock3(in_ch, out_ch, stride): an N×in_ch×H×W input gives N×out_ch×⌈H/stride⌉×⌈W/stride⌉."""
    block = student.resnet36.ResidualBlock3(in_ch, out_ch, stride)
    out = outputs(block, torch.randn(n, in_ch, h, w), what=f"ResidualBlock3({in_ch}, {out_ch}, {stride})")
    assert_equal(tuple(out.shape), (n, out_ch, -(-h // stride), -(-w // stride)),
                 what=f"shape of ResidualBlock3({in_ch}, {out_ch}, stride={stride})(x) for x of shape {(n, in_ch, h, w)}")


@points(2, part="resnet")
def test_block_tensors_and_shortcut_only_when_needed(student):
    """ResidualBlock3: three bias-free 3×3 convs with batch norm; a 1×1 projection + BN only when the stride or the width changes."""
    for in_ch, out_ch, stride in BLOCK_CASES:
        _, state = block_state(student, in_ch, out_ch, stride)
        need = "a projection" if needs_projection(in_ch, out_ch, stride) else "an identity shortcut"
        assert_same_shapes(shapes_of(state), block_shapes(in_ch, out_ch, stride),
                           what=f"ResidualBlock3({in_ch}, {out_ch}, stride={stride}) (needs {need})")


@points(2, part="resnet")
def test_block_computes_the_handouts_block(student):
    """ResidualBlock3 with random tensors: conv1 (stride) → BN → ReLU → conv2 → BN → ReLU → conv3 → BN, plus the shortcut, then ReLU after the sum."""
    assert_block_computes(student, 4, 4, 1, seed=0)
    assert_block_computes(student, 3, 5, 2, seed=1)


# ----------------------------------------------------------------------------- tests: ResNet36 and widen

DEFAULT_CLASSES = 100
DEFAULT_WIDTHS = (64, 128, 256, 512)
DEFAULT_BLOCKS = (3, 3, 3, 2)


@points(2, part="resnet")
def test_resnet36_default_parameter_count(student):
    """ResNet36(100) with the default widths and blocks: the handout's parameter count, 35 convolutions of 3×3 or larger + 1 linear layer (36 weighted layers)."""
    model = student.resnet36.ResNet36(DEFAULT_CLASSES)
    got: list[Shape] = []
    for item in model.named_parameters():  # one tensor at a time: the whole state is ~80 MB
        assert isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], torch.Tensor), "named_parameters() gave something else than (name, tensor)"
        got.append(tuple(item[1].shape))
    if not got:
        raise AssertionError("TODO not done yet: ResNet36.__init__ (the model has no parameters)")
    want_count = parameter_count(DEFAULT_CLASSES, DEFAULT_WIDTHS, DEFAULT_BLOCKS)
    assert_equal(sum(math.prod(s) for s in got), want_count, what="learnable parameters of ResNet36(100)")
    weighted = sum(1 for s in got if len(s) == 4 and s[2] > 1) + sum(1 for s in got if len(s) == 2)
    assert_equal(weighted, 36, what="weighted layers of ResNet36(100) (convolutions of 3×3 or 7×7, and linear layers)")
    want = resnet_shapes(DEFAULT_CLASSES, DEFAULT_WIDTHS, DEFAULT_BLOCKS, buffers=False)
    assert_same_shapes(sorted(got), want, what="the parameters of ResNet36(100)")


@points(2, part="resnet")
def test_widen_really_widens(student):
    """widen(ResNet36(10, widths=(4, 6, 8, 10), blocks=(1, 1, 1, 1)), 1.7): new tensors of widths round(w·1.7) = (7, 10, 14, 17), about 1.7² times the parameters, and it runs."""
    widths, blocks, factor = (4, 6, 8, 10), (1, 1, 1, 1), 1.7
    model = student.resnet36.ResNet36(10, widths=widths, blocks=blocks)
    before = state_of(model, what="ResNet36(10, widths=(4, 6, 8, 10), blocks=(1, 1, 1, 1))")
    if not before:
        raise AssertionError("TODO not done yet: ResNet36.__init__ (the model has no tensors)")
    wide = student.resnet36.widen(model, factor)
    state = state_of(wide, what="widen(model, 1.7)")
    new_widths = tuple(round(w * factor) for w in widths)
    assert_same_shapes(shapes_of(state), resnet_shapes(10, new_widths, blocks), what=f"widen(model, 1.7) (widths {new_widths})")
    grown = sum(int(v.numel()) for k, v in state.items() if not k.endswith(BUFFERS))
    base = sum(int(v.numel()) for k, v in before.items() if not k.endswith(BUFFERS))
    ratio = parameter_count(10, new_widths, blocks) / parameter_count(10, widths, blocks)
    assert 0.7 * factor**2 <= ratio <= 1.1 * factor**2, "the grader's widths do not grow the count by about factor²"
    assert_close(grown / base, ratio, rtol=1e-9, what=f"parameters of widen(model, 1.7) / parameters of model (≈ 1.7² = {factor**2:.2f})")
    assert_same_shapes(shapes_of(state_of(model, what="model after widen")), shapes_of(before), what="the model passed to widen (left as it is)")
    out = outputs(wide, torch.randn(2, 3, 24, 20), what="widen(model, 1.7)")
    assert_equal(tuple(out.shape), (2, 10), what="shape of widen(model, 1.7)(x) for x of shape (2, 3, 24, 20)")
    assert_close(torch.isfinite(out).all().float(), 1.0, what="all logits of the widened model finite")
