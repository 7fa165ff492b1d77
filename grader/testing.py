"""What grading tests import: the `points` marker and assertions with plain-language messages."""

from __future__ import annotations

import reprlib
from typing import Any

import numpy as np
import pytest

from grader.sandbox.host.client import Handle

POINTS_MARK = "grader_points"

# The most characters of one value shown in a failure message (the grading plugin cuts the
# whole message again, to grader.results.TEXT_LIMITS["message"]).
SHOW_LIMIT = 2_000

_REPR = reprlib.Repr()
# Big containers and strings are summarised ("[1, 2, ...]", "'abc...xyz'") without first
# building their whole repr; small values are shown exactly as repr() shows them.
_REPR.maxlevel = 6
_REPR.maxstring = 400
_REPR.maxlong = 400
_REPR.maxother = 400
for _name in ("maxtuple", "maxlist", "maxarray", "maxdict", "maxset", "maxfrozenset", "maxdeque"):
    setattr(_REPR, _name, 30)


PER_CHOICES = ("case", "test")


def points(n: float, *, part: str, per: str | None = None) -> pytest.MarkDecorator:
    """Mark a test as worth `n` points in `part` (a part named in assignment.yaml).

    A parametrized test (`@pytest.mark.parametrize`, or a fixture with `params=`) must say how
    its points count, or the grading run stops with a configuration error:

    - `per="case"`: every case is worth `n` (3 cases of `@points(2, ..., per="case")`: 6 points);
    - `per="test"`: the test function is worth `n` in all, split evenly across its cases
      (3 cases of `@points(6, ..., per="test")`: 2 points each).

    A test that is not parametrized (a hypothesis `@given` test is one test) needs neither.
    """
    if not isinstance(n, int | float) or isinstance(n, bool) or n <= 0:
        raise ValueError(f"points must be a positive number, got {n!r}")
    if not isinstance(part, str) or not part:
        raise ValueError("points(...) needs part='<a part of assignment.yaml>'")
    if per is not None and per not in PER_CHOICES:
        raise ValueError(f"points(..., per=...) must be 'case' or 'test', got {per!r}")
    kwargs = {"part": part} if per is None else {"part": part, "per": per}
    return getattr(pytest.mark, POINTS_MARK)(float(n), **kwargs)


def _as_array(x: Any, what: str, side: str) -> np.ndarray:
    if isinstance(x, Handle):
        raise AssertionError(f"{what}: {side} is an object, not data ({show_value(x)})")
    if hasattr(x, "detach") and hasattr(x, "numpy"):
        x = x.detach().cpu()
        if str(x.dtype) == "torch.bfloat16":
            x = x.float()
        x = x.numpy()
    try:
        arr = np.asarray(x)
    except Exception as exc:
        raise AssertionError(f"{what}: {side} is not numeric data ({type(x).__name__}: {_cut(str(exc))})") from None
    if arr.dtype == object:
        raise AssertionError(f"{what}: {side} is not numeric data ({type(x).__name__})")
    return arr


def _cut(text: str) -> str:
    if len(text) <= SHOW_LIMIT:
        return text
    return f"{text[: SHOW_LIMIT - 30]}… (cut: {len(text):,} characters)"


def show_value(x: Any) -> str:
    """A repr of `x` for a failure message: containers and strings summarised, at most ~2,000 chars."""
    try:
        return _cut(_REPR.repr(x))
    except Exception:  # a broken __repr__ must not hide the failure
        return f"<{type(x).__name__}>"


def _show(arr: np.ndarray) -> str:
    with np.printoptions(precision=6, threshold=24, edgeitems=3, linewidth=100):
        return _cut(np.array2string(arr) if arr.ndim else show_value(arr.item()))


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
        raise AssertionError(f"{what}: expected {show_value(expected)}, got an object ({show_value(got)})")
    if isinstance(expected, np.ndarray) or hasattr(expected, "numpy"):
        g, e = _as_array(got, what, "your result"), _as_array(expected, what, "the expected value")
        if g.shape != e.shape or not np.array_equal(g, e):
            raise AssertionError(f"{what}: expected\n{_show(e)}\ngot\n{_show(g)}")
        return
    if type(got) is not type(expected) and not (
        isinstance(got, int | float) and isinstance(expected, int | float) and not isinstance(got, bool)
    ):
        raise AssertionError(
            f"{what}: expected {show_value(expected)} ({type(expected).__name__}), "
            f"got {show_value(got)} ({type(got).__name__})"
        )
    if got != expected:
        raise AssertionError(f"{what}: expected {show_value(expected)}, got {show_value(got)}")
