"""A self-contained HTML report: one file, no network, no scripts.

Inline CSS (responsive for phones, a print style), charts drawn here as inline SVG, images as
`data:` URIs, and a Content-Security-Policy that forbids loading anything else, so even a
mistake cannot make the report fetch a resource. Every string from the result is cleaned
(`clean_text`) and then HTML-escaped (`html.escape`, quotes included) before it is written;
nothing from the result ever lands in a tag, an attribute name, a URL or CSS unescaped
(images are re-encoded base64 of checked PNG bytes, see grader.scorecard.artefacts).

What each audience sees is decided by grader.scorecard.view, as for every other format.
"""

from __future__ import annotations

import html
import math
from typing import Any

from grader.results import GradeResult, TestResult
from grader.scorecard.artefacts import TOTAL_IMAGE_BYTES
from grader.scorecard.card import (
    TracebackOnce,
    failures_in_order,
    full_points,
    part_description,
    part_of_full,
    public_only_line,
)
from grader.scorecard.intake import intake_summary
from grader.scorecard.sanitize import (
    Caps,
    TextBudget,
    clean_text,
    fit,
    format_points,
    format_score,
    format_seconds,
    format_timings,
    more_line,
    utf8_size,
)
from grader.scorecard.view import (
    HIDDEN_NOTE,
    FailureDetails,
    Limits,
    Policy,
    artefact_line,
    budget_numbers,
    failure_details,
    policy_for,
    visible_artefacts,
)

# The whole report, in UTF-8 (images of a result share artefacts.TOTAL_IMAGE_BYTES of it).
MAX_BYTES = 8 * 1024 * 1024
MESSAGE_LIMIT = 4_000
EXAMPLE_LIMIT = 4_000
TRACEBACK_LIMIT = 8_000
OUTPUT_LIMIT = 3_000
LIMITS = Limits(MESSAGE_LIMIT, EXAMPLE_LIMIT, TRACEBACK_LIMIT, OUTPUT_LIMIT)

# Nothing may be loaded from anywhere: styles are inline, images are data: URIs.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
# Curves: the submission solid blue, the reference dashed orange (told apart without colour too).
CURVE_STYLES = (
    ("#0b5cad", ""),
    ("#b34700", "6 4"),
    ("#4b6b00", "2 3"),
    ("#7a1fa2", "8 3 2 3"),
)
STATUS_TEXT = {"full": "full marks", "partial": "partial", "zero": "zero", "empty": "no tests"}

CSS = """
:root { --fg: #1b1b1b; --muted: #4a4a4a; --bg: #ffffff; --panel: #f4f5f7; --line: #c9ccd1;
  --ok: #0f6b2f; --bad: #a4161a; --warn: #7a4d00; --accent: #0b5cad; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header, main, footer { max-width: 60rem; margin: 0 auto; padding: 1rem; }
header { border-bottom: 2px solid var(--line); }
h1 { font-size: 1.6rem; margin: 0.2rem 0; }
h2 { font-size: 1.3rem; margin-top: 2rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.1rem; margin: 0.2rem 0; overflow-wrap: anywhere; }
h4 { font-size: 1rem; margin: 0.8rem 0 0.2rem; }
.score { font-size: 1.4rem; font-weight: 700; margin: 0.2rem 0; }
.ok { color: var(--ok); } .bad { color: var(--bad); } .warn { color: var(--warn); }
.muted { color: var(--muted); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.35rem 0.5rem; border-bottom: 1px solid var(--line);
  vertical-align: top; overflow-wrap: break-word; }
td.status { white-space: nowrap; }
td.num, th.num { text-align: right; white-space: nowrap; }
.bar { display: block; height: 0.5rem; background: var(--panel); border: 1px solid var(--line);
  min-width: 4rem; }
.bar > span { display: block; height: 100%; background: var(--accent); }
.card { border: 1px solid var(--line); border-left: 4px solid var(--bad); border-radius: 4px;
  padding: 0.6rem 0.8rem; margin: 1rem 0; background: var(--bg); }
.card.passed { border-left-color: var(--ok); }
pre { background: var(--panel); padding: 0.6rem; overflow-x: auto; white-space: pre-wrap;
  overflow-wrap: anywhere; font: 0.85rem/1.4 ui-monospace, "DejaVu Sans Mono", monospace;
  margin: 0.2rem 0; }
figure { margin: 1rem 0; }
figcaption { font-weight: 600; }
svg { width: 100%; height: auto; max-width: 40rem; display: block; }
img { max-width: 100%; height: auto; image-rendering: pixelated; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); gap: 1rem; }
.errors { border: 2px solid var(--bad); padding: 0.6rem 0.8rem; border-radius: 4px; }
footer { border-top: 2px solid var(--line); font-size: 0.9rem; color: var(--muted); }
@media (max-width: 40rem) {
  body { font-size: 15px; }
  header, main, footer { padding: 0.6rem; }
  .hide-narrow { display: none; }
  th, td { padding: 0.3rem; }
}
@media print {
  body { font-size: 11pt; }
  header, main, footer { max-width: none; padding: 0; }
  .card, figure, tr { break-inside: avoid; }
  pre { white-space: pre-wrap; border: 1px solid #999; background: none; }
  a { color: inherit; text-decoration: none; }
}
"""


