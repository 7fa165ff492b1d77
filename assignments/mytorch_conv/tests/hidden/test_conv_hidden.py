"""Hidden tests of `Conv2D`: non-square inputs, strides that leave rows over, padding, the
conv_speed input, and state kept from the last forward.

Expected values are F.conv2d and its autograd gradients in float64, computed here. The forward
tests come first: the backward tests read whether forward lost points (see the public module).
"""

from __future__ import annotations

from hypothesis import example, given

from grader.testing import assert_close, assert_equal, points

from ..public.test_conv import (
    ATOL,
    RTOL,
    SPEED_FILTERS,
    SPEED_SEED,
    SPEED_SHAPE,
    Case,
    as_array,
    cases,
    check_backward,
    check_forward,
    expected_backward,
    layer,
)

SPEED_CASE = Case(
    *SPEED_SHAPE[:2], SPEED_FILTERS[0], *SPEED_SHAPE[2:], SPEED_FILTERS[2], seed=SPEED_SEED
)


# ------------------------------------------------------------------ conv_forward


@points(2, part="conv_forward")
@given(case=cases(non_square=True))
@example(case=Case(1, 2, 3, 5, 9, 3, seed=5))
def test_forward_non_square_inputs(student, case):
    """forward(A) equals F.conv2d when H ≠ W (rows and columns are not mixed up)."""
    check_forward(student, case)


@points(2, part="conv_forward")
@given(case=cases(ragged_stride=True))
@example(case=Case(2, 2, 2, 8, 8, 3, stride=2, seed=6))
@example(case=Case(1, 1, 2, 10, 7, 2, stride=3, seed=7))
def test_forward_stride_that_does_not_divide(student, case):
    """forward(A) equals F.conv2d when the stride leaves the last rows or columns over (H_out rounds down)."""
    check_forward(student, case)


@points(2, part="conv_forward")
@given(case=cases(min_padding=1))
@example(case=Case(2, 3, 2, 6, 6, 3, padding=1, seed=8))
@example(case=Case(1, 2, 2, 4, 6, 5, stride=2, padding=2, seed=9))
def test_forward_padding(student, case):
    """forward(A) equals F.conv2d with zero padding on all four sides, with any stride."""
    check_forward(student, case)


@points(1, part="conv_forward")
def test_forward_kernel_extremes(student):
    """forward(A) with a 1×1 kernel, and with a kernel as large as the padded input (a 1×1 output)."""
    for case in (
        Case(2, 3, 4, 6, 5, 1, seed=10),
        Case(2, 3, 2, 1, 1, 1, seed=11),
        Case(2, 2, 3, 5, 5, 5, seed=12),
        Case(1, 2, 2, 4, 4, 8, padding=2, seed=13),
        Case(2, 1, 1, 3, 3, 7, stride=3, padding=2, seed=14),
    ):
        check_forward(student, case)


@points(2, part="conv_forward")
def test_forward_on_the_speed_input(student):
    """forward(A) equals F.conv2d on the conv_speed input: 64×3×32×32 with 16 filters of 5×5."""
    check_forward(student, SPEED_CASE)


# ------------------------------------------------------------------ conv_backward


@points(3, part="conv_backward")
@given(case=cases(non_square=True))
@example(case=Case(1, 2, 3, 5, 9, 3, seed=5))
def test_backward_non_square_inputs(student, part_scores, case):
    """backward(dLdZ): autograd's dL/dA and dL/dW when H ≠ W."""
    check_backward(student, part_scores, case)


@points(3, part="conv_backward")
@given(case=cases(ragged_stride=True))
@example(case=Case(2, 2, 2, 8, 8, 3, stride=2, seed=6))
@example(case=Case(1, 1, 2, 10, 7, 2, stride=3, seed=7))
def test_backward_stride_that_does_not_divide(student, part_scores, case):
    """backward(dLdZ): autograd's dL/dA and dL/dW when the stride leaves rows or columns over (they get zero gradient)."""
    check_backward(student, part_scores, case)


@points(3, part="conv_backward")
@given(case=cases(min_padding=1))
@example(case=Case(2, 3, 2, 6, 6, 3, padding=1, seed=8))
@example(case=Case(1, 2, 2, 4, 6, 5, stride=2, padding=2, seed=9))
def test_backward_padding(student, part_scores, case):
    """backward(dLdZ): autograd's dL/dA (the padding cut off again) and dL/dW with zero padding and any stride."""
    check_backward(student, part_scores, case)


@points(2, part="conv_backward")
def test_backward_on_the_speed_input(student, part_scores):
    """backward(dLdZ): autograd's dL/dA and dL/dW on the conv_speed input (64×3×32×32, 16 filters of 5×5)."""
    check_backward(student, part_scores, SPEED_CASE)


@points(1, part="conv_backward")
def test_backward_uses_the_last_forward(student):
    """backward(dLdZ) after two forward calls on inputs of different shapes is the gradient for the last one."""
    first = Case(3, 2, 3, 9, 7, 3, seed=15)
    second = Case(1, 2, 3, 6, 8, 3, seed=16)
    _, weight, _ = second.arrays()
    conv = layer(student, second, weight)
    conv.forward(first.arrays()[0])
    a, _, grad = second.arrays()
    conv.forward(a)
    got_a = as_array(
        student, conv.backward(grad), f"backward(dLdZ) for the second forward, {second}"
    )
    got_w = as_array(student, conv.dLdW, f"dLdW after backward for the second forward, {second}")
    want_a, want_w = expected_backward(second, a, weight, grad)
    what = f"after forward on {first.n}×{first.c_in}×{first.h}×{first.w}, then on {second}"
    assert_equal(tuple(got_a.shape), a.shape, what=f"shape of dLdA {what}")
    assert_close(got_a, want_a, rtol=RTOL, atol=ATOL, what=f"dLdA {what}")
    assert_close(got_w, want_w, rtol=RTOL, atol=ATOL, what=f"conv.dLdW {what}")
