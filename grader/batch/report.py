"""The class report: score distribution, per-part means, per-test failure rates.

`class_report(gradebook)` builds a `ClassReport`, plain dataclasses of numbers and strings
(any renderer can read it: the terminal and Markdown here, HTML elsewhere);
`render_terminal` and `render_markdown` show it. A test's failure rate and its most common
failure messages are what a TA reads to find a misleading test or a common misconception.
"""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from grader.batch.gradebook import Gradebook

HISTOGRAM_BINS = 10
TOP_MESSAGES = 3
_MESSAGE_CHARS = 160


@dataclass
class Bin:
    """Scores in [low, high) (the last bin includes its high end) and how many."""

    low: float
    high: float
    count: int


@dataclass
class PartStats:
    """A part's points across the graded submissions."""

    name: str
    max_points: float
    mean: float
    full: int  # submissions with full marks in the part
    zero: int
    points: list[float] = field(default_factory=list)  # each scored submission's points (box plots)


@dataclass
class TestStats:
    """One test across the graded submissions: how often it failed, and with what message."""

    nodeid: str
    part: str
    ran: int
    failed: int
    messages: list[tuple[str, int]] = field(default_factory=list)  # (message, count), most common first

    @property
    def failure_rate(self) -> float:
        """Failed / ran (0 when it never ran)."""
        return self.failed / self.ran if self.ran else 0.0


@dataclass
class ClassReport:
    """Everything the class report shows, as plain numbers."""

    assignment: str
    max_score: float
    submissions: int
    graded: int
    by_status: dict[str, int]
    mean: float
    median: float
    stdev: float
    minimum: float
    maximum: float
    histogram: list[Bin]
    parts: list[PartStats]
    tests: list[TestStats]  # most failed first
    problems: list[tuple[str, str, str]]  # (id, status, reason) of those not graded


def _first_line(message: str | None) -> str:
    """A failure message's first line, with numbers after the first few digits kept short."""
    if not message:
        return "(no message)"
    line = next((ln.strip() for ln in message.splitlines() if ln.strip()), "(no message)")
    line = re.sub(r"0x[0-9a-f]+", "0x…", line)
    return line[:_MESSAGE_CHARS] + ("…" if len(line) > _MESSAGE_CHARS else "")


def class_report(book: Gradebook) -> ClassReport:
    """The report of what `book` holds (graded and refused submissions count in the numbers)."""
    meta = book.meta()
    rows = book.rows()
    full_points: dict[str, float] = json.loads(meta.get("full_points", "{}"))
    part_names = book.part_names()
    max_score = sum(full_points.values()) if full_points else max((r.max_score for r in rows), default=0.0)
    by_status = dict(Counter(r.status for r in rows))
    # Refused submissions were graded (every test failed); the unreadable and failed have no result.
    scored = [r for r in rows if r.status in ("graded", "refused")]
    scores = [r.score for r in scored]
    histogram = _histogram(scores, max_score)
    parts_of = book.parts()
    parts = []
    for name in part_names:
        got = [parts_of.get(r.id, {}).get(name, (0.0, full_points.get(name, 0.0))) for r in scored]
        top = full_points.get(name, max((m for _p, m in got), default=0.0))
        parts.append(PartStats(
            name=name, max_points=top, mean=statistics.fmean([p for p, _m in got]) if got else 0.0,
            full=sum(1 for p, m in got if m > 0 and p >= m), zero=sum(1 for p, _m in got if p == 0),
            points=sorted(p for p, _m in got),
        ))  # fmt: skip
    # Tests are judged on the submissions that were graded: a refused one fails them all, for its own reason.
    graded_ids = {r.id for r in rows if r.status == "graded"}
    per_test: dict[str, TestStats] = {}
    messages: dict[str, Counter[str]] = {}
    for sub, nodeid, _name, part, status, _pts, _max, message in book.tests():
        if sub not in graded_ids or status == "skipped":
            continue
        t = per_test.setdefault(nodeid, TestStats(nodeid=nodeid, part=part, ran=0, failed=0))
        t.ran += 1
        if status != "passed":
            t.failed += 1
            messages.setdefault(nodeid, Counter())[_first_line(message)] += 1
    for nodeid, t in per_test.items():
        t.messages = messages.get(nodeid, Counter()).most_common(TOP_MESSAGES)
    tests = sorted(per_test.values(), key=lambda t: (-t.failure_rate, t.nodeid))
    problems = [(r.id, r.status, r.reason or "") for r in rows if r.status not in ("graded",)]
    return ClassReport(
        assignment=meta.get("assignment", "?"), max_score=max_score, submissions=len(rows), graded=len(scored),
        by_status=by_status, mean=statistics.fmean(scores) if scores else 0.0,
        median=statistics.median(scores) if scores else 0.0,
        stdev=statistics.pstdev(scores) if len(scores) > 1 else 0.0,
        minimum=min(scores, default=0.0), maximum=max(scores, default=0.0),
        histogram=histogram, parts=parts, tests=tests, problems=problems,
    )  # fmt: skip


