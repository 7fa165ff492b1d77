"""The class report as one self-contained HTML page, with a report per submission beside it.

`write_class_html(book, out_dir)` writes ``out_dir/index.html`` (the `ClassReport` of
`grader.batch.report`: the score histogram, a box plot per part, the tests by failure rate with
their most common messages, the submissions not graded) and ``out_dir/submissions/<n>-<id>/
report.html`` for every stored result (`grader.scorecard.html.render_html`, for instructors),
linked from the index. Same rules as the single report: inline CSS and SVG, no script, a
Content-Security-Policy that loads nothing, every string from a submission cleaned and escaped.
"""

from __future__ import annotations

import re
import statistics
from pathlib import Path

from grader.batch.gradebook import Gradebook
from grader.batch.report import ClassReport, PartStats, class_report
from grader.scorecard.html import CSP, CSS, esc, render_html

_W, _H, _PAD = 560, 180, 36
_SLUG = re.compile(r"[^A-Za-z0-9_-]+")


def submission_folder(index: int, sub_id: str) -> str:
    """A safe folder name for a submission: its position and its id's safe characters."""
    return f"{index:04d}-{_SLUG.sub('_', sub_id)[:60] or 'submission'}"


def svg_histogram(report: ClassReport) -> str:
    """The score distribution as an SVG bar chart (with a title and description)."""
    bins = report.histogram
    most = max((b.count for b in bins), default=0) or 1
    width = (_W - 2 * _PAD) / max(len(bins), 1)
    bars = []
    for i, b in enumerate(bins):
        h = (_H - 2 * _PAD) * b.count / most
        x, y = _PAD + i * width, _H - _PAD - h
        bars.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{width - 2:.1f}" height="{h:.1f}" class="bar">'
                    f"<title>{b.low:g} to {b.high:g}: {b.count}</title></rect>")  # fmt: skip
        bars.append(f'<text x="{x + width / 2:.1f}" y="{_H - _PAD + 14}" text-anchor="middle" font-size="10">{b.low:g}</text>')
    desc = ", ".join(f"{b.low:g}–{b.high:g}: {b.count}" for b in bins)
    return (f'<svg role="img" viewBox="0 0 {_W} {_H}" width="100%" aria-labelledby="hist-t hist-d">'
            f'<title id="hist-t">Score distribution</title><desc id="hist-d">{esc(desc, 2000)}</desc>'
            + "".join(bars) + "</svg>")  # fmt: skip


def _quartiles(points: list[float]) -> tuple[float, float, float, float, float]:
    if len(points) < 2:
        v = points[0] if points else 0.0
        return v, v, v, v, v
    q1, q2, q3 = statistics.quantiles(points, n=4, method="inclusive")
    return min(points), q1, q2, q3, max(points)


def svg_boxplot(part: PartStats) -> str:
    """One part's points across the class as an SVG box plot on a 0..max_points axis."""
    lo, q1, med, q3, hi = _quartiles(part.points)
    top = part.max_points or 1.0
    x = lambda v: _PAD + (_W - 2 * _PAD) * (v / top)  # noqa: E731
    mid = 22
    label = f"{part.name}: min {lo:g}, first quartile {q1:g}, median {med:g}, third quartile {q3:g}, max {hi:g} of {top:g}"
    return (f'<svg role="img" viewBox="0 0 {_W} 44" width="100%" aria-label="{esc(label, 300)}">'
            f'<line x1="{x(lo):.1f}" y1="{mid}" x2="{x(hi):.1f}" y2="{mid}" class="whisker"/>'
            f'<rect x="{x(q1):.1f}" y="10" width="{max(x(q3) - x(q1), 1):.1f}" height="24" class="box"/>'
            f'<line x1="{x(med):.1f}" y1="8" x2="{x(med):.1f}" y2="36" class="median"/>'
            f'<text x="{_PAD - 4}" y="{mid + 4}" text-anchor="end" font-size="10">0</text>'
            f'<text x="{_W - _PAD + 4}" y="{mid + 4}" font-size="10">{top:g}</text></svg>')  # fmt: skip