def esc(s: Any, limit: int | None = 500) -> str:
    """`s` cleaned (`clean_text`), cut to `limit` and HTML-escaped (quotes too): inert anywhere
    in text or in a quoted attribute value."""
    return html.escape(clean_text(s if isinstance(s, str) else str(s), limit), quote=True)


def render_html(
    result: GradeResult, *, policy: Policy | None = None, student: bool = False
) -> str:
    """The report as one self-contained HTML document, for `policy`'s audience.

    At most `MAX_BYTES`, whatever the result holds: failure details share one character budget,
    and a result too big even so is rendered again with less (`sanitize.levels`).
    """
    policy = policy_for(policy, student=student)
    return fit(lambda caps: _render(result, caps, policy), utf8_size, MAX_BYTES)


def _render(result: GradeResult, caps: Caps, policy: Policy) -> str:
    budget = TextBudget(caps.text)
    title = esc(result.title or result.assignment, caps.limit(200))
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>{title}: {format_score(result.score, result.max_score)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        '<header id="summary">',
        f"<h1>{title}</h1>",
        f'<p class="score {_score_class(result.score, result.max_score)}" id="total">'
        f"Score: {format_score(result.score, result.max_score)} points</p>",
    ]
    covered = public_only_line(result)
    if covered:
        out.append(f'<p class="warn">{esc(covered, None)}</p>')
    if result.errors:
        out.append('<div class="errors" role="alert"><h2>Grader errors: this grade is not valid</h2>')
        out.append("<p>A problem with the grader, not with the submission.</p>")
        out += [f"<pre>{esc(e, caps.limit(4_000))}</pre>" for e in result.errors[: caps.errors]]
        if len(result.errors) > caps.errors:
            out.append(f"<p>{esc(more_line(len(result.errors) - caps.errors, 'grader errors'))}</p>")
        out.append("</div>")
    out.append("</header>")
    out.append("<main>")
    out += _parts(result, caps)
    failures = failures_in_order(result)
    once = TracebackOnce()
    image_room = [TOTAL_IMAGE_BYTES]
    if failures:
        out.append(f'<section id="failures" aria-labelledby="failures-h"><h2 id="failures-h">'
                   f"Tests that did not pass ({len(failures)})</h2>")  # fmt: skip
        for test in failures[: caps.tests]:
            details = failure_details(test, policy, LIMITS, budget, scale=caps.limit, once=once)
            out += _failure(test, details, caps, image_room)
        if len(failures) > caps.tests:
            out.append(f"<p>{esc(more_line(len(failures) - caps.tests, 'tests'), None)}</p>")
        out.append("</section>")
    measured = [
        t for t in result.tests
        if t.outcome not in ("failed", "error") and (visible_artefacts(t, policy) or t.timings)
    ]  # fmt: skip
    if measured:
        out.append('<section id="measurements" aria-labelledby="measurements-h">'
                   '<h2 id="measurements-h">Training curves and measurements</h2>')  # fmt: skip
        for test in measured[: caps.tests]:
            out += _measured(test, caps, image_room, policy)
        out.append("</section>")
    out += _all_tests(result, caps, policy, budget)
    out.append("</main>")
    out += _footer(result, caps, policy)
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def _score_class(points: float, max_points: float) -> str:
    if max_points > 0 and points >= max_points:
        return "ok"
    return "warn" if points > 0 else "bad"


