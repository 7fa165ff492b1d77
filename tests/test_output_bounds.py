"""Every scorecard format is bounded, and none shows a bidirectional or invisible character.

A failing test can carry a huge wrong answer (a 20 MB message, traceback or output), and a
result can hold thousands of failing tests: each format must stay under its cap, with a cut
note. Student text can also hold bidirectional controls ("Trojan Source") and zero-width
characters: no format may pass them on.
"""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from grader.results import TEXT_LIMITS, GradeResult, PartResult, bound_text, cut_text, score_parts
from grader.results import TestResult as TResult  # not named Test*: pytest would collect it
from grader.runner.plugin import GradingPlugin
from grader.scorecard import (
    gradescope,
    html,
    json_format,
    junit,
    markdown,
    render_gradescope,
    render_html,
    render_json,
    render_junit,
    render_markdown,
    render_terminal,
)
from grader.scorecard.sanitize import CUT_NOTE, INVISIBLE, SPENT_NOTE, clean_text, strip_invisible
from grader.testing import SHOW_LIMIT, assert_close, assert_equal

MB = 1024 * 1024
HUGE = 20 * MB
# The terminal prints to a console, not a file: its caps bound what it prints, which at 120
# columns is well under this many characters.
TERMINAL_MAX_CHARS = 1_000_000
TEXT_FIELDS = ("message", "falsifying_example", "traceback", "output")

# Every character the sanitiser must strip (the BMP scanned, plus the tag and variation
# selector blocks), and a Trojan Source line: what it shows is not what it is.
INVISIBLES = [
    chr(c) for c in [*range(0x10000), *range(0xE0000, 0xE01F0)] if INVISIBLE.match(chr(c))
]
TROJAN = 'access_level != "user\u202e \u2066// Check if admin\u2069 \u2066" admin\u202e\u2066 ok'
TROJAN_SHOWN = 'access_level != "user // Check if admin " admin ok'


def result_with(tests: list[TResult], **kwargs: Any) -> GradeResult:
    parts = [PartResult(name="conv", max_points=10, description="Convolutions")]
    result = GradeResult(
        assignment="cnn",
        title="CNN basics",
        assignment_version="3",
        submission="alice",
        parts=parts,
        tests=tests,
        max_score=10,
        metadata={"seed": 0},
        **kwargs,
    )
    result.score = score_parts(result.parts, result.tests)
    return result


def failing(i: int, **texts: str) -> TResult:
    return TResult(
        nodeid=f"tests/public/test_conv.py::test_values[{i}]",
        name=f"test_values[{i}]",
        part="conv",
        max_points=1,
        outcome="failed",
        **texts,  # type: ignore[arg-type]
    )


def terminal_text(result: GradeResult) -> str:
    console = Console(record=True, width=120, file=io.StringIO())
    render_terminal(result, console)
    return console.export_text()


def gradescope_text(result: GradeResult) -> str:
    """As grader.scorecard.render writes gradescope.json."""
    return json.dumps(render_gradescope(result), indent=2) + "\n"


def size(text: str) -> int:
    return len(text.encode("utf-8"))


def rendered(result: GradeResult) -> dict[str, str]:
    return {
        "json": render_json(result),
        "gradescope": gradescope_text(result),
        "junit": render_junit(result),
        "markdown": render_markdown(result, show_hidden_details=True),
        "terminal": terminal_text(result),
        "html": render_html(result),
    }


def check_caps(out: dict[str, str]) -> None:
    assert size(out["json"]) <= json_format.MAX_BYTES
    assert size(out["gradescope"]) <= gradescope.MAX_BYTES
    assert size(out["junit"]) <= junit.MAX_BYTES
    assert size(out["markdown"]) <= markdown.MAX_BYTES
    assert size(out["html"]) <= html.MAX_BYTES
    assert len(out["terminal"]) <= TERMINAL_MAX_CHARS


# --- one huge failure ------------------------------------------------------------------------


def test_a_20_mb_failure_is_cut_in_every_format() -> None:
    huge = {f: f"{f} " + "x" * HUGE + f" end of {f}" for f in TEXT_FIELDS}
    result = result_with([failing(0, **huge)], errors=["collection failed " + "e" * HUGE])
    out = rendered(result)
    check_caps(out)
    for name, text in out.items():
        assert size(text) < 200_000, name  # the per-field limits alone bound it
        if name in ("json", "gradescope"):
            text = json.dumps(json.loads(text), ensure_ascii=False)
        assert CUT_NOTE in text or "… (cut: " in text, name
    back = GradeResult.from_json(out["json"])
    test = back.tests[0]
    for field in TEXT_FIELDS:
        value = getattr(test, field)
        assert len(value) <= TEXT_LIMITS[field]
        assert f"(cut: {len(huge[field]):,} characters in all)" in value
    assert test.message.startswith("message xxx")  # the start of a message ...
    assert test.output.endswith("end of output")  # ... the end of what was printed
    assert test.traceback.endswith("end of traceback")
    assert back.score == result.score and back.tests[0].nodeid == result.tests[0].nodeid
    assert back.metadata["results_cut"]["texts_cut"] == 5
    shown = re.sub(r"[\s│]+", " ", out["terminal"])
    assert "end of output" in shown  # the output panel shows its last lines


