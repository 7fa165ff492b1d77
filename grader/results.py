"""The one result model every renderer reads: a graded submission, its parts and its tests.

The model is plain data (dataclasses of str/float/int/list/dict) so that it serialises to JSON
losslessly and can cross a process boundary. Timings live in fields named in `TIMING_FIELDS`
so that two runs can be compared byte for byte with the timings taken out.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

SCHEMA_VERSION = 1

Outcome = Literal["passed", "failed", "error", "skipped"]
Visibility = Literal["public", "hidden"]

# Keys whose values depend on the clock or the machine, dropped by `to_json(timings=False)`.
TIMING_FIELDS = frozenset({"duration", "started_at", "timings", "machine", "sandbox"})

# The most characters a test's free-text fields keep (see `bound_text`): the grading plugin
# cuts what it stores, and results.json (grader.scorecard.json_format) cuts to the same limits.
TEXT_LIMITS: dict[str, int] = {
    "message": 20_000,
    "falsifying_example": 20_000,
    "traceback": 20_000,
    "output": 20_000,
}
# Text fields whose end matters more than their start (the exception; the last lines printed).
TAIL_FIELDS = frozenset({"traceback", "output"})


def cut_text(s: str, limit: int, *, tail: bool = False, total: int | None = None) -> str:
    """`s` if it is at most `limit` chars, else its first (`tail=True`: last) chars and a cut note.

    The note says how long the text was (`total`, when `s` is itself a piece of a longer text),
    e.g. "… (cut: 20,971,520 characters in all)", and the cut text, note included, is at most
    `limit` characters whenever `limit` leaves room for the note, so cutting again is a no-op.
    """
    total = len(s) if total is None else total
    if total <= limit and len(s) <= limit:
        return s
    note = f"… (cut: {total:,} characters in all)"
    keep = limit - len(note) - 1
    if keep <= 0:
        return note
    return f"{note}\n{s[len(s) - keep :]}" if tail else f"{s[:keep]}\n{note}"


def bound_text(value: str | None, field: str) -> str | None:
    """`value` for the test text `field` (a key of `TEXT_LIMITS`) cut to its limit; None stays."""
    if value is None:
        return None
    return cut_text(str(value), TEXT_LIMITS[field], tail=field in TAIL_FIELDS)


@dataclass
class TestResult:
    """The outcome of one graded test."""

    nodeid: str
    name: str
    part: str
    max_points: float
    points: float = 0.0
    outcome: Outcome = "failed"
    visibility: Visibility = "public"
    description: str = ""
    # A plain-language explanation of a failure (expected against got, what timed out, ...).
    message: str | None = None
    # The smallest failing input hypothesis found, as hypothesis prints it.
    falsifying_example: str | None = None
    # The student's own traceback, harness frames removed.
    traceback: str | None = None
    # What the student's code printed while this test ran (bounded).
    output: str | None = None
    duration: float = 0.0
    # Named wall times in seconds (e.g. {"student_train_s": 3.1, "reference_train_s": 2.0}).
    timings: dict[str, float] = field(default_factory=dict)
    # Plain-data artefacts computed in the trusted process (series such as loss curves, small
    # PNG images, a time against its budget): see grader.scorecard.artefacts for the kinds and
    # their bounds, docs/results-schema.md for the schema.
    artefacts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when the test passed."""
        return self.outcome == "passed"

    def bound_texts(self) -> None:
        """Cut `message`, `falsifying_example`, `traceback` and `output` to `TEXT_LIMITS`."""
        self.message = bound_text(self.message, "message")
        self.falsifying_example = bound_text(self.falsifying_example, "falsifying_example")
        self.traceback = bound_text(self.traceback, "traceback")
        self.output = bound_text(self.output, "output")


@dataclass
class PartResult:
    """A part of the assignment: the capped sum of the points of its passed tests."""

    name: str
    max_points: float
    points: float = 0.0
    description: str = ""
    tests: list[str] = field(default_factory=list)  # nodeids, in run order

    @property
    def status(self) -> Literal["full", "partial", "zero", "empty"]:
        """'full', 'partial' or 'zero' marks; 'empty' when no test belongs to the part."""
        if not self.tests:
            return "empty"
        if self.points >= self.max_points:
            return "full"
        return "partial" if self.points > 0 else "zero"


@dataclass
class GradeResult:
    """A whole graded submission."""

    assignment: str
    title: str
    assignment_version: str
    submission: str
    score: float = 0.0
    max_score: float = 0.0
    parts: list[PartResult] = field(default_factory=list)
    tests: list[TestResult] = field(default_factory=list)
    # Grader-level problems (not the student's): a non-empty list means the grading is not valid.
    errors: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    duration: float = 0.0
    started_at: str = ""
    schema_version: int = SCHEMA_VERSION

    def part(self, name: str) -> PartResult:
        """The part called `name` (KeyError if there is none)."""
        for p in self.parts:
            if p.name == name:
                return p
        raise KeyError(name)

    def test(self, nodeid_suffix: str) -> TestResult:
        """The test whose nodeid ends with `nodeid_suffix` (KeyError if none or ambiguous)."""
        hits = [t for t in self.tests if t.nodeid.endswith(nodeid_suffix)]
        if len(hits) != 1:
            raise KeyError(f"{nodeid_suffix!r} matches {len(hits)} tests")
        return hits[0]

    def to_dict(self, *, timings: bool = True) -> dict[str, Any]:
        """A JSON-ready dict; with `timings=False`, clock- and machine-dependent keys are dropped."""
        data = asdict(self)
        return data if timings else _strip_timings(data)

    def to_json(self, *, timings: bool = True) -> str:
        """Stable, sorted, indented JSON."""
        return json.dumps(self.to_dict(timings=timings), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GradeResult:
        """Rebuild a result from `to_dict()` output."""
        data = dict(data)
        version = data.get("schema_version", SCHEMA_VERSION)
        if version != SCHEMA_VERSION:
            raise ValueError(f"result schema version {version} is not {SCHEMA_VERSION}")
        data["parts"] = [PartResult(**p) for p in data.get("parts", [])]
        data["tests"] = [TestResult(**t) for t in data.get("tests", [])]
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> GradeResult:
        """Rebuild a result from `to_json()` output."""
        return cls.from_dict(json.loads(text))


def _strip_timings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_timings(v) for k, v in value.items() if k not in TIMING_FIELDS}
    if isinstance(value, list):
        return [_strip_timings(v) for v in value]
    return value


POINTS_DIGITS = 9  # sums of points are rounded to this many decimals


def score_parts(parts: list[PartResult], tests: list[TestResult]) -> float:
    """Fill each part's points from its tests (capped at the part's maximum); return the total."""
    by_name = {p.name: p for p in parts}
    for p in parts:
        p.points = 0.0
        p.tests = []
    for t in tests:
        t.points = t.max_points if t.passed else 0.0
        part = by_name[t.part]
        part.tests.append(t.nodeid)
        part.points += t.points
    total = 0.0
    for p in parts:
        # Rounded: the shares of a `per="test"` split (4/3 + 4/3 + 4/3) need not add up exactly.
        p.points = min(round(p.points, POINTS_DIGITS), p.max_points)
        total += p.points
    return round(total, POINTS_DIGITS)