def _parts(result: GradeResult, caps: Caps) -> list[str]:
    full = full_points(result)
    head = '<th scope="col" class="num">Public tests</th>' if full else ""
    out = [
        '<section id="parts" aria-labelledby="parts-h"><h2 id="parts-h">Parts</h2>',
        "<table><thead><tr>"
        '<th scope="col">Part</th><th scope="col" class="num">Points</th>'
        f'{head}<th scope="col">Status</th><th scope="col" class="hide-narrow">Description</th>'
        "</tr></thead><tbody>",
    ]
    for part in result.parts[: caps.parts]:
        share = part.points / part.max_points if part.max_points > 0 else 0.0
        share = min(max(share, 0.0), 1.0)
        status = STATUS_TEXT.get(part.status, part.status)
        of_full = f'<td class="num">{esc(part_of_full(part, full))}</td>' if full else ""
        out.append(
            f'<tr class="part"><th scope="row">{esc(part.name, caps.limit(200))}</th>'
            f'<td class="num">{format_score(part.points, part.max_points)}'
            f'<span class="bar" aria-hidden="true"><span style="width:{share * 100:.0f}%"></span></span></td>'
            f'{of_full}<td class="status {_score_class(part.points, part.max_points) if part.tests else "muted"}">'
            f"{esc(status, 40)}</td>"
            f'<td class="hide-narrow">{esc(part_description(part, full, caps.limit(500)), None)}</td></tr>'
        )
    if len(result.parts) > caps.parts:
        out.append(f'<tr><td colspan="4">{esc(more_line(len(result.parts) - caps.parts, "parts"), None)}</td></tr>')
    total = format_score(result.score, result.max_score)
    whole = f'<td class="num">{format_points(result.max_score)} of {format_points(sum(full.values()))}</td>' if full else ""
    out.append(f'</tbody><tfoot><tr><th scope="row">Total</th><td class="num"><strong>{total}</strong></td>'
               f"{whole}<td></td><td class=\"hide-narrow\"></td></tr></tfoot></table></section>")  # fmt: skip
    return out


def _failure(test: TestResult, details: FailureDetails, caps: Caps, image_room: list[int]) -> list[str]:
    kind = "error" if test.outcome == "error" else "failed"
    hidden = " · hidden test" if test.visibility == "hidden" else ""
    out = [
        f'<article class="card failure {kind}">',
        f"<h3>{'✗' if kind == 'failed' else '⚠ error:'} {esc(test.name, caps.limit(300))}</h3>",
        f'<p class="muted">Part {esc(test.part, caps.limit(200))} · '
        f"{format_score(test.points, test.max_points)} points{hidden}</p>",
    ]
    if test.description:
        out.append(f"<p>{esc(test.description, caps.limit(1_000))}</p>")
    if not details.shown:
        out.append(f"<p>{HIDDEN_NOTE}</p>")
    for heading, body, cls in (
        ("What went wrong", details.message, "message"),
        ("Smallest failing input", details.example, "example"),
        ("Traceback (your code)", details.traceback, "traceback"),
        ("Your code printed (last lines)", details.output, "output"),
    ):
        if body:
            out.append(f'<h4>{heading}</h4><pre class="{cls}">{html.escape(body, quote=True)}</pre>')
    if details.traceback_note:
        out.append(f'<h4>Traceback (your code)</h4><p class="muted">{esc(details.traceback_note, None)}</p>')
    if details.artefacts:
        out.append('<div class="charts">')
        out += [_artefact(a, image_room) for a in details.artefacts]
        out.append("</div>")
    if details.timings:
        out.append(f'<p class="timings">Timings: {esc(details.timings, None)}</p>')
    out.append("</article>")
    return out


def _measured(test: TestResult, caps: Caps, image_room: list[int], policy: Policy) -> list[str]:
    out = [
        '<article class="card passed">',
        f"<h3>{esc(test.name, caps.limit(300))}</h3>",
        f'<p class="muted">Part {esc(test.part, caps.limit(200))} · {esc(test.outcome, 20)} · '
        f"{format_score(test.points, test.max_points)} points</p>",
    ]
    artefacts = visible_artefacts(test, policy)
    if artefacts:
        out.append('<div class="charts">')
        out += [_artefact(a, image_room) for a in artefacts]
        out.append("</div>")
    if test.timings:
        out.append(f'<p class="timings">Timings: {esc(format_timings(test.timings), None)}</p>')
    out.append("</article>")
    return out


