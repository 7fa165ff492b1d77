"""Tests for the scorecard renderers (grader.scorecard): one result model, five formats."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from junitparser import Error, Failure, JUnitXml, Skipped
from rich.console import Console

from grader.results import GradeResult, PartResult, score_parts
from grader.results import TestResult as TResult  # not named Test*: pytest would collect it
from grader.scorecard import (
    FILE_NAMES,
    FORMATS,
    Policy,
    parse_formats,
    render,
    render_gradescope,
    render_json,
    render_junit,
    render_markdown,
    render_terminal,
)
from grader.scorecard.markdown import code_block, md_code, md_inline
from grader.scorecard.sanitize import (
    CUT_NOTE,
    INVISIBLE,
    clean_text,
    format_points,
    format_timings,
)

FAST = settings(derandomize=True, database=None, deadline=None, max_examples=60)

MARKUP = "[red]x[/red]"
LINK = "[link=https://evil.example]click[/link]"
HOSTILE = (
    f"{MARKUP} {LINK} \x1b[2J\x1b]0;pwned\x07 nul\x00bs\x08 ]]> </failure> "
    "```` <script>alert(1)</script> a|b"
)
SECRET = "SECRET-hidden-detail"
# Characters no rendered text may contain: C0 controls except \t and \n, DEL, C1, surrogates.
FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
ROOT = Path(__file__).resolve().parents[1]


def visible(c: str) -> bool:
    """Not one of the invisible characters that clean_text strips."""
    return not INVISIBLE.match(c)


def make_result(*, errors: list[str] | None = None, hostile_names: bool = False) -> GradeResult:
    """A graded submission with passed, failed, error, skipped, public and hidden tests."""
    conv = "conv | " + MARKUP if hostile_names else "conv"
    parts = [
        PartResult(name=conv, max_points=10, description="A 2-D convolution | with " + MARKUP),
        PartResult(name="pool", max_points=5, description="Max pooling"),
        PartResult(name="train", max_points=5, description="Training loop"),
        PartResult(name="bonus", max_points=2, description="No test ran for this part"),
    ]
    tests = [
        TResult(
            nodeid="tests/public/test_conv.py::test_shape",
            name="test_shape",
            part=conv,
            max_points=2.5,
            outcome="passed",
            description="The output has the right shape.",
            duration=0.5,
        ),
        TResult(
            nodeid="tests/public/test_conv.py::test_values",
            name="test_values",
            part=conv,
            max_points=2.5,
            outcome="failed",
            description="The output has the right values.",
            message="expected 0.25 at [0, 0], got 0.5 " + HOSTILE,
            falsifying_example="Falsifying example: test_values(\n    x=tensor([[0.5]]),\n)",
            traceback=(
                'Traceback (most recent call last):\n  File "conv.py", line 3, in conv2d\n'
                "    return x * 2 \x1b[31m\n"
                "ValueError: bad kernel " + MARKUP
            ),
            output="epoch 1\rprogress 50%\r\nprinted " + LINK + "\n",
            duration=1.25,
            timings={"student_train_s": 3.1, "reference_train_s": 2.0},
        ),
        TResult(
            nodeid="tests/public/test_conv.py::test_grad",
            name="test_grad",
            part=conv,
            max_points=5,
            outcome="passed",
            duration=0.75,
        ),
        TResult(
            nodeid="tests/public/test_pool.py::test_pool_setup",
            name="test_pool_setup",
            part="pool",
            max_points=2.5,
            outcome="error",
            message="(setup) RuntimeError: your module could not be imported",
            traceback="Traceback (most recent call last):\nRuntimeError: import failed",
            duration=0.1,
        ),
        TResult(
            nodeid="tests/hidden/test_pool.py::test_pool_hidden",
            name="test_pool_hidden",
            part="pool",
            max_points=2.5,
            outcome="failed",
            visibility="hidden",
            description="Pooling on odd sizes.",
            message=f"{SECRET} message",
            falsifying_example=f"Falsifying example: {SECRET}(x=3)",
            traceback=f"Traceback:\nAssertionError: {SECRET}",
            output=f"{SECRET} output",
            duration=0.2,
        ),
        TResult(
            nodeid="tests/public/test_train.py::test_train_gpu",
            name="test_train_gpu",
            part="train",
            max_points=5,
            outcome="skipped",
            message="needs a GPU",
        ),
        TResult(
            nodeid="tests/hidden/test_train.py::test_train_hidden_ok",
            name="test_train_hidden_ok",
            part="train",
            max_points=0,
            outcome="passed",
            visibility="hidden",
        ),
    ]
    score = score_parts(parts, tests)
    return GradeResult(
        assignment="cnn",
        title="CNN basics " + MARKUP,
        assignment_version="3",
        submission="alice",
        score=score,
        max_score=sum(p.max_points for p in parts),
        parts=parts,
        tests=tests,
        errors=list(errors or []),
        metadata={"seed": 0, "machine": {"python": "3.11"}},
        duration=12.6,
        started_at="2025-01-31T12:00:00+00:00",
    )


def terminal_text(result: GradeResult, **kwargs: bool) -> str:
    console = Console(record=True, width=120, file=io.StringIO())
    render_terminal(result, console, **kwargs)
    return console.export_text()


def hostile_text() -> st.SearchStrategy[str]:
    """Text biased towards what breaks renderers: controls, escapes, markup, XML, fences."""
    tokens = st.sampled_from(
        ["\x1b", "\x1b[2J", "\x1b]0;t\x07", "\x00", "\r", "\n", "\t", "\x7f", "\x9b", "\ufffe",
         "\uffff", "\ud800", "[red]", "[/]", "[link=x]", "]]>", "<", "&", "</failure>", "```",
         "|", "\\"]
    )  # fmt: skip
    return st.lists(st.one_of(st.text(max_size=20), tokens), max_size=12).map("".join)


def with_strings(text: str) -> GradeResult:
    result = make_result(errors=[text])
    test = result.test("test_values")
    test.name = test.name + text
    test.message = text
    test.traceback = text
    test.falsifying_example = text
    test.output = text
    result.parts[0].description = text
    return result


# --- sanitize --------------------------------------------------------------------------------


def test_clean_text_removes_escapes_and_controls() -> None:
    assert clean_text("\x1b[1;31mred\x1b[0m") == "red"
    assert clean_text("a\x1b]0;window title\x07b") == "ab"
    assert clean_text("a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b") == "alinkb"
    assert clean_text("a\x00b\x08c\x0bd\x7fe\x9bf") == "abcdef"
    assert clean_text("keep\ttabs\nand lines") == "keep\ttabs\nand lines"
    assert clean_text("one\r\ntwo\rthree") == "one\ntwo\nthree"
    assert clean_text("lone \x1b] stays visible") == "lone ] stays visible"
    # markup is not control characters: keeping it inert is each renderer's job
    assert clean_text(MARKUP) == MARKUP


def test_clean_text_limit_cuts_head_or_tail() -> None:
    assert clean_text("abcdef", 10) == "abcdef"
    assert clean_text("abcdef", 3) == "abc\n" + CUT_NOTE
    assert clean_text("abcdef", 3, tail=True) == CUT_NOTE + "\ndef"
    assert clean_text("\x1b[2Jabc", 3) == "abc"  # the limit counts what is shown


@FAST
@given(hostile_text())
def test_clean_text_leaves_no_control_characters(s: str) -> None:
    out = clean_text(s)
    assert not FORBIDDEN.search(out)
    assert "\x1b" not in out and "\r" not in out
    assert clean_text(out) == out  # idempotent


@FAST
@given(st.text(alphabet=st.characters(exclude_categories=("Cc", "Cs")).filter(visible)))
def test_clean_text_keeps_printable_text(s: str) -> None:
    assert clean_text(s) == s


@FAST
@given(hostile_text(), st.integers(min_value=0, max_value=30), st.booleans())
def test_clean_text_limit_bounds_length(s: str, limit: int, tail: bool) -> None:
    full = clean_text(s)
    out = clean_text(s, limit, tail=tail)
    if len(full) <= limit:
        assert out == full
    else:
        assert len(out) == limit + len(CUT_NOTE) + 1
        assert out.endswith(full[len(full) - limit :]) if tail else out.startswith(full[:limit])


def test_number_and_timing_formats() -> None:
    assert [format_points(x) for x in (7.5, 10.0, 0.0, 1 / 3, 2.999, -0.001)] == [
        "7.5", "10", "0", "0.33", "3", "0",
    ]  # fmt: skip
    assert format_timings({"student_train_s": 3.1, "reference_train_s": 2.0}) == (
        "your train: 3.1 s, reference train: 2.0 s"
    )
    assert format_timings({"load": 0.0421}) == "load: 0.042 s"
    assert format_timings({}) == ""
    assert format_timings({"student_forward_cpu_s": 0.0112, "forward_ratio": 1.4567}) == (
        "your forward cpu: 0.011 s, forward ratio: 1.46×"
    )


# --- parse_formats and render ----------------------------------------------------------------


def test_parse_formats() -> None:
    assert parse_formats("terminal") == ["terminal"]
    assert parse_formats(" JSON, junit ,json,, markdown") == ["json", "junit", "markdown"]
    assert parse_formats(",".join(FORMATS)) == list(FORMATS)


@pytest.mark.parametrize("text", ["pdf", "json,xml", "", " , "])
def test_parse_formats_rejects_unknown_or_missing(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_formats(text)
    message = str(info.value)
    assert "\n" not in message
    assert all(name in message for name in FORMATS)


def test_render_writes_every_file_format(tmp_path: Path) -> None:
    result = make_result()
    console = Console(record=True, width=120, file=io.StringIO())
    out = tmp_path / "out" / "nested"
    written = render(result, list(FORMATS), out, console=console)
    assert written == [out / FILE_NAMES[f] for f in FORMATS if f != "terminal"]
    assert {p.name for p in written} == {
        "results.json",
        "gradescope.json",
        "junit.xml",
        "scorecard.md",
        "report.html",
    }
    assert GradeResult.from_json((out / "results.json").read_text()) == result
    assert json.loads((out / "gradescope.json").read_text())["score"] == result.score
    JUnitXml.fromfile(str(out / "junit.xml"))
    assert (out / "scorecard.md").read_text(encoding="utf-8") == render_markdown(result)
    assert "test_values" in console.export_text()


def test_render_terminal_only_needs_no_folder() -> None:
    console = Console(record=True, width=120, file=io.StringIO())
    assert render(make_result(), ["terminal"], None, console=console) == []
    assert "Total" in console.export_text()


def test_render_file_format_without_folder_fails_before_printing() -> None:
    console = Console(record=True, width=120, file=io.StringIO())
    with pytest.raises(ValueError, match="junit"):
        render(make_result(), ["terminal", "junit"], None, console=console)
    assert console.export_text() == ""
    with pytest.raises(ValueError, match="valid formats"):
        render(make_result(), ["pdf"], None, console=console)


# --- terminal --------------------------------------------------------------------------------


def test_terminal_shows_parts_marks_and_total() -> None:
    text = terminal_text(make_result())
    for row in (
        "conv",
        "7.5 / 10",
        "pool",
        "0 / 5",
        "train",
        "bonus",
        "0 / 2",
        "Total",
        "7.5 / 22",
    ):
        assert row in text
    conv_line = next(line for line in text.splitlines() if "7.5 / 10" in line)
    assert "◐" in conv_line
    assert "✗" in next(line for line in text.splitlines() if "pool" in line and "0 / 5" in line)
    full = make_result()
    for t in full.tests:
        t.outcome = "passed"
    full.score = score_parts(full.parts, full.tests)
    assert "✓" in next(line for line in terminal_text(full).splitlines() if "10 / 10" in line)


def test_terminal_shows_failure_details() -> None:
    text = terminal_text(make_result())
    assert "test_values" in text and "test_pool_setup" in text and "(error)" in text
    assert "expected 0.25 at [0, 0], got 0.5" in text
    assert "Smallest failing input" in text
    assert "x=tensor([[0.5]])" in text
    assert "ValueError: bad kernel" in text
    assert "progress 50%" in text
    assert "your train: 3.1 s, reference train: 2.0 s" in text
    assert "The output has the right values." in text
    assert "test_train_gpu" in text and "needs a GPU" in text  # skipped, listed
    assert "test_shape" not in text  # passed tests get no panel


def test_terminal_never_interprets_student_text() -> None:
    result = make_result(hostile_names=True)
    text = terminal_text(result)
    assert "\x1b" not in text and not FORBIDDEN.search(text)
    assert MARKUP in text
    assert LINK in text
    assert "<script>alert(1)</script>" in text
    # On a real colour terminal the only escapes are rich's own styles: none of the student's.
    raw = io.StringIO()
    render_terminal(
        result, Console(file=raw, width=120, force_terminal=True, color_system="truecolor")
    )
    assert "\x1b[2J" not in raw.getvalue() and "\x1b]0;" not in raw.getvalue()
    assert "\x1b]8;" not in raw.getvalue()  # no hyperlink from [link=...]


def test_terminal_shows_grader_errors() -> None:
    text = terminal_text(make_result(errors=["collection failed: " + MARKUP]))
    assert "Grader errors" in text
    assert "collection failed: " + MARKUP in text
    assert "grade is not valid" in text


def test_terminal_can_hide_hidden_details() -> None:
    assert SECRET in terminal_text(make_result())
    text = terminal_text(make_result(), show_hidden_details=False)
    assert SECRET not in text
    assert "test_pool_hidden" in text and "hidden test" in text


@FAST
@given(hostile_text())
def test_terminal_output_has_no_control_characters(s: str) -> None:
    text = terminal_text(with_strings(s))
    assert not FORBIDDEN.search(text)
    assert "\x1b" not in text


# --- json ------------------------------------------------------------------------------------


def test_json_round_trips_exactly() -> None:
    for result in (make_result(), make_result(errors=[HOSTILE], hostile_names=True)):
        text = render_json(result)
        assert text.isascii() and text.endswith("\n")
        assert GradeResult.from_json(text) == result
        assert json.loads(text)["schema_version"] == 1


def test_json_without_timings_is_byte_identical() -> None:
    a, b = make_result(), make_result()
    b.duration = 99.9
    b.started_at = "2030-01-01T00:00:00+00:00"
    b.metadata["machine"] = {"python": "3.13", "cuda": "H100"}
    for t in b.tests:
        t.duration += 1.5
        t.timings = {k: v * 2 for k, v in t.timings.items()}
    assert render_json(a) != render_json(b)
    assert render_json(a, timings=False) == render_json(b, timings=False)
    stripped = json.loads(render_json(a, timings=False))
    assert "duration" not in stripped and "timings" not in stripped["tests"][0]
    assert GradeResult.from_json(render_json(a, timings=False)).score == a.score


def test_schema_doc_describes_every_field() -> None:
    doc = (ROOT / "docs" / "results-schema.md").read_text(encoding="utf-8")
    assert "schema_version 1" in doc
    for cls in (GradeResult, PartResult, TResult):
        for f in dataclasses.fields(cls):
            assert f"| `{f.name}` |" in doc, f"{cls.__name__}.{f.name} is not documented"


# --- gradescope ------------------------------------------------------------------------------

TEST_KEYS = {
    "score": float,
    "max_score": float,
    "status": str,
    "name": str,
    "name_format": str,
    "number": str,
    "output": str,
    "output_format": str,
    "tags": list,
    "visibility": str,
}


def check_gradescope_structure(data: dict, result: GradeResult) -> None:
    json.dumps(data, allow_nan=False)  # serialisable as strict JSON
    assert isinstance(data["score"], float) and data["score"] == result.score
    assert type(data["execution_time"]) is int and data["execution_time"] >= 0
    assert isinstance(data["output"], str) and data["output"]
    assert data["visibility"] == "visible"
    assert data["stdout_visibility"] == "hidden"
    assert data["output_format"] == data["test_output_format"] == data["test_name_format"] == "text"
    assert "leaderboard" not in data
    assert len(data["tests"]) == len(result.tests)
    numbers = [t["number"] for t in data["tests"]]
    assert len(set(numbers)) == len(numbers)
    for entry in data["tests"]:
        for key, kind in TEST_KEYS.items():
            assert isinstance(entry[key], kind), (key, entry)
        assert entry["status"] in ("passed", "failed")
        assert entry["name_format"] in ("text", "md") and entry["output_format"] in ("text", "md")
        assert re.fullmatch(r"\d+\.\d+", entry["number"])
        assert entry["visibility"] in ("visible", "after_published")
        assert len(entry["tags"]) == 1 and isinstance(entry["tags"][0], str)
        assert 0 <= entry["score"] <= entry["max_score"]


def test_gradescope_structure() -> None:
    result = make_result()
    data = render_gradescope(result)
    check_gradescope_structure(data, result)
    assert data["execution_time"] == 13
    assert sum(t["score"] for t in data["tests"]) == pytest.approx(result.score)
    by_name = {t["name"]: t for t in data["tests"]}
    assert by_name["test_shape"]["status"] == "passed" and by_name["test_shape"]["score"] == 2.5
    assert by_name["test_values"]["status"] == "failed" and by_name["test_values"]["score"] == 0
    assert by_name["test_pool_setup"]["status"] == "failed"
    assert by_name["test_train_gpu"]["status"] == "failed"
    # the zero-point hidden test that passed is still "passed", not "failed" by score
    assert by_name["test_train_hidden_ok"]["status"] == "passed"
    assert [by_name[n]["number"] for n in ("test_shape", "test_values", "test_grad")] == [
        "1.1",
        "1.2",
        "1.3",
    ]
    assert by_name["test_pool_setup"]["number"] == "2.1"
    assert by_name["test_values"]["tags"] == ["conv"]
    assert "7.5 / 10" in data["output"] and "7.5 / 22" in data["output"]


def test_gradescope_public_failure_has_details() -> None:
    entry = next(t for t in render_gradescope(make_result())["tests"] if t["name"] == "test_values")
    assert entry["visibility"] == "visible"
    out = entry["output"]
    assert "expected 0.25 at [0, 0], got 0.5" in out
    assert "Smallest failing input:" in out and "x=tensor([[0.5]])" in out
    assert "ValueError: bad kernel" in out
    assert "your train: 3.1 s" in out
    assert not FORBIDDEN.search(out)


def test_gradescope_hides_hidden_details() -> None:
    data = render_gradescope(make_result())
    hidden = [
        t for t in data["tests"] if t["name"].startswith(("test_pool_hidden", "test_train_hidden"))
    ]
    assert {t["visibility"] for t in hidden} == {"after_published"}
    failed = next(t for t in hidden if t["name"] == "test_pool_hidden")
    assert failed["output"] == "Hidden test failed (part pool)."
    assert next(t for t in hidden if t["name"] == "test_train_hidden_ok")["output"] == "Passed."
    assert SECRET not in json.dumps(data)


def test_gradescope_reports_grader_errors_and_caps() -> None:
    result = make_result(errors=["collection failed " + HOSTILE])
    result.test("test_values").outcome = "passed"
    result.parts[0].max_points = 8  # passed tests in conv add up to 10, capped at 8
    result.score = score_parts(result.parts, result.tests)
    data = render_gradescope(result)
    check_gradescope_structure(data, result)
    assert data["score"] == result.score == 8
    assert "GRADER ERRORS" in data["output"] and "collection failed" in data["output"]
    assert not FORBIDDEN.search(data["output"])
    assert data["extra_data"]["grader_errors"]


# --- junit -----------------------------------------------------------------------------------


def parse_junit(text: str) -> list:
    xml = JUnitXml.fromstring(text)
    suites = list(xml)
    assert len(suites) == 1
    return [suites[0], list(suites[0])]


def test_junit_counts_and_names() -> None:
    result = make_result()
    text = render_junit(result)
    suite, cases = parse_junit(text)
    assert suite.name == "cnn"
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (7, 2, 1, 1)
    assert [c.name for c in cases] == [t.name for t in result.tests]
    assert {c.classname for c in cases} == {"cnn.conv", "cnn.pool", "cnn.train"}
    kinds = {c.name: [type(r) for r in c.result] for c in cases}
    assert kinds["test_values"] == [Failure] and kinds["test_pool_hidden"] == [Failure]
    assert kinds["test_pool_setup"] == [Error] and kinds["test_train_gpu"] == [Skipped]
    assert kinds["test_shape"] == []
    props = {p.name: p.value for p in suite.properties()}
    assert props["score"] == "7.5" and props["max_score"] == "22"


def test_junit_failure_body_and_hostile_strings() -> None:
    result = make_result(errors=[HOSTILE], hostile_names=True)
    text = render_junit(result)
    assert not FORBIDDEN.search(text.replace("\n", ""))
    _, cases = parse_junit(text)
    failure = next(c for c in cases if c.name == "test_values").result[0]
    assert failure.type == "ValueError"
    assert "]]>" in failure.message and "</failure>" in failure.message
    assert "Smallest failing input" in failure.text and "x=tensor([[0.5]])" in failure.text
    assert "ValueError: bad kernel" in failure.text
    root = ET.fromstring(text.split("?>", 1)[1])
    assert root.find("testsuite/system-err") is not None


def test_junit_can_hide_hidden_details() -> None:
    assert SECRET in render_junit(make_result())
    text = render_junit(make_result(), show_hidden_details=False)
    assert SECRET not in text
    parse_junit(text)


@FAST
@given(hostile_text())
def test_junit_survives_any_text(s: str) -> None:
    result = with_strings(s)
    text = render_junit(result)
    suite, cases = parse_junit(text)
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (7, 2, 1, 1)
    assert len(cases) == 7
    ET.fromstring(text.encode("utf-8"))


# --- markdown --------------------------------------------------------------------------------

_CELL_SPLIT = re.compile(r"(?<!\\)\|")


def table_rows(md: str) -> list[list[str]]:
    """The cells of each table row outside code fences (where a `|` line is just text)."""
    return [
        _CELL_SPLIT.split(line)[1:-1]
        for line in outside_fences(md).splitlines()
        if line.startswith("|")
    ]


def test_markdown_table_and_failures() -> None:
    result = make_result(hostile_names=True)
    md = render_markdown(result)
    rows = table_rows(md)
    assert len(rows) == 2 + len(result.parts) + 1  # header, rule, parts, total
    assert all(len(r) == 4 for r in rows)
    assert "7.5 / 10" in rows[2][1] and "◐" in rows[2][2]
    assert "**7.5 / 22**" in rows[-1][1]
    assert "<script>" not in outside_fences(md)  # HTML from students is escaped (fenced: inert)
    assert md.count("<details>") == md.count("</details>") == 3
    assert "**Smallest failing input**" in md and "x=tensor([[0.5]])" in md
    assert "- `test_train_gpu` (part train): needs a GPU" in md  # skipped list


def test_markdown_hides_hidden_details_from_students() -> None:
    # The audience decides (grader.scorecard.view): the instructor's card is the default.
    assert SECRET not in render_markdown(make_result(), student=True)
    assert SECRET not in render_markdown(make_result(), policy=Policy("student"))
    assert SECRET in render_markdown(make_result())
    assert SECRET in render_markdown(make_result(), show_hidden_details=True)


def split_fences(md: str) -> tuple[list[tuple[str, str]], str]:
    """(fence, body) of each fenced block, closing fences the CommonMark way; and the rest."""
    blocks, rest, lines, i = [], [], md.split("\n"), 0
    while i < len(lines):
        m = re.match(r"^(`{3,})[^`]*$", lines[i])
        if not m:
            rest.append(lines[i])
            i += 1
            continue
        fence, body, i = m.group(1), [], i + 1
        while i < len(lines) and not re.fullmatch(rf" {{0,3}}`{{{len(fence)},}}\s*", lines[i]):
            body.append(lines[i])
            i += 1
        assert i < len(lines), "unclosed fence"
        blocks.append((fence, "\n".join(body)))
        i += 1
    return blocks, "\n".join(rest)


def fenced_blocks(md: str) -> list[tuple[str, str]]:
    return split_fences(md)[0]


def outside_fences(md: str) -> str:
    return split_fences(md)[1]


def test_markdown_fences_hold_backtick_runs() -> None:
    md = render_markdown(make_result())
    blocks = fenced_blocks(md)
    message = next(body for _, body in blocks if "expected 0.25" in body)
    assert "```` <script>alert(1)</script> a|b" in message  # kept whole, in one block


@FAST
@given(hostile_text())
def test_code_block_cannot_be_closed_from_inside(s: str) -> None:
    text = clean_text(s)
    [(fence, body)] = fenced_blocks(code_block(text))
    assert body == text.removesuffix("\n")


@FAST
@given(hostile_text())
def test_code_span_delimiters_are_not_in_the_text(s: str) -> None:
    span = md_code(s)
    n = len(span) - len(span.lstrip("`"))
    inner = span[n : len(span) - n]
    assert span.endswith("`" * n) and "\n" not in span
    assert all(len(run) != n for run in re.findall(r"`+", inner))


@FAST
@given(hostile_text())
def test_markdown_inline_text_stays_in_its_cell(s: str) -> None:
    cell = md_inline(s)
    assert "\n" not in cell and not _CELL_SPLIT.search(cell)
    assert "<" not in cell and ">" not in cell
    result = with_strings(s)
    rows = table_rows(render_markdown(result))
    assert all(len(r) == 4 for r in rows)
    assert len(rows) == 2 + len(result.parts) + 1


def test_every_scorecard_names_the_sandbox_layers() -> None:
    result = make_result()
    result.metadata["sandbox"] = {
        "active": ["zygote", "landlock", "seccomp"],
        "inactive": {"slot uid": "uid 62000 cannot run /root/x: \x1b[31m/root is mode 0700"},
    }
    expected = "sandbox: 3 layers active (zygote, landlock, seccomp); off: slot uid (uid 62000 cannot run"
    assert expected in " ".join(terminal_text(result).split())
    assert "\x1b[31m" not in terminal_text(result)
    assert expected in render_markdown(result).replace("\\", "")  # Markdown escapes ( and )
    assert render_gradescope(result)["extra_data"]["sandbox"].startswith(expected)
    props = {p.get("name"): p.get("value") for p in ET.fromstring(render_junit(result)).iter("property")}
    assert props["sandbox"].startswith(expected)
    assert "sandbox" in result.to_dict()["metadata"]
    assert "sandbox" not in result.to_dict(timings=False)["metadata"]  # it depends on the machine
    result.metadata.pop("sandbox")
    assert "sandbox" not in render_markdown(result) and "sandbox" not in render_gradescope(result)["extra_data"]
