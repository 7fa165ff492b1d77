"""The HTML report (`--format html`): self-contained, escaped, accessible; and, where Chromium
is installed (Debian's `chromium`), opened in headless Chromium: no console errors, no network
requests, the expected elements present, a screenshot taken.

The browser checks read Chromium's own logs (no extra Python package): `--enable-logging=stderr`
prints the page's console messages, and `--log-net-log` writes every request the browser made;
a request whose network isolation key is the report's (file://) is one the page made. A
control report with a remote image proves the checks can fail.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from grader.results import GradeResult, PartResult, score_parts
from grader.results import TestResult as TResult  # not named Test*: pytest would collect it
from grader.scorecard import html as html_report
from grader.scorecard import render_html
from grader.scorecard.artefacts import budget, image, series
from grader.scorecard.view import Policy

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
SECRET = "SECRET-hidden-detail"


def png() -> bytes:
    """An 8×8 grey-gradient PNG (a stand-in Grad-CAM map), built without an imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(range(y * 8, y * 8 + 64, 8)) for y in range(8))
    header = struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def report_result() -> GradeResult:
    """A failure with every detail, a hidden failure, and a passed training test with curves."""
    curves = series("val_loss", "Validation loss per epoch",
                    {"your submission": [0.7, 0.5, float("nan"), 0.3], "reference": [0.6, 0.4, 0.3, 0.25]},
                    y_label="loss", alt="loss curves", public=True)  # fmt: skip
    tests = [
        TResult(nodeid="tests/public/test_conv.py::test_values", name="test_values", part="conv", max_points=2,
                message="expected 1.0, got 2.0 <b>", falsifying_example="test_values(x=tensor([[0.5]]))",
                traceback="Traceback:\n  File \"conv.py\", line 3\nValueError: bad", output="hello\n",
                artefacts=[image("gradcam", "Grad-CAM map", png(), alt="Grad-CAM map of a landmark")]),
        TResult(nodeid="tests/hidden/test_conv.py::test_secret", name="test_secret", part="conv", max_points=1,
                visibility="hidden", message=f"{SECRET} message", traceback=f"Traceback:\n{SECRET}"),
        TResult(nodeid="tests/hidden/test_training.py::test_auroc", name="test_auroc", part="training",
                max_points=6, outcome="passed", visibility="hidden", timings={"student_train_s": 2.9},
                artefacts=[curves, budget("epoch", "CPU time per epoch against the budget", 0.1, 0.09,
                                          ratio=3, cap_s=120, clock="cpu")]),
    ]  # fmt: skip
    result = GradeResult(assignment="cnn", title="CNN basics", assignment_version="3", submission="alice",
                         parts=[PartResult(name="conv", max_points=3, description="Convolutions"),
                                PartResult(name="training", max_points=6, description="Training")],
                         tests=tests, max_score=9, started_at="2026-11-30T23:00:00Z", duration=12.5,
                         metadata={"sandbox": {"active": ["zygote", "seccomp"]}})  # fmt: skip
    result.score = score_parts(result.parts, result.tests)
    return result


class Structure(HTMLParser):
    """Tags, ids, and what could load or run something."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.ids: set[str] = set()
        self.loads: list[str] = []
        self.imgs_without_alt = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Record the tag and any attribute that could fetch or run something."""
        self.tags.append(tag)
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if name in ("src", "href", "srcset", "action", "poster", "data") and value and not value.startswith("data:image/png;base64,"):
                self.loads.append(f"{tag} {name}={value[:60]}")
            if name.startswith("on"):
                self.loads.append(f"{tag} {name}")
        if tag == "img" and not dict(attrs).get("alt"):
            self.imgs_without_alt += 1


def parsed(text: str) -> Structure:
    s = Structure()
    s.feed(text)
    return s