def _all_tests(result: GradeResult, caps: Caps, policy: Policy, budget: TextBudget) -> list[str]:
    out = [
        '<section id="tests" aria-labelledby="tests-h"><h2 id="tests-h">All tests</h2>',
        '<table><thead><tr><th scope="col">Test</th><th scope="col" class="hide-narrow">Part</th>'
        '<th scope="col">Outcome</th><th scope="col" class="num">Points</th></tr></thead><tbody>',
    ]
    for test in result.tests[: caps.tests]:
        outcome = test.outcome
        if outcome == "skipped" and test.message and policy.shows_details(test):
            outcome = f"skipped: {budget.take(test.message, caps.limit(300))}"
        cls = {"passed": "ok", "skipped": "muted"}.get(test.outcome, "bad")
        hidden = ' <span class="muted">(hidden)</span>' if test.visibility == "hidden" else ""
        out.append(
            f"<tr><td>{esc(test.name, caps.limit(300))}{hidden}</td>"
            f'<td class="hide-narrow">{esc(test.part, caps.limit(200))}</td>'
            f'<td class="{cls}">{html.escape(clean_text(outcome), quote=True)}</td>'
            f'<td class="num">{format_score(test.points, test.max_points)}</td></tr>'
        )
    if len(result.tests) > caps.tests:
        out.append(f'<tr><td colspan="4">{esc(more_line(len(result.tests) - caps.tests, "tests"), None)}</td></tr>')
    out.append("</tbody></table></section>")
    return out


def _footer(result: GradeResult, caps: Caps, policy: Policy) -> list[str]:
    lines = []
    intake = intake_summary(result.metadata)
    if intake:
        lines.append(esc(intake, None))
    sandbox = policy.sandbox_text(result.metadata)
    if sandbox:
        lines.append(esc(sandbox, None))
    provenance = [
        f"assignment {esc(result.assignment, caps.limit(200))} version {esc(result.assignment_version, caps.limit(200))}",
        f"submission {esc(result.submission, caps.limit(300))}",
    ]
    if result.started_at:
        provenance.append(f"graded at {esc(result.started_at, 100)}")
    if result.duration:
        provenance.append(f"in {format_seconds(result.duration)}")
    provenance.append(f"results schema {result.schema_version}; report for the {policy.audience}")
    lines.append(" · ".join(provenance))
    return ['<footer id="provenance"><h2>Sandbox and provenance</h2>', *(f"<p>{x}</p>" for x in lines), "</footer>"]


# --- artefacts --------------------------------------------------------------------------------
def _artefact(artefact: dict[str, Any], image_room: list[int]) -> str:
    kind = artefact.get("kind")
    title = esc(artefact.get("title") or artefact.get("name") or kind, 200)
    if kind == "series":
        return f'<figure class="chart">{svg_series(artefact)}<figcaption>{title}</figcaption></figure>'
    if kind == "budget":
        return f'<figure class="budget">{svg_budget(artefact)}<figcaption>{title}</figcaption></figure>'
    data = artefact.get("data_base64") or ""
    alt = esc(artefact.get("alt") or artefact.get("title") or "image", 1_000)
    size = len(data) * 3 // 4
    if not data or size > image_room[0]:
        return f'<figure><p class="muted">{alt} (image left out: size limit)</p><figcaption>{title}</figcaption></figure>'
    image_room[0] -= size
    # `data` is base64 of checked PNG bytes, re-encoded by bound_artefacts: only [A-Za-z0-9+/=].
    return f'<figure><img src="data:image/png;base64,{data}" alt="{alt}"><figcaption>{title}</figcaption></figure>'


def _ticks(lo: float, hi: float, n: int = 4) -> list[float]:
    if hi <= lo:
        return [lo]
    return [lo + (hi - lo) * i / n for i in range(n + 1)]


def _num(x: float) -> str:
    return f"{x:.3g}"


