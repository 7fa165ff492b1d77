"""What grading tests import: the `points` marker and assertions with plain-language messages."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from grader.sandbox.client import Handle

POINTS_MARK = "grader_points"


def points(n: float, *, part: str) -> pytest.MarkDecorator:
    """Mark a test as worth `n` points in `part` (a part named in assignment.yaml)."""
    if not isinstance(n, int | float) or isinstance(n, bool) or n <= 0:
        raise ValueError(f"points must be a positive number, got {n!r}")
    if not isinstance(part, str) or not part:
        raise ValueError("points(...) needs part='<a part of assignment.yaml>'")
    return getattr(pytest.mark, POINTS_MARK)(float(n), part=part)


def _as_array(x: Any, what: str, side: str) -> np.ndarray:
    if isinstance(x, Handle):
        raise AssertionError(f"{what}: {side} is an object, not data ({x!r})")
    if hasattr(x, "detach") and hasattr(x, "numpy"):
        x = x.detach().cpu()
        if str(x.dtype) == "torch.bfloat16":
            x = x.float()
        x = x.numpy()
    try:
        arr = np.asarray(x)
    except Exception as exc:
        raise AssertionError(f"{what}: {side} is not numeric data ({type(x).__name__}: {exc})") from None
    if arr.dtype == object:
        raise AssertionError(f"{what}: {side} is not numeric data ({type(x).__name__})")
    return arr


def _show(arr: np.ndarray) -> str:
    with np.printoptions(precision=6, threshold=24, edgeitems=3, linewidth=100):
        return np.array2string(arr) if arr.ndim else repr(arr.item())


def assert_close(
    got: Any, expected: Any, *, rtol: float = 1e-5, atol: float = 1e-8, what: str = "value"
) -> None:
    """Fail with "what: expected … got …" unless `got` matches `expected` in shape and value."""
    g = _as_array(got, what, "your result")
    e = _as_array(expected, what, "the expected value")
    if g.shape != e.shape:
        raise AssertionError(f"{what}: expected shape {tuple(e.shape)}, got shape {tuple(g.shape)}")
    if g.dtype.kind not in "biuf":
        raise AssertionError(f"{what}: expected numbers, got dtype {g.dtype}")
    g64, e64 = g.astype(np.float64), e.astype(np.float64)
    ok = np.isclose(g64, e64, rtol=rtol, atol=atol, equal_nan=True)
    if not ok.all():
        bad = int((~ok).sum())
        diff = np.abs(g64 - e64)
        worst = float(np.nanmax(np.where(ok, 0.0, diff))) if np.isfinite(diff).any() else float("nan")
        raise AssertionError(
            f"{what}: expected\n{_show(e)}\ngot\n{_show(g)}\n"
            f"({bad} of {ok.size} entries differ; largest difference {worst:.3g}; "
            f"rtol={rtol:g}, atol={atol:g})"
        )


def assert_equal(got: Any, expected: Any, *, what: str = "value") -> None:
    """Fail with "what: expected … got …" unless `got == expected` (arrays: shape and entries)."""
    if isinstance(got, Handle):
        raise AssertionError(f"{what}: expected {expected!r}, got an object ({got!r})")
    if isinstance(expected, np.ndarray) or hasattr(expected, "numpy"):
        g, e = _as_array(got, what, "your result"), _as_array(expected, what, "the expected value")
        if g.shape != e.shape or not np.array_equal(g, e):
            raise AssertionError(f"{what}: expected\n{_show(e)}\ngot\n{_show(g)}")
        return
    if type(got) is not type(expected) and not (
        isinstance(got, int | float) and isinstance(expected, int | float) and not isinstance(got, bool)
    ):
        raise AssertionError(f"{what}: expected {expected!r} ({type(expected).__name__}), got {got!r} ({type(got).__name__})")
    if got != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {got!r}")