def test_huge_ids_stay_unique_and_consistent_in_json() -> None:
    a, b = failing(0, message="a"), failing(1, message="b")
    a.nodeid = "tests/test_x.py::test_a[" + "p" * 50_000 + "1]"
    b.nodeid = "tests/test_x.py::test_a[" + "p" * 50_000 + "2]"
    result = result_with([a, b])
    back = GradeResult.from_json(render_json(result))
    ids = [t.nodeid for t in back.tests]
    assert len(set(ids)) == 2 and all(len(i) <= json_format.NODEID_LIMIT for i in ids)
    assert all("(cut; sha256 " in i for i in ids)
    assert back.part("conv").tests == ids
    assert back.test(ids[1][-30:]).message == "b"


def test_json_without_cuts_has_no_cut_note() -> None:
    result = result_with([failing(0, message="expected 1, got 2")])
    text = render_json(result)
    assert "results_cut" not in text
    assert GradeResult.from_json(text) == result


# --- many failures ---------------------------------------------------------------------------


def test_ten_thousand_failures_stay_under_every_cap() -> None:
    big = "y" * 64 * 1024  # one string shared by every test: little memory
    tests = [failing(i, message=big, output=big) for i in range(10_000)]
    result = result_with(tests, errors=["e" * 64 * 1024] * 500)
    out = rendered(result)
    check_caps(out)
    back = GradeResult.from_json(out["json"])
    assert back.score == result.score
    cut = back.metadata["results_cut"]
    assert cut["limit_bytes"] == json_format.MAX_BYTES and cut["texts_cut"] > 10_000
    assert len(back.tests) + cut.get("tests_left_out", 0) == 10_000
    assert back.errors[-1] == "… (cut: 400 more errors)"
    data = json.loads(out["gradescope"])
    assert data["score"] == result.score
    assert SPENT_NOTE in out["gradescope"] or "more tests" in out["gradescope"]
    ET.fromstring(out["junit"].encode("utf-8"))
    assert "more tests" in out["terminal"] and "more grader errors" in out["terminal"]


def test_many_tests_with_no_text_are_listed_whole() -> None:
    """The caps only bite on pathological results: 2,000 plain failures are all listed."""
    tests = [failing(i, message=f"expected {i}, got {i + 1}") for i in range(2_000)]
    result = result_with(tests)
    data = render_gradescope(result)
    assert len(data["tests"]) == 2_000
    assert len(list(ET.fromstring(render_junit(result)).iter("testcase"))) == 2_000
    assert GradeResult.from_json(render_json(result)) == result
    assert "expected 1999, got 2000" in render_markdown(result)


# --- invisible characters --------------------------------------------------------------------


def invisible_text() -> st.SearchStrategy[str]:
    """Text full of bidirectional controls and zero-width characters."""
    return st.lists(
        st.one_of(st.text(max_size=8), st.sampled_from(INVISIBLES)), min_size=1, max_size=12
    ).map("".join)


