"""Gradescope's autograder results.json (written to /autograder/results/results.json there).

Follows "Autograder Specifications", section "Output format", of the Gradescope autograder
docs: https://gradescope-autograders.readthedocs.io/en/latest/specs/ (source:
github.com/gradescope/autograder_samples, docs/specs.md). What we rely on from it:

- top level: `score` (overrides the sum of the tests' scores), `execution_time` (seconds),
  `output`, `output_format`, `test_output_format`, `test_name_format`, `visibility`,
  `stdout_visibility`, `extra_data`, `tests`; `leaderboard` is optional and left out.
- per test: `score`, `max_score`, `status` ("passed" / "failed" overrides the default of
  "passed iff score == max_score"), `name`, `name_format`, `number` ("1.1"; tests are otherwise
  numbered in array order), `output`, `output_format`, `tags`, `visibility`, `extra_data`.
- visibility values: "hidden" (never shown to students), "after_due_date", "after_published"
  (shown once grades are published from "Review Grades"), "visible" (the default). The spec
  notes that students cannot see their total score while tests are hidden, and that "hidden"
  is meant for tests which carry no points; our hidden tests carry points, so they map to
  "after_published", and their output never holds the failure details anyway.
- formats: "text" (the default for test names and outputs: no HTML, Markdown or ANSI is
  rendered), "simple_format" (the default for the top-level output: HTML with line breaks),
  "html", "md", "ansi". Every string here may come from student code, so everything is
  "text", including the top-level output (set explicitly instead of the HTML-ish default).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from grader.results import GradeResult, TestResult
from grader.scorecard.intake import intake_summary
from grader.scorecard.sanitize import (
    Caps,
    TextBudget,
    clean_text,
    fit,
    format_score,
    format_timings,
    more_line,
    sandbox_summary,
)
from grader.scorecard.view import Limits, Policy, artefact_line, failure_details

# The whole of gradescope.json, as `json.dumps(render_gradescope(r), indent=2)` writes it.
MAX_BYTES = 4 * 1024 * 1024
# Per-field character limits (at the first level of `sanitize.levels`; smaller at the next).
MESSAGE_LIMIT = 4_000
EXAMPLE_LIMIT = 4_000
TRACEBACK_LIMIT = 8_000
OUTPUT_LIMIT = 3_000
ERROR_LIMIT = 4_000

HIDDEN_VISIBILITY = "after_published"  # the default of `Policy.gradescope_hidden_visibility`
LIMITS = Limits(MESSAGE_LIMIT, EXAMPLE_LIMIT, TRACEBACK_LIMIT, OUTPUT_LIMIT)


def render_gradescope(result: GradeResult, *, policy: Policy | None = None) -> dict[str, Any]:
    """A dict to dump as Gradescope's results.json (see the module docstring for the spec).

    Students read it on Gradescope, so it is always the student's view (grader.scorecard.view):
    hidden tests show their outcome only, with `policy.gradescope_hidden_visibility`
    (default "after_published").

    Dumped with `json.dumps(..., indent=2)` it is at most `MAX_BYTES`, whatever the result
    holds: failure details share one character budget (first come, first served), and a
    result too big even so is rendered again with less (`sanitize.levels`): shorter fields,
    then no details, then fewer test entries (the rest counted in one last entry).
    """
    student = (policy or Policy()).for_students()
    return fit(lambda caps: _render(result, caps, student), _size, MAX_BYTES)


def _size(data: dict[str, Any]) -> int:
    return len(json.dumps(data, indent=2)) + 1  # ASCII only: one byte a character


def _render(result: GradeResult, caps: Caps, policy: Policy) -> dict[str, Any]:
    budget = TextBudget(caps.text)
    part_index = {p.name: i for i, p in enumerate(result.parts, start=1)}
    unknown = len(result.parts) + 1
    # Group by part (in part order), keeping run order within a part, so numbers increase.
    ordered = sorted(
        enumerate(result.tests), key=lambda it: (part_index.get(it[1].part, unknown), it[0])
    )
    counters: dict[int, int] = {}
    tests = []
    for _, test in ordered[: caps.tests]:
        major = part_index.get(test.part, unknown)
        counters[major] = counters.get(major, 0) + 1
        tests.append(_test_entry(test, f"{major}.{counters[major]}", caps, budget, policy))
    rest = [test for _, test in ordered[caps.tests :]]
    if rest:
        tests.append(_rest_entry(rest, f"{unknown + 1}.1", policy))
    extra: dict[str, Any] = {
        "assignment": clean_text(result.assignment, caps.limit(200)),
        "assignment_version": clean_text(result.assignment_version, caps.limit(200)),
        "schema_version": result.schema_version,
    }
    if result.metadata.get("grader_version"):
        extra["grader_version"] = clean_text(str(result.metadata["grader_version"]), caps.limit(100))
    sandbox = sandbox_summary(result.metadata)  # extra_data: for staff, not shown to students
    if sandbox:
        extra["sandbox"] = sandbox
    intake = intake_summary(result.metadata)
    if intake:
        extra["intake"] = intake
    if result.errors:
        extra["grader_errors"] = _errors(result.errors, caps)
    return {
        "score": float(result.score),
        "execution_time": max(0, round(result.duration)),
        "output": "\n".join(x for x in (_summary(result, caps), intake) if x),
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": extra,
        "tests": tests,
    }


def _errors(errors: list[str], caps: Caps) -> list[str]:
    shown = [clean_text(e, caps.limit(ERROR_LIMIT)) for e in errors[: caps.errors]]
    if len(errors) > caps.errors:
        shown.append(more_line(len(errors) - caps.errors, "grader errors"))
    return shown


def _test_entry(test: TestResult, number: str, caps: Caps, budget: TextBudget, policy: Policy) -> dict[str, Any]:
    hidden = not policy.shows_details(test)
    return {
        "score": float(test.points),
        "max_score": float(test.max_points),
        "status": "passed" if test.outcome == "passed" else "failed",
        "name": clean_text(test.name, caps.limit(300)),
        "name_format": "text",
        "number": number,
        "output": _hidden_output(test, caps) if hidden else _public_output(test, caps, budget, policy),
        "output_format": "text",
        "tags": [clean_text(test.part, caps.limit(200))],
        "visibility": policy.gradescope_hidden_visibility if test.visibility == "hidden" else "visible",
    }


def _rest_entry(rest: list[TestResult], number: str, policy: Policy) -> dict[str, Any]:
    """One entry standing for the tests that got none of their own."""
    hidden = any(t.visibility == "hidden" for t in rest)
    return {
        "score": float(sum(t.points for t in rest)),
        "max_score": float(sum(t.max_points for t in rest)),
        "status": "passed" if all(t.outcome == "passed" for t in rest) else "failed",
        "name": f"{len(rest):,} more tests",
        "name_format": "text",
        "number": number,
        "output": more_line(len(rest), "tests") + "; their points are in the total score.",
        "output_format": "text",
        "tags": ["more tests"],
        "visibility": policy.gradescope_hidden_visibility if hidden else "visible",
    }


def _hidden_output(test: TestResult, caps: Caps) -> str:
    part = clean_text(test.part, caps.limit(200))
    if test.outcome == "passed":
        return "Passed."
    if test.outcome == "skipped":
        return f"Hidden test skipped (part {part})."
    return f"Hidden test failed (part {part})."


def _public_output(test: TestResult, caps: Caps, budget: TextBudget, policy: Policy) -> str:
    blocks: list[str] = []
    if test.description:
        blocks.append(clean_text(test.description, caps.limit(1_000)))
    if test.outcome == "passed":
        blocks.append("Passed.")
    elif test.outcome == "skipped":
        reason = budget.take(test.message, caps.limit(MESSAGE_LIMIT)) if test.message else ""
        blocks.append("Skipped" + (f": {reason}" if reason else "."))
    else:
        label = "Error" if test.outcome == "error" else "Failed"
        if not test.message:
            test = replace(test, message="no explanation")
        details = failure_details(test, policy, LIMITS, budget, scale=caps.limit)
        blocks.append(f"{label}: {details.message}")
        if details.example:
            blocks.append("Smallest failing input:\n" + details.example)
        if details.traceback:
            blocks.append("Traceback (your code):\n" + details.traceback)
        if details.output:
            blocks.append("Your code printed (last lines):\n" + details.output)
        blocks += [artefact_line(a) for a in details.artefacts]
    if test.timings:
        blocks.append("Timings: " + format_timings(test.timings))
    return "\n\n".join(b.rstrip() for b in blocks)


def _summary(result: GradeResult, caps: Caps) -> str:
    lines: list[str] = []
    if result.errors:
        lines.append("GRADER ERRORS (a problem with the grader, not your submission;")
        lines.append("this grade is not valid, please tell the course staff):")
        lines.extend(f"  - {e}" for e in _errors(result.errors, caps))
        lines.append("")
    title = clean_text(result.title or result.assignment, caps.limit(200))
    lines.append(f"{title}: {format_score(result.score, result.max_score)} points")
    lines.append("")
    parts = result.parts[: caps.parts]
    names = [clean_text(p.name, caps.limit(60)) for p in parts]
    scores = [format_score(p.points, p.max_points) for p in parts]
    name_w = max([len("Part"), *map(len, names)])
    score_w = max([len("Points"), *map(len, scores)])
    lines.append(f"{'Part':<{name_w}}  {'Points':>{score_w}}  Status")
    for part, name, score in zip(parts, names, scores, strict=True):
        lines.append(f"{name:<{name_w}}  {score:>{score_w}}  {part.status}")
    if len(result.parts) > caps.parts:
        lines.append(more_line(len(result.parts) - caps.parts, "parts"))
    lines.append(f"{'Total':<{name_w}}  {format_score(result.score, result.max_score):>{score_w}}")
    failed = sum(t.outcome in ("failed", "error") for t in result.tests)
    if failed:
        lines.append("")
        lines.append(f"{failed} test(s) did not pass; see each test below for details.")
    return "\n".join(lines)