_EXTRA_CSS = """
svg .bar{fill:#2b6cb0} svg .box{fill:#bee3f8;stroke:#2b6cb0} svg .whisker{stroke:#2b6cb0;stroke-width:2}
svg .median{stroke:#1a202c;stroke-width:3} td.num{text-align:right}
"""


def render_class_html(report: ClassReport, links: dict[str, str] | None = None) -> str:
    """The class report as one HTML document; `links` maps a submission id to its report's URL."""
    links = links or {}
    r = report
    statuses = ", ".join(f"{n} {esc(s, 40)}" for s, n in sorted(r.by_status.items()))
    out = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">', '<meta name="referrer" content="no-referrer">',
        f"<title>Class report: {esc(r.assignment, 200)}</title>", f"<style>{CSS}{_EXTRA_CSS}</style>", "</head>",
        "<body>", '<header id="summary">', f"<h1>Class report: {esc(r.assignment, 200)}</h1>",
        f"<p>{r.submissions} submissions ({statuses}). Scores of the {r.graded} scored, out of {r.max_score:g}: "
        f"mean {r.mean:.2f}, median {r.median:g}, standard deviation {r.stdev:.2f}, "
        f"min {r.minimum:g}, max {r.maximum:g}.</p>",
        "</header>", "<main>",
        '<section id="distribution" aria-labelledby="dist-h"><h2 id="dist-h">Score distribution</h2>',
        svg_histogram(r), "</section>",
        '<section id="parts" aria-labelledby="parts-h"><h2 id="parts-h">Parts</h2>',
    ]  # fmt: skip
    for part in r.parts:
        out.append(f'<h3>{esc(part.name, 100)}: mean {part.mean:.2f} of {part.max_points:g} '
                   f"({part.full} full marks, {part.zero} zero)</h3>")  # fmt: skip
        out.append(svg_boxplot(part))
    out.append("</section>")
    out += ['<section id="tests" aria-labelledby="tests-h"><h2 id="tests-h">Tests, most failed first</h2>',
            "<table><thead><tr><th>test</th><th>part</th><th>failed</th><th>most common failure messages</th>"
            "</tr></thead><tbody>"]  # fmt: skip
    for t in r.tests:
        said = "<br>".join(f"{n}× {esc(m, 300)}" for m, n in t.messages)
        out.append(f"<tr><td><code>{esc(t.nodeid, 200)}</code></td><td>{esc(t.part, 100)}</td>"
                   f'<td class="num">{t.failed}/{t.ran} ({100 * t.failure_rate:.0f}%)</td><td>{said}</td></tr>')  # fmt: skip
    out.append("</tbody></table></section>")
    out += ['<section id="submissions" aria-labelledby="subs-h"><h2 id="subs-h">Submissions</h2><ul>']
    for sub_id, url in links.items():
        out.append(f'<li><a href="{esc(url, 300)}">{esc(sub_id, 200)}</a></li>')
    out.append("</ul>")
    if r.problems:
        out.append("<h3>Not graded, or refused</h3><table><thead><tr><th>submission</th><th>status</th><th>reason</th>"
                   "</tr></thead><tbody>")  # fmt: skip
        for sub, status, reason in r.problems:
            first = reason.splitlines()[0] if reason else ""
            out.append(f"<tr><td>{esc(sub, 200)}</td><td>{esc(status, 40)}</td><td>{esc(first, 300)}</td></tr>")
        out.append("</tbody></table>")
    out += ["</section>", "</main>", "</body>", "</html>"]
    return "\n".join(out) + "\n"


def write_class_html(book: Gradebook, out_dir: Path) -> Path:
    """Write the class report and every stored submission's report under `out_dir`; return the index."""
    out_dir.mkdir(parents=True, exist_ok=True)
    links: dict[str, str] = {}
    for i, row in enumerate(book.rows()):
        result = book.result(row.id)
        if result is None:
            continue
        folder = submission_folder(i, row.id)
        (out_dir / "submissions" / folder).mkdir(parents=True, exist_ok=True)
        (out_dir / "submissions" / folder / "report.html").write_text(render_html(result), encoding="utf-8")
        links[row.id] = f"submissions/{folder}/report.html"
    index = out_dir / "index.html"
    index.write_text(render_class_html(class_report(book), links), encoding="utf-8")
    return index