def strings_in(value: Any) -> list[str]:
    """Every string in a JSON value, keys included."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*strings_in(k), *strings_in(v))]
    if isinstance(value, list):
        return [s for v in value for s in strings_in(v)]
    return []


def everywhere(text: str) -> GradeResult:
    """A result with `text` in every string a student (or a test id) could reach."""
    test = TResult(
        nodeid=f"tests/public/test_conv.py::test_values[{text}]",
        name=f"test_values[{text}]",
        part="conv" + text,
        max_points=1,
        outcome="failed",
        description=text,
        message=text,
        falsifying_example=text,
        traceback=text,
        output=text,
        timings={"student_" + text + "_s": 1.0},
    )
    skipped = TResult(
        nodeid="tests/public/test_conv.py::test_skip" + text,
        name="test_skip" + text,
        part="conv" + text,
        max_points=1,
        outcome="skipped",
        message=text,
    )
    parts = [PartResult(name="conv" + text, max_points=2, description=text)]
    result = GradeResult(
        assignment="cnn" + text,
        title="CNN " + text,
        assignment_version=text,
        submission=text,
        parts=parts,
        tests=[test, skipped],
        errors=[text],
        metadata={"note" + text: text, "sandbox": {"active": [text], "inactive": {text: text}}},
        started_at=text,
    )
    result.score = score_parts(result.parts, result.tests)
    return result


@settings(derandomize=True, database=None, deadline=None, max_examples=40)
@given(invisible_text())
def test_no_format_passes_on_invisible_characters(text: str) -> None:
    result = everywhere(text)
    out = rendered(result)
    for name, rendering in out.items():
        assert not INVISIBLE.search(rendering), name
    for name in ("json", "gradescope"):
        for s in strings_in(json.loads(out[name])):
            assert not INVISIBLE.search(s), (name, s)
    junit_root = ET.fromstring(out["junit"].encode("utf-8"))
    for element in junit_root.iter():
        for s in (element.text or "", *element.attrib.values()):
            assert not INVISIBLE.search(s)
    assert not INVISIBLE.search(
        terminal_text(result) + render_markdown(result, show_hidden_details=False)
    )


def test_trojan_source_is_shown_without_its_controls() -> None:
    test = failing(0, message=TROJAN, traceback="Traceback:\nValueError: " + TROJAN)
    test.name = "test_" + TROJAN
    result = result_with([test])
    out = rendered(result)
    for name, rendering in out.items():
        assert "\u202e" not in rendering and "\u2066" not in rendering, name
    assert GradeResult.from_json(out["json"]).tests[0].message == TROJAN_SHOWN
    entry = json.loads(out["gradescope"])["tests"][0]
    assert TROJAN_SHOWN in entry["output"] and entry["name"] == "test_" + TROJAN_SHOWN
    failure = ET.fromstring(out["junit"].encode("utf-8")).find("testsuite/testcase/failure")
    assert failure is not None and failure.get("message") == TROJAN_SHOWN
    assert TROJAN_SHOWN in out["markdown"]
    assert TROJAN_SHOWN in out["terminal"]


def test_clean_text_strips_every_listed_invisible_character() -> None:
    listed = (
        "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"  # bidi
        "\u200b\u200c\u200d\u2060\u2061\u2062\u2063\u2064\ufeff\u180e"  # zero-width
        "\u00ad\u034f\ufe0f\U000e0041\U000e0100\u3164"  # and the other invisible ones
    )
    assert all(c in INVISIBLES for c in listed)
    assert clean_text("a" + listed + "b") == "ab"
    assert strip_invisible("a" + listed + "\x1b[2Jb") == "a\x1b[2Jb"  # only the invisibles
    visible = "é ✓ 中文 עברית العربية 🙂"
    assert clean_text(visible) == visible


# --- cutting at the source -------------------------------------------------------------------


def test_clean_text_work_is_bounded_by_the_limit() -> None:
    huge = "z" * HUGE + "END"
    head = clean_text(huge, 100)
    assert head == "z" * 100 + "\n" + CUT_NOTE
    assert clean_text(huge, 100, tail=True) == CUT_NOTE + "\n" + "z" * 97 + "END"


def test_cut_text_notes_the_length_and_is_idempotent() -> None:
    text = "a" * 50_000
    cut = cut_text(text, 1_000)
    assert len(cut) <= 1_000 and cut.endswith("… (cut: 50,000 characters in all)")
    assert cut_text(cut, 1_000) == cut
    tail = cut_text("b" * 10 + "c" * 5_000, 1_000, tail=True)
    assert tail.startswith("… (cut: 5,010 characters in all)\n") and tail.endswith("c" * 900)
    assert bound_text(None, "message") is None
    assert bound_text("short", "output") == "short"


def test_the_plugin_stores_bounded_texts() -> None:
    """`_explain` cuts the message a test built from a huge student value."""
    result = failing(0)
    exc = AssertionError("value: expected 'a', got " + "x" * HUGE)
    exc.add_note("Falsifying example: test_values(\n    x=" + "9" * HUGE + ",\n)")
    call = SimpleNamespace(excinfo=SimpleNamespace(value=exc), when="call")
    item = SimpleNamespace(fixturenames=["student"])
    GradingPlugin._explain(None, result, call, item)  # type: ignore[arg-type]
    assert result.message is not None and result.falsifying_example is not None
    assert len(result.message) <= TEXT_LIMITS["message"]
    assert result.message.startswith("value: expected 'a', got xxx")
    assert "characters in all)" in result.message
    assert len(result.falsifying_example) <= TEXT_LIMITS["falsifying_example"]
    result.traceback = "t" * HUGE
    result.bound_texts()
    assert result.traceback is not None and len(result.traceback) <= TEXT_LIMITS["traceback"]


@pytest.mark.parametrize(
    "got, expected",
    [
        ("s" * HUGE, "short"),
        (list(range(10**6)), [1, 2, 3]),
        ({i: "v" * 1_000 for i in range(10_000)}, {}),
        ("s" * HUGE, 3),  # a type mismatch
        (np.array(["s" * 100_000] * 3), np.array(["a"] * 3)),
    ],
)
def test_assertion_messages_are_bounded(got: Any, expected: Any) -> None:
    with pytest.raises(AssertionError) as info:
        assert_equal(got, expected, what="result")
    message = str(info.value)
    assert message.startswith("result: expected")
    assert len(message) <= 3 * SHOW_LIMIT


def test_small_values_are_shown_exactly() -> None:
    with pytest.raises(AssertionError, match=r"expected \[1, 2\], got \[1, 3\]$"):
        assert_equal([1, 3], [1, 2])
    with pytest.raises(AssertionError, match=r"expected 'ab', got 'a\\u202eb'$"):
        assert_equal("a\u202eb", "ab")  # repr escapes what print would hide
    with pytest.raises(AssertionError) as info:
        assert_close(np.full((500, 500), 2.0), np.ones((500, 500)))
    assert len(str(info.value)) < 2 * SHOW_LIMIT


# --- injection: HTML, CDATA ends, terminal escapes, rich markup -----------------------------

INJECTED = (
    '<script>alert(1)</script> <img src=x onerror="alert(2)"> ]]> </failure> '
    "\x1b[31mred\x1b[0m \x1b]8;;http://evil.example\x07link\x1b]8;;\x07 [bold red]markup[/] [link=http://x]y[/link]"
)


def injected_result() -> GradeResult:
    """A result whose every student-controlled string carries `INJECTED`."""
    test = failing(0, message="m " + INJECTED, falsifying_example="x=" + INJECTED,
                   traceback="Traceback:\nValueError: " + INJECTED, output="printed " + INJECTED)  # fmt: skip
    test.name = "test_" + INJECTED
    test.description = "d " + INJECTED
    test.timings = {"student_" + INJECTED: 1.0}
    test.artefacts = [{"kind": "series", "name": INJECTED, "title": "t " + INJECTED, "alt": INJECTED,
                       "x_label": INJECTED, "y_label": INJECTED,
                       "series": [{"label": INJECTED, "values": [1.0, 0.5]}]}]  # fmt: skip
    skipped = TResult(nodeid="tests/public/test_conv.py::test_skip", name="test_skip", part="conv",
                      max_points=1, outcome="skipped", message="skip " + INJECTED)  # fmt: skip
    result = result_with([test, skipped], errors=["grader " + INJECTED])
    result.title = "CNN " + INJECTED
    result.submission = "alice " + INJECTED
    result.parts[0].description = INJECTED
    return result


def test_injected_markup_is_inert_in_every_format() -> None:
    out = rendered(injected_result())
    for name, text in out.items():
        assert "\x1b" not in text and "\x07" not in text, name  # no terminal escape survives
    # JSON (results.json, gradescope.json): valid, and no decoded string holds an escape.
    for name in ("json", "gradescope"):
        for s in strings_in(json.loads(out[name])):
            assert "\x1b" not in s or name == "json", (name, s)  # results.json keeps them escaped
    assert all(t["output_format"] == "text" for t in json.loads(out["gradescope"])["tests"])
    # JUnit: `]]>` and `</failure>` do not break the XML; no decoded text holds an escape.
    root = ET.fromstring(out["junit"].encode("utf-8"))
    assert len(root.findall("testsuite/testcase")) == 2
    for element in root.iter():
        for s in (element.text or "", *element.attrib.values()):
            assert "\x1b" not in s
    # Markdown and HTML: no tag from the student's text is a tag.
    # (Markdown's code fences show their text literally: only what is outside them counts.)
    for name, text in (("markdown", outside_fences(out["markdown"])), ("html", out["html"])):
        assert "<script" not in text.lower() and "<img src=x" not in text, name
        assert "&lt;script&gt;" in text, name
    tags = re.findall(r"<\s*([a-zA-Z][\w-]*)([^>]*)>", out["html"])
    assert {t for t, _ in tags} <= html_tags_we_write()
    assert not any(re.search(r"\son\w+\s*=", attrs) for _, attrs in tags)  # no event handler
    # Terminal: rich markup printed literally, not interpreted.
    assert "[bold red]markup[/]" in out["terminal"]


def html_tags_we_write() -> set[str]:
    """Every tag name grader.scorecard.html writes."""
    source = Path(html.__file__ or "").read_text(encoding="utf-8")
    return set(re.findall(r"<([a-z][a-z0-9]*)[\s>/]", source)) | {"html"}


def outside_fences(md: str) -> str:
    """The lines of `md` outside its code fences (a fence is closed by one at least as long)."""
    kept, fence = [], ""
    for line in md.split("\n"):
        run = re.match(r"`{3,}", line)
        if fence and run and len(run.group()) >= len(fence) and not line.strip("`").strip():
            fence = ""
        elif not fence and run:
            fence = run.group()
        elif not fence:
            kept.append(line)
    return "\n".join(kept)
