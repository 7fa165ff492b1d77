"""The scorecards' one view-model (grader.scorecard.view): audiences, the format registry, and
artefacts in the results model (bounds, JSON round trip)."""

from __future__ import annotations

import base64
import io
import json
import struct
import zlib
from pathlib import Path

import pytest
from rich.console import Console

from grader.results import GradeResult, PartResult, score_parts
from grader.results import TestResult as TResult  # not named Test*: pytest would collect it
from grader.scorecard import FILE_NAMES, FORMATS, REGISTRY, Policy, render
from grader.scorecard.artefacts import (
    IMAGE_BYTES,
    MAX_ARTEFACTS,
    MAX_POINTS,
    bound_artefacts,
    budget,
    image,
    series,
)
from grader.scorecard.view import artefact_line, redact

SECRET = "SECRET-hidden-detail"


def png(width: int = 2, height: int = 2) -> bytes:
    """A valid grey PNG, built here (no imaging library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes([128] * width) for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def curves() -> dict:
    return series("val_loss", "Validation loss per epoch", {"your submission": [1.0, 0.5], "reference": [0.9, 0.4]},
                  public=True)  # fmt: skip


def result() -> GradeResult:
    """One failing public test, one failing hidden test (with secrets), one passing with curves."""
    public = TResult(nodeid="tests/public/test_a.py::test_a", name="test_a", part="a", max_points=1,
                     message="expected 1, got 2", traceback="Traceback:\nAssertionError")  # fmt: skip
    hidden = TResult(nodeid="tests/hidden/test_b.py::test_b", name="test_b", part="a", max_points=1,
                     visibility="hidden", message=f"{SECRET} message", falsifying_example=f"{SECRET}(x=3)",
                     traceback=f"Traceback:\n{SECRET}", output=f"{SECRET} output",
                     artefacts=[series("s", SECRET, {SECRET: [1.0]})])  # fmt: skip
    trained = TResult(nodeid="tests/hidden/test_t.py::test_t", name="test_t", part="a", max_points=1,
                      outcome="passed", visibility="hidden", artefacts=[curves()])  # fmt: skip
    r = GradeResult(assignment="x", title="X", assignment_version="1", submission="alice",
                    parts=[PartResult(name="a", max_points=3)], tests=[public, hidden, trained],
                    metadata={"sandbox": {"active": ["zygote", "seccomp"]}})  # fmt: skip
    r.score = score_parts(r.parts, r.tests)
    r.max_score = 3
    return r


def rendered(tmp_path: Path, policy: Policy) -> dict[str, str]:
    console = Console(record=True, width=120, file=io.StringIO())
    written = render(result(), list(FORMATS), tmp_path, console=console, policy=policy)
    out = {p.name: p.read_text(encoding="utf-8") for p in written}
    out["terminal"] = console.export_text()
    return out


def test_students_never_see_hidden_details_in_any_format(tmp_path: Path) -> None:
    out = rendered(tmp_path, Policy("student"))
    assert set(out) == {*FILE_NAMES.values(), "terminal"}
    for name, text in out.items():
        assert SECRET not in text, name
        assert "test_b" in text, name  # the hidden test is still listed, with its outcome
    assert "sandboxed" in out["terminal"] and "seccomp" not in out["terminal"]
    assert json.loads(out["results.json"])["metadata"]["audience"] == "student"
    assert "Details of hidden tests are not shown." in out["report.html"]


def test_instructors_see_everything_except_on_gradescope(tmp_path: Path) -> None:
    out = rendered(tmp_path, Policy("instructor"))
    for name in ("terminal", "junit.xml", "scorecard.md", "report.html", "results.json"):
        assert SECRET in out[name], name
    assert SECRET not in out["gradescope.json"]  # students read it on Gradescope
    back = GradeResult.from_json(out["results.json"])
    assert back == result()  # lossless for instructors, artefacts included


def test_gradescope_visibility_of_hidden_tests_is_configurable(tmp_path: Path) -> None:
    for visibility in ("hidden", "after_due_date", "after_published", "visible"):
        render(result(), ["gradescope"], tmp_path, policy=Policy("instructor", visibility))
        tests = json.loads((tmp_path / "gradescope.json").read_text())["tests"]
        assert {t["visibility"] for t in tests if t["name"] == "test_b"} == {visibility}
        assert {t["visibility"] for t in tests if t["name"] == "test_a"} == {"visible"}
    with pytest.raises(ValueError, match="visibility"):
        Policy("instructor", "everyone")
    with pytest.raises(ValueError, match="audience"):
        Policy("teacher")  # type: ignore[arg-type]


def test_redact_keeps_the_instructors_result_untouched() -> None:
    r = result()
    assert redact(r, Policy("instructor")) is r
    student = redact(r, Policy("student"))
    assert student.test("test_b").message is None and student.test("test_b").artefacts == []
    assert student.test("test_t").artefacts == [curves()]  # public artefacts stay
    assert r.test("test_b").message == f"{SECRET} message"  # the original is not changed


def test_every_format_is_one_registry_entry() -> None:
    assert tuple(REGISTRY) == FORMATS
    assert {n: f.file_name for n, f in REGISTRY.items() if f.file_name} == FILE_NAMES
    for name, entry in REGISTRY.items():
        if entry.render is not None:
            assert isinstance(entry.render(result(), Policy()), str), name


# --- artefacts -----------------------------------------------------------------------------


def test_artefacts_round_trip_through_json_and_timings_are_dropped() -> None:
    r = result()
    r.tests[2].artefacts.append(budget("epoch", "time", 0.2, 0.1, ratio=3, cap_s=10, clock="cpu"))
    r.tests[2].artefacts.append(image("gradcam", "Grad-CAM", png(), alt="a Grad-CAM map"))
    assert GradeResult.from_json(r.to_json()) == r
    reduced = json.loads(r.to_json(timings=False))
    assert "timings" not in reduced["tests"][2]["artefacts"][1]  # clock-dependent numbers go
    assert artefact_line(r.tests[2].artefacts[1]) == "time: yours 0.2 s, reference 0.1 s, allowed 0.3 s"


def test_bound_artefacts_keeps_only_well_formed_bounded_ones() -> None:
    good = curves()
    long = series("n", "t", {"a": [float(i) for i in range(MAX_POINTS + 10)], "b": [float("nan"), 1.0]})
    not_png = {"kind": "image", "mime": "image/png", "data_base64": base64.b64encode(b"GIF89a").decode()}
    big = image("big", "big", png() + b"\x00" * IMAGE_BYTES, alt="big")
    items = [good, "text", {"kind": "script"}, not_png, big, {"kind": "image", "data_base64": "!!"}, long]
    out = bound_artefacts(items)
    assert [a["name"] for a in out] == ["val_loss", "n"]
    assert len(out[1]["series"][0]["values"]) == MAX_POINTS and out[1]["series"][1]["values"] == [None, 1.0]
    assert len(bound_artefacts([good] * 20)) == MAX_ARTEFACTS
    room = [len(png()) + 1]
    two = bound_artefacts([image("a", "a", png(), alt="a"), image("b", "b", png(), alt="b")], room)
    assert two[0]["data_base64"] and two[1]["data_base64"] == "" and "size limit" in two[1]["note"]