def _histogram(scores: list[float], max_score: float, bins: int = HISTOGRAM_BINS) -> list[Bin]:
    """`bins` equal bins from 0 to `max_score`; the last one holds full marks too."""
    if max_score <= 0:
        return [Bin(0.0, 0.0, len(scores))]
    width = max_score / bins
    out = [Bin(round(i * width, 6), round((i + 1) * width, 6), 0) for i in range(bins)]
    for s in scores:
        out[min(bins - 1, max(0, int(s / width)))].count += 1
    return out


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def render_markdown(report: ClassReport) -> str:
    """The report as Markdown."""
    r = report
    lines = [f"# Class report: {r.assignment}", ""]
    statuses = ", ".join(f"{n} {s}" for s, n in sorted(r.by_status.items()))
    lines += [
        f"{r.submissions} submissions ({statuses}); scores of the {r.graded} scored (graded or refused), out of {r.max_score:g}: "
        f"mean {r.mean:.2f}, median {r.median:g}, sd {r.stdev:.2f}, min {r.minimum:g}, max {r.maximum:g}.",
        "", "## Score distribution", "", "| score | submissions | |", "|---|---:|---|",
    ]  # fmt: skip
    most = max((b.count for b in r.histogram), default=0) or 1
    for i, b in enumerate(r.histogram):
        close = "]" if i == len(r.histogram) - 1 else ")"
        lines.append(f"| [{b.low:g}, {b.high:g}{close} | {b.count} | {'█' * round(20 * b.count / most)} |")
    lines += ["", "## Parts", "", "| part | max | mean | full marks | zero |", "|---|---:|---:|---:|---:|"]
    for p in r.parts:
        lines.append(f"| {p.name} | {p.max_points:g} | {p.mean:.2f} | {p.full} | {p.zero} |")
    lines += ["", "## Tests, most failed first", "", "| test | part | failed | most common failure messages |",
              "|---|---|---:|---|"]  # fmt: skip
    for t in r.tests:
        said = "<br>".join(f"{n}× {_md(m)}" for m, n in t.messages)
        lines.append(f"| `{t.nodeid}` | {t.part} | {t.failed}/{t.ran} ({_pct(t.failure_rate)}) | {said} |")
    if r.problems:
        lines += ["", "## Not graded, or refused", "", "| submission | status | reason |", "|---|---|---|"]
        for sub, status, reason in r.problems:
            lines.append(f"| {_md(sub)} | {status} | {_md(reason.splitlines()[0] if reason else '')} |")
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_terminal(report: ClassReport, console: Any) -> None:
    """The report as rich tables on `console`."""
    from rich.markup import escape
    from rich.table import Table

    r = report
    statuses = ", ".join(f"{n} {s}" for s, n in sorted(r.by_status.items()))
    console.print(f"[bold]Class report: {escape(r.assignment)}[/bold] — {r.submissions} submissions ({statuses})")
    console.print(f"score out of {r.max_score:g}: mean {r.mean:.2f}, median {r.median:g}, sd {r.stdev:.2f}, "
                  f"min {r.minimum:g}, max {r.maximum:g}")  # fmt: skip
    hist = Table(title="score distribution")
    hist.add_column("score")
    hist.add_column("n", justify="right")
    hist.add_column("")
    most = max((b.count for b in r.histogram), default=0) or 1
    for b in r.histogram:
        hist.add_row(f"{b.low:g}–{b.high:g}", str(b.count), "█" * round(30 * b.count / most))
    console.print(hist)
    parts = Table(title="parts")
    for col in ("part", "max", "mean", "full", "zero"):
        parts.add_column(col, justify="left" if col == "part" else "right")
    for p in r.parts:
        parts.add_row(escape(p.name), f"{p.max_points:g}", f"{p.mean:.2f}", str(p.full), str(p.zero))
    console.print(parts)
    tests = Table(title="tests, most failed first")
    tests.add_column("test")
    tests.add_column("part")
    tests.add_column("failed", justify="right")
    tests.add_column("most common failure messages")
    for t in r.tests:
        said = "\n".join(f"{n}× {m}" for m, n in t.messages)
        tests.add_row(escape(t.nodeid), escape(t.part), f"{t.failed}/{t.ran} ({_pct(t.failure_rate)})", escape(said))
    console.print(tests)
    if r.problems:
        bad = Table(title="not graded, or refused")
        for col in ("submission", "status", "reason"):
            bad.add_column(col)
        for sub, status, reason in r.problems:
            bad.add_row(escape(sub), status, escape(reason.splitlines()[0] if reason else ""))
        console.print(bad)