def test_report_is_self_contained_and_accessible() -> None:
    text = render_html(report_result())
    s = parsed(text)
    assert "script" not in s.tags and "link" not in s.tags and "iframe" not in s.tags
    assert s.loads == [] and s.imgs_without_alt == 0
    assert "url(" not in text and "@import" not in text
    assert html_report.CSP in text and '<meta name="viewport"' in text and "@media print" in text
    assert {"summary", "total", "parts", "failures", "measurements", "tests", "provenance"} <= s.ids
    assert s.tags.count("h1") == 1 and "h2" in s.tags and "h3" in s.tags
    assert '<html lang="en">' in text and "<title>CNN basics: 6 / 9</title>" in text
    assert text.count("<svg") == 2 and "<polyline" in text and "<desc>loss curves</desc>" in text
    assert 'src="data:image/png;base64,' in text and 'alt="Grad-CAM map of a landmark"' in text
    assert "expected 1.0, got 2.0 &lt;b&gt;" in text and "test_values(x=tensor([[0.5]]))" in text
    assert "ValueError: bad" in text and "sandbox: 2 layers active" in text


def test_report_follows_the_audience() -> None:
    instructor = render_html(report_result())
    student = render_html(report_result(), policy=Policy("student"))
    assert SECRET in instructor and SECRET not in student
    assert "Details of hidden tests are not shown." in student
    assert "<polyline" in student  # public artefacts (the training curves) stay for students
    assert "sandboxed" in student and "seccomp" not in student


def test_report_of_a_huge_result_is_bounded() -> None:
    result = report_result()
    result.tests[0].message = "x" * 20_000_000
    result.tests += [TResult(nodeid=f"t::t{i}", name=f"t{i}", part="conv", max_points=0, message="m" * 1000)
                     for i in range(5_000)]  # fmt: skip
    text = render_html(result)
    assert len(text.encode("utf-8")) <= html_report.MAX_BYTES and "</html>" in text


