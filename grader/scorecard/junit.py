"""JUnit XML (the common Jenkins / GitHub / GitLab dialect), built with ElementTree.

ElementTree escapes `<`, `&`, quotes and so on, but it happily writes characters that XML 1.0
forbids (most C0 controls, U+FFFE, U+FFFF, lone surrogates), so every string goes through
`clean_text` and then `xml_safe` before it reaches the tree.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from grader.results import GradeResult, TestResult
from grader.scorecard.sanitize import clean_text, format_points, format_timings, sandbox_summary

MESSAGE_LIMIT = 4_000
EXAMPLE_LIMIT = 4_000
TRACEBACK_LIMIT = 8_000
OUTPUT_LIMIT = 4_000

# Anything outside XML 1.0's Char production:
# #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_EXCEPTION_NAME = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Failure|Interrupt|Exit))\b")


def xml_safe(s: str, limit: int | None = None) -> str:
    """`clean_text(s, limit)` with every character XML 1.0 forbids removed."""
    return _XML_ILLEGAL.sub("", clean_text(s, limit))


def render_junit(result: GradeResult, *, show_hidden_details: bool = True) -> str:
    """The result as a JUnit XML document (one `<testsuite>` named after the assignment).

    With `show_hidden_details=False`, failures of hidden tests carry no message, example,
    traceback or output.
    """
    assignment = xml_safe(result.assignment, 200)
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
        ET.SubElement(props, "property", name=name, value=xml_safe(value, 1_000))
    sandbox = sandbox_summary(result.metadata)
    if sandbox:
        ET.SubElement(props, "property", name="sandbox", value=xml_safe(sandbox, 2_000))
    for error in result.errors:
        ET.SubElement(props, "property", name="grader_error", value=xml_safe(error, 4_000))
    for part in result.parts:
        ET.SubElement(
            props,
            "property",
            name=f"part:{xml_safe(part.name, 200)}",
            value=f"{format_points(part.points)}/{format_points(part.max_points)}",
        )
    for test in result.tests:
        details = show_hidden_details or test.visibility != "hidden"
        _testcase(suite, assignment, test, details)
    if result.errors:
        err = ET.SubElement(suite, "system-err")
        err.text = "Grader errors (this grade is not valid):\n" + "\n".join(
            xml_safe(e, 4_000) for e in result.errors
        )
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _seconds(x: float) -> str:
    return f"{max(float(x), 0.0):.3f}"


def _testcase(suite: ET.Element, assignment: str, test: TestResult, details: bool) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        classname=f"{assignment}.{xml_safe(test.part, 200)}",
        name=xml_safe(test.name, 500),
        time=_seconds(test.duration),
    )
    message = xml_safe(test.message or "", MESSAGE_LIMIT) if details else ""
    if test.outcome == "skipped":
        ET.SubElement(case, "skipped", message=message or "skipped")
    elif test.outcome in ("failed", "error"):
        if not details:
            message = f"hidden test {test.outcome}"
        tag = "failure" if test.outcome == "failed" else "error"
        element = ET.SubElement(
            case,
            tag,
            message=_first_line(message) or f"test {test.outcome}",
            type=_exception_type(test) if details else "HiddenTestFailure",
        )
        element.text = _failure_body(test, message) if details else message
    if details and test.output and test.outcome != "passed":
        out = ET.SubElement(case, "system-out")
        out.text = xml_safe(test.output, OUTPUT_LIMIT)


def _first_line(s: str) -> str:
    line = s.strip().split("\n", 1)[0] if s.strip() else ""
    return line if len(line) <= 300 else line[:300] + "…"


def _exception_type(test: TestResult) -> str:
    lines = [
        ln for ln in xml_safe(test.traceback or "", TRACEBACK_LIMIT).splitlines() if ln.strip()
    ]
    if lines:
        match = _EXCEPTION_NAME.match(lines[-1].strip())
        if match:
            return match.group(1)
    return "TestFailure" if test.outcome == "failed" else "TestError"


def _failure_body(test: TestResult, message: str) -> str:
    blocks = [message] if message else []
    if test.falsifying_example:
        blocks.append(
            "Smallest failing input:\n" + xml_safe(test.falsifying_example, EXAMPLE_LIMIT)
        )
    if test.traceback:
        blocks.append("Traceback (your code):\n" + xml_safe(test.traceback, TRACEBACK_LIMIT))
    if test.timings:
        blocks.append("Timings: " + xml_safe(format_timings(test.timings)))
    return "\n\n".join(blocks)