def svg_series(artefact: dict[str, Any]) -> str:
    """An inline SVG line chart of a `series` artefact (bounded), with a title and description
    for screen readers and a legend that tells the curves apart by dash pattern as well as colour."""
    w, h, left, right, top, bottom = 480, 270, 56, 12, 12, 64
    curves = [c for c in artefact.get("series", []) if isinstance(c, dict)][: len(CURVE_STYLES)]
    values = [v for c in curves for v in c.get("values", []) if isinstance(v, int | float) and math.isfinite(v)]
    n = max((len(c.get("values", [])) for c in curves), default=0)
    title = esc(artefact.get("title") or "chart", 200)
    desc = esc(artefact.get("alt") or "", 1_000)
    parts = [
        f'<svg viewBox="0 0 {w} {h}" role="img" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{title}</title><desc>{desc}</desc>",
        f'<rect x="0" y="0" width="{w}" height="{h}" fill="#ffffff"/>',
    ]
    if not values or n == 0:
        parts.append(f'<text x="{w / 2}" y="{h / 2}" text-anchor="middle" font-size="14">no values</text></svg>')
        return "".join(parts)
    lo, hi = min(values), max(values)
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    pad = (hi - lo) * 0.05
    lo, hi = lo - pad, hi + pad
    pw, ph = w - left - right, h - top - bottom

    def x(i: int) -> float:
        return left + (pw * i / (n - 1) if n > 1 else pw / 2)

    def y(v: float) -> float:
        return top + ph * (1 - (v - lo) / (hi - lo))

    axis = 'stroke="#4a4a4a" stroke-width="1"'
    parts.append(f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" {axis}/>')
    parts.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" {axis}/>')
    for t in _ticks(lo + pad, hi - pad):
        parts.append(f'<line x1="{left - 4}" y1="{y(t):.1f}" x2="{left + pw}" y2="{y(t):.1f}" stroke="#e3e5e8"/>')
        parts.append(f'<text x="{left - 6}" y="{y(t) + 4:.1f}" text-anchor="end" font-size="11" fill="#1b1b1b">{_num(t)}</text>')
    step = max(1, math.ceil(n / 10))
    for i in range(0, n, step):
        parts.append(f'<text x="{x(i):.1f}" y="{top + ph + 16}" text-anchor="middle" font-size="11" fill="#1b1b1b">{i + 1}</text>')
    parts.append(f'<text x="{left + pw / 2}" y="{top + ph + 32}" text-anchor="middle" font-size="12" fill="#1b1b1b">'
                 f"{esc(artefact.get('x_label') or '', 60)}</text>")  # fmt: skip
    y_label = esc(artefact.get("y_label") or "", 60)
    parts.append(f'<text transform="translate(14 {top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="12" fill="#1b1b1b">{y_label}</text>')
    legend_x = left
    for curve, (colour, dash) in zip(curves, CURVE_STYLES, strict=False):
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        points, segment = [], []
        for i, v in enumerate(curve.get("values", [])):
            if isinstance(v, int | float) and math.isfinite(v):
                segment.append(f"{x(i):.1f},{y(v):.1f}")
            elif segment:
                points.append(segment)
                segment = []
        if segment:
            points.append(segment)
        for seg in points:
            if len(seg) == 1:
                cx, cy = seg[0].split(",")
                parts.append(f'<circle cx="{cx}" cy="{cy}" r="3" fill="{colour}"/>')
            else:
                parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dashed} points="{" ".join(seg)}"/>')
        label = esc(curve.get("label") or "", 40)
        ly = h - 12
        parts.append(f'<line x1="{legend_x}" y1="{ly - 4}" x2="{legend_x + 24}" y2="{ly - 4}" stroke="{colour}" stroke-width="2"{dashed}/>')
        parts.append(f'<text x="{legend_x + 28}" y="{ly}" font-size="12" fill="#1b1b1b">{label}</text>')
        legend_x += 40 + 7 * len(clean_text(str(curve.get("label") or ""), 40))
    parts.append("</svg>")
    return "".join(parts)


def svg_budget(artefact: dict[str, Any]) -> str:
    """An inline SVG bar chart: the submission's time against the reference's and the allowed time."""
    student, reference, allowed = budget_numbers(artefact)
    bars = [(who, v, c) for who, v, c in (("yours", student, "#0b5cad"), ("reference", reference, "#b34700"),
                                          ("allowed", allowed, "#4a4a4a")) if v is not None]  # fmt: skip
    w, row = 480, 28
    h = 12 + row * max(len(bars), 1)
    title = esc(artefact.get("title") or "time against the budget", 200)
    parts = [
        f'<svg viewBox="0 0 {w} {h}" role="img" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{title}</title><desc>{esc(artefact_line(artefact), 600)}</desc>",
    ]
    top = max((v for _, v, _ in bars), default=0.0) or 1.0
    for i, (who, value, colour) in enumerate(bars):
        y0 = 6 + i * row
        width = max(1.0, 300 * value / top)
        parts.append(f'<text x="0" y="{y0 + 16}" font-size="12" fill="#1b1b1b">{who}</text>')
        parts.append(f'<rect x="80" y="{y0 + 4}" width="{width:.1f}" height="16" fill="{colour}"/>')
        parts.append(f'<text x="{84 + width:.1f}" y="{y0 + 16}" font-size="12" fill="#1b1b1b">{format_seconds(value)}</text>')
    parts.append("</svg>")
    return "".join(parts)
