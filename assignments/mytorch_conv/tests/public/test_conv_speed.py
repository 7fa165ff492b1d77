"""Public tests of the speed of `Conv2D` (part conv_speed): each pass against PyTorch's.

The input is fixed: 64 CIFAR-sized images (64×3×32×32, float64, seeded) and 16 filters of
5×5, stride 1, no padding. In the same test, the grader times PyTorch here (`F.conv2d` and
its autograd backward, float64, one thread) and your layer in its sandbox, which runs with one
thread too. Your side is the CPU time of the sandbox's process, read from the kernel (a busy
machine does not count against you); PyTorch's is the CPU time of the grading thread. Each
side is warmed up with a few calls, then timed several times; the fastest call of each side
counts (PyTorch's own times vary by 2× from call to call). Your pass may take at most
BUDGET_RATIO times PyTorch's. The time of each pass includes sending the arrays to and from
the sandbox (a few milliseconds).

Only time decides here: whether the output is right is conv_forward's and conv_backward's
business. A Python loop over the output pixels with an elementwise product per pixel is far
over the budget; a vectorised pass (`sliding_window_view` + `einsum`, or im2col + a matrix
product) is well within it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from grader.testing import points

from .test_conv import SPEED_FILTERS, SPEED_SEED, SPEED_SHAPE

BUDGET_RATIO = 6.0  # your pass ≤ 6 × PyTorch's CPU time for the same pass
WARMUP = 3  # untimed calls per side first (the first calls of a process are slower)
REPEATS = 9  # timed calls per side; the fastest counts (the one least disturbed by the machine)
SPEND_S = 10.0  # CPU seconds of the sandbox after which the timing stops early


def speed_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A (64×3×32×32), W (16×3×5×5) and dL/dZ (64×16×28×28), float64, seeded."""
    rng = np.random.default_rng(SPEED_SEED)
    a = rng.standard_normal(SPEED_SHAPE)
    weight = rng.standard_normal(SPEED_FILTERS)
    out_h = SPEED_SHAPE[2] - SPEED_FILTERS[2] + 1
    out_w = SPEED_SHAPE[3] - SPEED_FILTERS[3] + 1
    return a, weight, rng.standard_normal((SPEED_SHAPE[0], SPEED_FILTERS[0], out_h, out_w))


@pytest.fixture
def one_thread():
    """PyTorch on one thread here while timing, as in the sandbox."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def torch_seconds(which: str, a: np.ndarray, weight: np.ndarray, grad: np.ndarray) -> float:
    """The shortest CPU time (this thread) of PyTorch's forward or backward pass."""
    times = []
    for _ in range(WARMUP + REPEATS):
        ta = torch.from_numpy(a).requires_grad_(which == "backward")
        tw = torch.from_numpy(weight).requires_grad_(which == "backward")
        if which == "forward":
            start = time.thread_time()
            F.conv2d(ta, tw)
            times.append(time.thread_time() - start)
        else:
            z = F.conv2d(ta, tw)
            start = time.thread_time()
            z.backward(torch.from_numpy(grad))
            times.append(time.thread_time() - start)
    return min(times[WARMUP:])


def student_seconds(
    student, call: Callable[[], object], before: Callable[[], object], *, give_up_s: float
) -> float:
    """The shortest CPU time of the sandbox over `call()` (each preceded by `before()`, not timed).

    When the first two calls are both far over the budget (`give_up_s`), the faster of them
    is the verdict, so a very slow layer is not run twelve times (one slow first call, a lazy
    import say, is not enough). Once the calls and their `before()` have used SPEND_S of CPU
    time, the fastest call so far counts (a slow forward before each backward stops early).
    """
    cpu = student.sandbox.cpu_seconds
    times, spent = [], 0.0
    for i in range(WARMUP + REPEATS):
        ready = cpu()
        before()
        start = cpu()
        call()
        end = cpu()
        times.append(end - start)
        spent += end - ready
        if i >= 1 and (min(times) > give_up_s or spent > SPEND_S):
            return min(times)
    return min(times[WARMUP:])


def check_pass(student, timings, which: str) -> None:
    """`which` ("forward" or "backward") of Conv2D within BUDGET_RATIO × PyTorch's."""
    a, weight, grad = speed_arrays()
    c_out, c_in, kernel = SPEED_FILTERS[:3]
    conv = student.mytorch.conv.Conv2D(c_in, c_out, kernel, stride=1, padding=0)
    conv.W = weight
    with student.time_limit(30):
        theirs = torch_seconds(which, a, weight, grad)
        allowed = BUDGET_RATIO * theirs
        if which == "forward":
            mine = student_seconds(
                student, lambda: conv.forward(a), lambda: None, give_up_s=4 * allowed
            )
        else:
            mine = student_seconds(
                student, lambda: conv.backward(grad), lambda: conv.forward(a), give_up_s=4 * allowed
            )
    ratio = mine / theirs if theirs > 0 else float("inf")
    timings[f"student_{which}_cpu_s"] = round(mine, 4)
    timings[f"pytorch_{which}_cpu_s"] = round(theirs, 4)
    if theirs > 0:
        timings[f"{which}_ratio"] = round(ratio, 3)  # shown as a ratio (×) on the scorecard
    assert mine <= allowed, (
        f"Conv2D.{which} on 64×3×32×32 with 16 filters of 5×5 took {mine * 1000:.1f} ms of CPU "
        f"time, PyTorch's {which} {theirs * 1000:.1f} ms on the same input ({ratio:.1f}×); "
        f"allowed: {allowed * 1000:.1f} ms (≤ {BUDGET_RATIO:g}× PyTorch's). Vectorise it: no "
        f"Python loop over output pixels (sliding_window_view + einsum, or im2col + one matrix "
        f"product)"
    )


@points(5, part="conv_speed")
def test_forward_within_budget(student, timings, one_thread):
    """forward on 64×3×32×32 with 16 filters of 5×5 takes at most 6× PyTorch's CPU time (F.conv2d, float64)."""
    check_pass(student, timings, "forward")


@points(5, part="conv_speed")
def test_backward_within_budget(student, timings, one_thread):
    """backward on the same input takes at most 6× PyTorch's CPU time (autograd of F.conv2d, float64)."""
    check_pass(student, timings, "backward")
