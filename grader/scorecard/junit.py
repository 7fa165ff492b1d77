"""JUnit XML (the common Jenkins / GitHub / GitLab dialect), built with ElementTree.

ElementTree escapes `<`, `&`, quotes and so on, but it happily writes characters that XML 1.0
forbids (most C0 controls, U+FFFE, U+FFFF, lone surrogates), so every string goes through
`clean_text` and then `xml_safe` before it reaches the tree.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from grader.results import GradeResult, TestResult
from grader.scorecard.intake import intake_summary
from grader.scorecard.sanitize import (
    Caps,
    TextBudget,
    clean_text,
    fit,
    format_points,
    more_line,
    utf8_size,
)
from grader.scorecard.view import (
    FailureDetails,
    Limits,
    Policy,
    artefact_line,
    failure_details,
    policy_for,
)

# The whole of junit.xml, in UTF-8.
MAX_BYTES = 4 * 1024 * 1024
# Per-field character limits (at the first level of `sanitize.levels`; smaller at the next).
MESSAGE_LIMIT = 4_000
EXAMPLE_LIMIT = 4_000
TRACEBACK_LIMIT = 8_000
OUTPUT_LIMIT = 4_000
LIMITS = Limits(MESSAGE_LIMIT, EXAMPLE_LIMIT, TRACEBACK_LIMIT, OUTPUT_LIMIT)

# Anything outside XML 1.0's Char production:
# #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_EXCEPTION_NAME = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Failure|Interrupt|Exit))\b")


def xml_safe(s: str, limit: int | None = None) -> str:
    """`clean_text(s, limit)` with every character XML 1.0 forbids removed."""
    return _xml_legal(clean_text(s, limit))


def _xml_legal(s: str) -> str:
    return _XML_ILLEGAL.sub("", s)


def render_junit(
    result: GradeResult,
    *,
    show_hidden_details: bool | None = None,
    student: bool = False,
    policy: Policy | None = None,
) -> str:
    """The result as a JUnit XML document (one `<testsuite>` named after the assignment).

    For `policy`'s audience (grader.scorecard.view; without one: the instructor's, or the
    student's with `student=True`; `show_hidden_details` overrides): for students, failures
    of hidden tests carry no message, example, traceback or output, and the sandbox is one
    word. The document is at most `MAX_BYTES`, whatever the result holds:
    failure details share one character budget (first come, first served), and a result too
    big even so is rendered again with less (`sanitize.levels`): shorter fields, then no
    details, then fewer `<testcase>`s (the suite's counts still cover every test, and its
    `<system-out>` says how many are not listed).
    """
    policy = policy_for(policy, student=student, show_hidden_details=show_hidden_details)
    return fit(lambda caps: _render(result, caps, policy), utf8_size, MAX_BYTES)


def _render(result: GradeResult, caps: Caps, policy: Policy) -> str:
    budget = TextBudget(caps.text)
    assignment = xml_safe(result.assignment, caps.limit(200))
    counts = {
        "failures": sum(t.outcome == "failed" for t in result.tests),
        "errors": sum(t.outcome == "error" for t in result.tests),
        "skipped": sum(t.outcome == "skipped" for t in result.tests),
    }
    duration = result.duration or sum(t.duration for t in result.tests)
    totals = {
        "name": assignment,
        "tests": str(len(result.tests)),
        **{k: str(v) for k, v in counts.items()},
        "time": _seconds(duration),
    }
    root = ET.Element("testsuites", totals)
    suite = ET.SubElement(root, "testsuite", totals)
    if result.started_at:
        suite.set("timestamp", xml_safe(result.started_at, 100))
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("score", format_points(result.score)),
        ("max_score", format_points(result.max_score)),
        ("title", result.title),
        ("assignment_version", result.assignment_version),
        ("submission", result.submission),
    ):
        ET.SubElement(props, "property", name=name, value=xml_safe(value, caps.limit(1_000)))
    sandbox = policy.sandbox_text(result.metadata)
    if sandbox:
        ET.SubElement(props, "property", name="sandbox", value=xml_safe(sandbox, 2_000))
    intake = intake_summary(result.metadata)
    if intake:
        ET.SubElement(props, "property", name="intake", value=xml_safe(intake, 2_000))
    errors = [xml_safe(e, caps.limit(4_000)) for e in result.errors[: caps.errors]]
    if len(result.errors) > caps.errors:
        errors.append(more_line(len(result.errors) - caps.errors, "grader errors"))
    for error in errors:
        ET.SubElement(props, "property", name="grader_error", value=error)
    for part in result.parts[: caps.parts]:
        ET.SubElement(
            props,
            "property",
            name=f"part:{xml_safe(part.name, caps.limit(200))}",
            value=f"{format_points(part.points)}/{format_points(part.max_points)}",
        )
    for test in result.tests[: caps.tests]:
        _testcase(suite, assignment, test, policy, caps, budget)
    notes = [
        more_line(n, what)
        for n, what in (
            (len(result.tests) - caps.tests, "tests"),
            (len(result.parts) - caps.parts, "parts"),
        )
        if n > 0
    ]
    if notes:
        ET.SubElement(suite, "system-out").text = "\n".join(notes)
    if result.errors:
        err = ET.SubElement(suite, "system-err")
        err.text = "Grader errors (this grade is not valid):\n" + "\n".join(errors)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _seconds(x: float) -> str:
    return f"{max(float(x), 0.0):.3f}"


def _testcase(
    suite: ET.Element,
    assignment: str,
    test: TestResult,
    policy: Policy,
    caps: Caps,
    budget: TextBudget,
) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        classname=f"{assignment}.{xml_safe(test.part, caps.limit(200))}",
        name=xml_safe(test.name, caps.limit(500)),
        time=_seconds(test.duration),
    )
    if test.outcome == "skipped":
        message = ""
        if policy.shows_details(test) and test.message:
            message = _xml_legal(budget.take(test.message, caps.limit(MESSAGE_LIMIT)))
        ET.SubElement(case, "skipped", message=message or "skipped")
        return
    if test.outcome not in ("failed", "error"):
        return
    details = failure_details(test, policy, LIMITS, budget, scale=caps.limit)
    message = _xml_legal(details.message) if details.shown else f"hidden test {test.outcome}"
    tag = "failure" if test.outcome == "failed" else "error"
    element = ET.SubElement(
        case,
        tag,
        message=_first_line(message) or f"test {test.outcome}",
        type=_exception_type(test) if details.shown else "HiddenTestFailure",
    )
    element.text = _failure_body(message, details) if details.shown else message
    if details.output:
        ET.SubElement(case, "system-out").text = _xml_legal(details.output)


def _first_line(s: str) -> str:
    line = s.strip().split("\n", 1)[0] if s.strip() else ""
    return line if len(line) <= 300 else line[:300] + "…"


def _exception_type(test: TestResult) -> str:
    # The exception is on the last line: only the end of the traceback is read.
    lines = [ln for ln in clean_text((test.traceback or "")[-500:]).splitlines() if ln.strip()]
    if lines:
        match = _EXCEPTION_NAME.match(lines[-1].strip())
        if match:
            return match.group(1)
    return "TestFailure" if test.outcome == "failed" else "TestError"


def _failure_body(message: str, details: FailureDetails) -> str:
    blocks = [message] if message else []
    if details.example:
        blocks.append("Smallest failing input:\n" + _xml_legal(details.example))
    if details.traceback:
        blocks.append("Traceback (your code):\n" + _xml_legal(details.traceback))
    blocks += [xml_safe(artefact_line(a)) for a in details.artefacts]
    if details.timings:
        blocks.append("Timings: " + xml_safe(details.timings))
    return "\n\n".join(blocks)