# --- in headless Chromium ------------------------------------------------------------------------
def open_in_chromium(page: Path, tmp_path: Path) -> tuple[str, list[str], list[str], Path]:
    """(the DOM, the page's console messages, URLs the page requested, a screenshot) of `page`."""
    assert CHROMIUM is not None
    net_log, shot = tmp_path / "net.json", tmp_path / f"{page.stem}.png"
    flags = [
        CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}", "--host-resolver-rules=MAP * ~NOTFOUND",  # nothing resolves
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-pings",
        "--enable-logging=stderr", "--v=0", f"--log-net-log={net_log}", "--window-size=420,900",
    ]  # fmt: skip
    dom = subprocess.run([*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=60)
    console = re.findall(r":CONSOLE:?\d*\]? (.*)", dom.stderr)
    requested = page_requests(net_log)
    subprocess.run([*flags, f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=60)
    return dom.stdout, console, requested, shot


def page_requests(net_log: Path) -> list[str]:
    """URLs requested by a page opened from a file (its network isolation key is file://)."""
    log = json.loads(net_log.read_text(encoding="utf-8"))
    types = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    urls = []
    for event in log["events"]:
        params = event.get("params") or {}
        if types.get(event["type"]) == "URL_REQUEST_START_JOB" and "file://" in str(params.get("network_isolation_key")):
            urls.append(str(params.get("url")))
    return urls


@needs_chromium
def test_report_in_headless_chromium(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_html(report_result()), encoding="utf-8")
    dom, console, requested, shot = open_in_chromium(page, tmp_path)
    assert console == [] and requested == []
    for landmark in ('id="total"', 'id="parts"', 'id="failures"', 'id="measurements"', 'id="provenance"',
                     "<svg", "<polyline", 'src="data:image/png;base64,'):  # fmt: skip
        assert landmark in dom, landmark
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 5_000


@needs_chromium
def test_the_browser_checks_catch_a_remote_resource_and_a_console_error(tmp_path: Path) -> None:
    # Without the report's Content-Security-Policy, a remote image is requested (and caught).
    leaky = render_html(report_result()).replace(f'<meta http-equiv="Content-Security-Policy" content="{html_report.CSP}">', "")
    leaky = leaky.replace("</main>", '<img src="http://example.invalid/pixel.png" alt="x"></main>')
    page = tmp_path / "leaky.html"
    page.write_text(leaky, encoding="utf-8")
    _, _, requested, _ = open_in_chromium(page, tmp_path)
    assert requested == ["http://example.invalid/pixel.png"]
    # With it, the same image is refused, and the refusal is a console error.
    blocked = render_html(report_result()).replace("</main>", '<img src="http://example.invalid/pixel.png" alt="x"></main>')
    page = tmp_path / "blocked.html"
    page.write_text(blocked, encoding="utf-8")
    _, console, requested, _ = open_in_chromium(page, tmp_path)
    assert requested == [] and any("Content Security Policy" in line for line in console)


# --- the class report (grader gradebook report --html) ------------------------------------------
def _class_gradebook(path: Path):
    """A gradebook of five graded submissions (scores 0..4 of 4; one message carries markup) and
    one unreadable submission."""
    from grader.batch.gradebook import Gradebook

    book = Gradebook(path)
    book.set_meta(assignment="toy", full_points=json.dumps({"add": 2.0, "relu": 2.0}))
    hostile = "<script>alert(1)</script> \x1b[31m[bold]red[/bold]"
    for n in range(5):
        tests = [
            TResult(nodeid=f"tests/t.py::test_{p}_{i}", name=f"test_{p}_{i}", part=p, max_points=1.0,
                    points=1.0 if k < n else 0.0, outcome="passed" if k < n else "failed",
                    message=None if k < n else (hostile if n == 0 else f"expected 1, got {k}"))
            for k, (p, i) in enumerate([("add", 0), ("add", 1), ("relu", 0), ("relu", 1)])
        ]  # fmt: skip
        parts = [PartResult("add", 2.0), PartResult("relu", 2.0)]
        result = GradeResult("toy", "Toy", "1", f"student-{n}", tests=tests, parts=parts, max_score=4.0,
                             metadata={"grader_version": "0", "seed": 0})  # fmt: skip
        result.score = score_parts(result.parts, result.tests)
        book.write_result(f"student {n}/../x" if n == 0 else f"student-{n}", "folder", f"h{n}", result, 0)
    book.write_problem("broken", "zip", "hb", "unreadable", "not a zip file", assignment="toy", max_score=4.0,
                       grader_version="0", assignment_version="1", seed=0)  # fmt: skip
    return book


def test_the_class_report_has_the_distribution_parts_tests_and_links(tmp_path: Path) -> None:
    from grader.batch.report_html import write_class_html

    with _class_gradebook(tmp_path / "book.sqlite") as book:
        index = write_class_html(book, tmp_path / "class")
    page = index.read_text(encoding="utf-8")
    doc = parsed(page)
    assert "<script" not in page and "\x1b" not in page and "&lt;script&gt;" in page
    assert f'content="{html_report.CSP}"' in page
    for landmark in ('id="distribution"', 'id="parts"', 'id="tests"', 'id="submissions"'):
        assert landmark in page, landmark
    assert page.count('class="box"') == 2  # one box plot per part
    assert "add: mean 1.40 of 2" in page and "relu: mean 0.60 of 2" in page  # add: 0,1,2,2,2; relu: 0,0,0,1,2
    assert "4/5 (80%)" in page and "1/5 (20%)" in page  # relu_1 failed by four, add_0 by one
    links = re.findall(r'<a href="([^"]+)">', page)
    assert len(links) == 5 and all((tmp_path / "class" / link).is_file() for link in links)
    assert all(".." not in link for link in links)  # an id with ../ becomes a safe folder name
    assert "not a zip file" in page and doc is not None


@needs_chromium
def test_the_class_report_in_headless_chromium(tmp_path: Path) -> None:
    from grader.batch.report_html import write_class_html

    with _class_gradebook(tmp_path / "book.sqlite") as book:
        index = write_class_html(book, tmp_path / "class")
    dom, console, requested, shot = open_in_chromium(index, tmp_path)
    assert console == [] and requested == []
    assert 'id="distribution"' in dom and "<svg" in dom
    assert shot.read_bytes().startswith(b"\x89PNG")
