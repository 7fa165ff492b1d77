"""Public tests of `mytorch/conv.py`: `Conv2D.forward` and `Conv2D.backward`.

Every case is drawn by hypothesis (batch, channels, height, width, kernel, stride, padding);
the grader sets the weights (`conv.W = ...`), sends the input and dL/dZ, and compares what
comes back, in float64, with `torch.nn.functional.conv2d` and its autograd gradients computed
here. A failure shows the smallest case hypothesis found.

One bug is paid once: backward needs what forward kept, so when `forward` has already lost
points, the backward tests pad the input and apply the stride here (zeros between the rows and
columns of dL/dZ) and run your layer at stride 1 without padding, where a forward bug in the
padding or the stride does not reach backward.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import assume, example, given
from hypothesis import strategies as st

from grader.testing import assert_close, assert_equal, points

RTOL = ATOL = 1e-9  # float64 throughout: only rounding may differ

# The conv_speed input: 64 CIFAR-sized images, 16 filters of 5×5, stride 1, no padding.
SPEED_SHAPE = (64, 3, 32, 32)
SPEED_FILTERS = (16, 3, 5, 5)
SPEED_SEED = 2024


@dataclass(frozen=True)
class Case:
    """One convolution: the shapes, stride and padding, and the seed of its arrays."""

    n: int
    c_in: int
    c_out: int
    h: int
    w: int
    kernel: int
    stride: int = 1
    padding: int = 0
    seed: int = 0

    @property
    def out_hw(self) -> tuple[int, int]:
        """H_out, W_out = (H + 2·padding − K) // stride + 1."""
        return (
            (self.h + 2 * self.padding - self.kernel) // self.stride + 1,
            (self.w + 2 * self.padding - self.kernel) // self.stride + 1,
        )

    @property
    def out_shape(self) -> tuple[int, int, int, int]:
        return (self.n, self.c_out, *self.out_hw)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A (N×C_in×H×W), W (C_out×C_in×K×K) and dL/dZ (Z's shape), float64, from the seed."""
        rng = np.random.default_rng(self.seed)
        a = rng.standard_normal((self.n, self.c_in, self.h, self.w))
        weight = rng.standard_normal((self.c_out, self.c_in, self.kernel, self.kernel))
        grad = rng.standard_normal(self.out_shape)
        return a, weight, grad

    def __str__(self) -> str:
        return (
            f"A of shape {(self.n, self.c_in, self.h, self.w)}, W of shape "
            f"{(self.c_out, self.c_in, self.kernel, self.kernel)}, stride {self.stride}, padding {self.padding}"
        )


@st.composite
def cases(
    draw,
    *,
    non_square: bool = False,
    ragged_stride: bool = False,
    min_padding: int = 0,
    max_n: int = 3,
    max_c: int = 4,
    max_side: int = 12,
) -> Case:
    """A convolution with N ≤ 3, C ≤ 4, H, W ≤ 12, stride ≤ 3, padding ≤ 2 and a kernel that fits.

    `non_square`: H ≠ W. `ragged_stride`: stride ≥ 2 that does not divide H + 2·padding − K
    (or the same for W), so the last rows or columns of the padded input are left over.
    """
    n = draw(st.integers(1, max_n))
    c_in, c_out = draw(st.integers(1, max_c)), draw(st.integers(1, max_c))
    h = draw(st.integers(1, max_side))
    w = draw(
        st.integers(1, max_side).filter(lambda v: v != h)
        if non_square
        else st.integers(1, max_side)
    )
    padding = draw(st.integers(min_padding, 2))
    stride = draw(st.integers(2, 3) if ragged_stride else st.integers(1, 3))
    kernel = draw(st.integers(1, min(h, w) + 2 * padding))
    if ragged_stride:
        assume((h + 2 * padding - kernel) % stride or (w + 2 * padding - kernel) % stride)
    seed = draw(st.integers(0, 2**32 - 1))
    return Case(n, c_in, c_out, h, w, kernel, stride, padding, seed)


# ------------------------------------------------------------------ expected values (here)


def expected_forward(case: Case, a: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """F.conv2d in float64: a cross-correlation, no bias."""
    z = F.conv2d(
        torch.from_numpy(a), torch.from_numpy(weight), stride=case.stride, padding=case.padding
    )
    return z.numpy()


def expected_backward(
    case: Case, a: np.ndarray, weight: np.ndarray, grad: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """dL/dA and dL/dW of L = sum(F.conv2d(A, W) · dL/dZ), by autograd in float64."""
    ta = torch.from_numpy(a).clone().requires_grad_(True)
    tw = torch.from_numpy(weight).clone().requires_grad_(True)
    z = F.conv2d(ta, tw, stride=case.stride, padding=case.padding)
    z.backward(torch.from_numpy(grad))
    return ta.grad.numpy(), tw.grad.numpy()


# ------------------------------------------------------------------ the student's side


def layer(
    student,
    case: Case,
    weight: np.ndarray,
    *,
    stride: int | None = None,
    padding: int | None = None,
):
    """Conv2D(C_in, C_out, K, stride, padding) in the child, with the grader's weights."""
    stride = case.stride if stride is None else stride
    padding = case.padding if padding is None else padding
    conv = student.mytorch.conv.Conv2D(
        case.c_in, case.c_out, case.kernel, stride=stride, padding=padding
    )
    conv.W = weight
    return conv


def as_array(student, value, what: str) -> np.ndarray:
    """A returned value as a numpy array (a clear message when it is not one)."""
    value = student.value(value)
    if isinstance(value, torch.Tensor):
        value = value.numpy()
    assert isinstance(value, np.ndarray), (
        f"{what} should be a numpy array, got {type(value).__name__}"
    )
    return value


def check_forward(student, case: Case) -> None:
    """forward(A) has the shape of the H_out formula, dtype float64, and equals F.conv2d."""
    a, weight, _ = case.arrays()
    z = as_array(student, layer(student, case, weight).forward(a), f"forward(A) for {case}")
    assert_equal(
        tuple(z.shape),
        case.out_shape,
        what=f"shape of forward(A) for {case} (H_out = (H + 2·padding − K) // stride + 1)",
    )
    assert z.dtype == np.float64, (
        f"forward(A) for {case} should be float64 like A and W, got dtype {z.dtype}"
    )
    assert_close(
        z, expected_forward(case, a, weight), rtol=RTOL, atol=ATOL, what=f"forward(A) for {case}"
    )


def student_backward(
    student, case: Case, a: np.ndarray, weight: np.ndarray, grad: np.ndarray, *, standin: bool
):
    """The student's (dL/dA, dL/dW, note) for the case.

    With `standin` (forward already lost points), the padding and the stride are done here:
    the layer runs at stride 1 without padding on the padded input, dL/dZ is spread onto the
    stride-1 output grid with zeros between, and dL/dA is cropped back to A's shape here. Both
    give the same gradients for a correct backward.
    """
    if not standin or (case.stride == 1 and case.padding == 0):
        conv = layer(student, case, weight)
        conv.forward(a)
        d_a = as_array(student, conv.backward(grad), f"backward(dLdZ) for {case}")
        d_w = as_array(student, conv.dLdW, f"dLdW after backward for {case}")
        return d_a, d_w, ""
    p, s, k = case.padding, case.stride, case.kernel
    padded = np.pad(a, ((0, 0), (0, 0), (p, p), (p, p)))
    full = np.zeros((case.n, case.c_out, padded.shape[2] - k + 1, padded.shape[3] - k + 1))
    full[:, :, ::s, ::s] = grad
    conv = layer(student, case, weight, stride=1, padding=0)
    conv.forward(padded)
    note = (
        " (your forward lost points in its own part, so this backward ran at stride 1 without "
        "padding on the input padded by the grader, with dL/dZ spread out by the stride)"
    )
    d_padded = as_array(student, conv.backward(full), f"backward(dLdZ) for {case}{note}")
    assert_equal(
        tuple(d_padded.shape),
        padded.shape,
        what=f"shape of backward(dLdZ) for the padded input{note}",
    )
    d_w = as_array(student, conv.dLdW, f"dLdW after backward for {case}{note}")
    return d_padded[:, :, p : p + case.h, p : p + case.w], d_w, note


def check_backward(student, part_scores, case: Case, *, d_a: bool = True, d_w: bool = True) -> None:
    """backward(dLdZ) returns autograd's dL/dA (A's shape) and stores its dL/dW (W's shape)."""
    a, weight, grad = case.arrays()
    standin = part_scores.lost("conv_forward")
    got_a, got_w, note = student_backward(student, case, a, weight, grad, standin=standin)
    want_a, want_w = expected_backward(case, a, weight, grad)
    if d_a:
        assert_equal(
            tuple(got_a.shape), a.shape, what=f"shape of dLdA = backward(dLdZ) for {case}{note}"
        )
        assert_close(
            got_a, want_a, rtol=RTOL, atol=ATOL, what=f"dLdA = backward(dLdZ) for {case}{note}"
        )
    if d_w:
        assert_equal(tuple(got_w.shape), weight.shape, what=f"shape of conv.dLdW for {case}{note}")
        assert_close(
            got_w,
            want_w,
            rtol=RTOL,
            atol=ATOL,
            what=f"conv.dLdW (summed over the batch) for {case}{note}",
        )


# ------------------------------------------------------------------ conv_forward


@points(2, part="conv_forward")
def test_forward_output_shape_and_dtype(student):
    """forward(A): N×C_out×H_out×W_out with H_out = (H + 2·padding − K) // stride + 1, float64 for float64 A and W."""
    for case in (
        Case(2, 3, 4, 8, 8, 3),
        Case(1, 1, 2, 7, 7, 3, stride=2),
        Case(3, 2, 1, 6, 6, 3, padding=1),
        Case(2, 2, 3, 9, 9, 4, stride=2, padding=2),
    ):
        a, weight, _ = case.arrays()
        z = as_array(student, layer(student, case, weight).forward(a), f"forward(A) for {case}")
        assert_equal(tuple(z.shape), case.out_shape, what=f"shape of forward(A) for {case}")
        assert z.dtype == np.float64, (
            f"forward(A) for {case} should be float64 like A and W, got dtype {z.dtype}"
        )


@points(4, part="conv_forward")
@given(case=cases())
@example(case=Case(2, 3, 2, 5, 5, 3, seed=1))
def test_forward_matches_conv2d(student, case):
    """forward(A) equals F.conv2d(A, W, stride, padding) in float64 for any batch, channels, size, kernel, stride and padding."""
    check_forward(student, case)


# ------------------------------------------------------------------ conv_backward


@points(2, part="conv_backward")
def test_backward_shapes(student, part_scores):
    """backward(dLdZ) returns dL/dA of A's shape and stores conv.dLdW of W's shape."""
    for case in (
        Case(2, 3, 4, 8, 8, 3, seed=3),
        Case(1, 2, 3, 7, 7, 3, stride=2, padding=1, seed=4),
    ):
        a, weight, grad = case.arrays()
        got_a, got_w, note = student_backward(
            student, case, a, weight, grad, standin=part_scores.lost("conv_forward")
        )
        assert_equal(
            tuple(got_a.shape), a.shape, what=f"shape of dLdA = backward(dLdZ) for {case}{note}"
        )
        assert_equal(tuple(got_w.shape), weight.shape, what=f"shape of conv.dLdW for {case}{note}")


@points(3, part="conv_backward")
@given(case=cases())
@example(case=Case(2, 3, 2, 5, 5, 3, seed=1))
def test_backward_dLdA_matches_autograd(student, part_scores, case):
    """backward(dLdZ) returns autograd's dL/dA of F.conv2d for any shape, stride and padding."""
    check_backward(student, part_scores, case, d_w=False)


@points(3, part="conv_backward")
@given(case=cases())
@example(case=Case(2, 3, 2, 5, 5, 3, seed=1))
def test_backward_dLdW_matches_autograd(student, part_scores, case):
    """backward(dLdZ) stores in conv.dLdW autograd's dL/dW of F.conv2d (summed over the batch) for any shape, stride and padding."""
    check_backward(student, part_scores, case, d_a=False)
