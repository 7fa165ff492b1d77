"""What the student's scorecards (terminal and Markdown) share: what the card covers, the order
of failures, tracebacks shown once, and a one-word sandbox note instead of its internals.
"""

from __future__ import annotations

from typing import Any

from grader.results import GradeResult, PartResult, TestResult
from grader.scorecard.sanitize import clean_text, format_points

NO_PUBLIC_TEST = "no public test: graded by hidden tests only"


def full_points(result: GradeResult) -> dict[str, float]:
    """Each part's points in the whole assignment (`metadata["full_points"]`), when known.

    Empty unless the result is public-only (`grader check`), where a part's `max_points` is
    only what its public tests are worth.
    """
    meta = result.metadata if isinstance(result.metadata, dict) else {}
    full = meta.get("full_points")
    if not meta.get("public_only") or not isinstance(full, dict):
        return {}
    out: dict[str, float] = {}
    for name, points in full.items():
        if isinstance(name, str) and isinstance(points, int | float) and not isinstance(points, bool):
            out[name] = float(points)
    return out


def public_only_line(result: GradeResult) -> str:
    """`public tests only: 43 of 100 points; hidden tests hold the other 57` ('' if not public-only)."""
    full = full_points(result)
    if not full:
        return ""
    parts = [p for p in result.parts if p.name in full]
    public = sum(p.max_points for p in parts)
    whole = sum(full[p.name] for p in parts)
    line = f"public tests only: {format_points(public)} of {format_points(whole)} points"
    hidden = whole - public
    if hidden > 0:
        line += f"; hidden tests hold the other {format_points(hidden)}"
    return line


def part_of_full(part: PartResult, full: dict[str, float]) -> str:
    """`2 of 4`: the part's public points of its full points ('' when its full points are unknown)."""
    if part.name not in full:
        return ""
    return f"{format_points(part.max_points)} of {format_points(full[part.name])}"


def part_description(part: PartResult, full: dict[str, float], limit: int) -> str:
    """The part's description, saying why it is empty when no public test covers it."""
    text = clean_text(part.description, limit)
    if full and part.status == "empty" and full.get(part.name, 0) > 0:
        return f"{text} ({NO_PUBLIC_TEST})" if text else NO_PUBLIC_TEST
    return text


def failures_in_order(result: GradeResult) -> list[TestResult]:
    """The failed and errored tests, public ones first (what a student can act on), then hidden."""
    failures = [t for t in result.tests if t.outcome in ("failed", "error")]
    return sorted(failures, key=lambda t: t.visibility == "hidden")


class TracebackOnce:
    """Remembers the tracebacks shown so far, so that one shared by many tests (a module that
    failed to import fails every test) is shown in full once and named afterwards."""

    def __init__(self) -> None:
        self._shown: dict[str, str] = {}

    def seen_in(self, test: TestResult) -> str | None:
        """The name of the test whose card showed this traceback already; else remember it, None."""
        if not test.traceback:
            return None
        first = self._shown.get(test.traceback)
        if first is None:
            self._shown[test.traceback] = test.name
        return first


def same_traceback_note(first: str) -> str:
    """The line shown instead of a traceback already shown for test `first`."""
    return f"the same as for {clean_text(first, 200)}, above"


def sandbox_note(metadata: dict[str, Any]) -> str:
    """`sandboxed` when the student's code ran in the sandbox ('' if the result does not say)."""
    sandbox = metadata.get("sandbox") if isinstance(metadata, dict) else None
    if isinstance(sandbox, dict) and sandbox.get("active"):
        return "sandboxed"
    return ""
