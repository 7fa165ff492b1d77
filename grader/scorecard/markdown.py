"""A GitHub-flavoured Markdown scorecard (for a CI job summary or a pull-request comment).

Student text is made inert three ways: inline text (table cells, headings) has Markdown
punctuation backslash-escaped and `&`, `<`, `>` turned into entities, so it can neither split a
table row nor inject a link or HTML; text in `<summary>` is HTML-escaped; and multi-line text
goes into code fences longer than any backtick run in it, so it cannot close its fence.
"""

from __future__ import annotations

import html
import re

from grader.results import GradeResult, TestResult
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
    more_line,
    utf8_size,
)
from grader.scorecard.view import (
    HIDDEN_NOTE,
    FailureDetails,
    Limits,
    Policy,
    artefact_line,
    failure_details,
    policy_for,
)

# The whole scorecard, in UTF-8: GitHub refuses a job summary over 1 MiB (a pull-request
# comment holds at most 65,536 characters: post a shorter one, or link to the summary).
MAX_BYTES = 1_000_000
# Per-field character limits (at the first level of `sanitize.levels`; smaller at the next).
MESSAGE_LIMIT = 2_000
EXAMPLE_LIMIT = 4_000
TRACEBACK_LIMIT = 6_000
OUTPUT_LIMIT = 2_000
LIMITS = Limits(MESSAGE_LIMIT, EXAMPLE_LIMIT, TRACEBACK_LIMIT, OUTPUT_LIMIT)

STATUS_LABELS = {
    "full": "✓ full",
    "partial": "◐ partial",
    "zero": "✗ zero",
    "empty": "– no tests",
}

# Backslash-escaped; `&`, `<` and `>` become entities instead (a backslash before an entity
# would show the entity's text).
_MD_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")
_BACKTICK_RUN = re.compile(r"`+")


def md_inline(s: str, limit: int | None = 500) -> str:
    """`s` as inert one-line Markdown: safe in a table cell or a heading."""
    text = " ".join(clean_text(s, limit).split())
    return html.escape(_MD_PUNCTUATION.sub(r"\\\1", text), quote=False)


def md_code(s: str, limit: int | None = 200) -> str:
    """`s` as a one-line code span (not for table cells, where `|` would still split the row)."""
    text = " ".join(clean_text(s, limit).split())
    runs = {len(m.group()) for m in _BACKTICK_RUN.finditer(text)}
    n = next(i for i in range(1, len(runs) + 2) if i not in runs)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{'`' * n}{pad}{text}{pad}{'`' * n}"


def code_block(s: str, info: str = "text") -> str:
    """`s` in a backtick fence longer than any backtick run inside it."""
    longest = max((len(m.group()) for m in _BACKTICK_RUN.finditer(s)), default=0)
    fence = "`" * max(3, longest + 1)
    body = s if s.endswith("\n") else s + "\n"
    return f"{fence}{info}\n{body}{fence}"


def render_markdown(
    result: GradeResult,
    *,
    show_hidden_details: bool | None = None,
    student: bool = False,
    policy: Policy | None = None,
) -> str:
    """The scorecard as GitHub-flavoured Markdown, for `policy`'s audience (grader.scorecard.view).

    Without a `policy`: the instructor's card, or the student's with `student=True` ("sandboxed"
    instead of the sandbox's layers; no details of hidden tests); `show_hidden_details`
    overrides whether hidden tests' failure details show. Failures of public tests come first;
    a traceback shared by several tests is shown once; a public-only result says what share of
    the points its tests hold. The text is at most `MAX_BYTES`, whatever the result holds:
    failure details share one character budget (first come, first served), and a result too
    big even so is rendered again with less (`sanitize.levels`): shorter fields, then no
    details, then fewer tests listed (the rest counted in one line).
    """
    policy = policy_for(policy, student=student, show_hidden_details=show_hidden_details)
    return fit(lambda caps: _render(result, caps, policy), utf8_size, MAX_BYTES)


def _render(result: GradeResult, caps: Caps, policy: Policy) -> str:
    budget = TextBudget(caps.text)
    full = full_points(result)
    title = md_inline(result.title or result.assignment, caps.limit(200))
    lines = [f"## {title}: {format_score(result.score, result.max_score)}", ""]
    if result.errors:
        lines += [
            "**Grader errors: this grade is not valid** (a problem with the grader, "
            "not with the submission):",
            "",
        ]
        for error in result.errors[: caps.errors]:
            lines += [code_block(clean_text(error, caps.limit(4_000))), ""]
        if len(result.errors) > caps.errors:
            lines += [more_line(len(result.errors) - caps.errors, "grader errors"), ""]
    if full:  # public tests only: a column for what each part's public tests hold of it
        lines += [
            "| Part | Points | Public tests | Status | Description |",
            "| --- | ---: | ---: | :---: | --- |",
        ]
    else:
        lines += ["| Part | Points | Status | Description |", "| --- | ---: | :---: | --- |"]
    blanks = "| | | | |" if full else "| | | |"
    for part in result.parts[: caps.parts]:
        of_full = f"| {part_of_full(part, full)} " if full else ""
        lines.append(
            f"| {md_inline(part.name, caps.limit(200))} | {format_score(part.points, part.max_points)} "
            f"{of_full}| {STATUS_LABELS.get(part.status, md_inline(part.status, 40))} "
            f"| {md_inline(part_description(part, full, caps.limit(500)), None)} |"
        )
    if len(result.parts) > caps.parts:
        lines.append(f"| {md_inline(more_line(len(result.parts) - caps.parts, 'parts'))} {blanks}")
    if full:
        whole = sum(full.get(p.name, 0.0) for p in result.parts)
        total_of_full = f"| {format_points(result.max_score)} of {format_points(whole)} "
    else:
        total_of_full = ""
    lines.append(f"| **Total** | **{format_score(result.score, result.max_score)}** {total_of_full}| | |")
    lines.append("")
    covered = public_only_line(result)
    if covered:
        lines += [f"**{md_inline(covered, None)}**", ""]
    failures = failures_in_order(result)
    once = TracebackOnce()
    if failures:
        lines += [f"### Tests that did not pass ({len(failures)})", ""]
        for test in failures[: caps.tests]:
            details = failure_details(test, policy, LIMITS, budget, scale=caps.limit, once=once)
            lines += _failure(test, details, caps)
        if len(failures) > caps.tests:
            lines += [md_inline(more_line(len(failures) - caps.tests, "tests"), None), ""]
    skipped = [t for t in result.tests if t.outcome == "skipped"]
    if skipped:
        lines += [f"### Skipped tests ({len(skipped)})", ""]
        for test in skipped[: caps.tests]:
            why = budget.take(test.message, caps.limit(500)) if test.message else ""
            reason = f": {md_inline(why, None)}" if why else ""
            lines.append(
                f"- {md_code(test.name, caps.limit(200))} "
                f"(part {md_inline(test.part, caps.limit(200))}){reason}"
            )
        if len(skipped) > caps.tests:
            lines.append(f"- {md_inline(more_line(len(skipped) - caps.tests, 'tests'), None)}")
        lines.append("")
    intake = intake_summary(result.metadata)
    if intake:
        lines += [md_inline(intake, None), ""]
    summary = policy.sandbox_text(result.metadata)
    if summary:
        lines += [f"<sub>{md_inline(summary)}</sub>", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _summary_text(s: str, limit: int) -> str:
    return html.escape(" ".join(clean_text(s, limit).split()), quote=True)


def _failure(test: TestResult, details: FailureDetails, caps: Caps) -> list[str]:
    mark = "✗" if test.outcome == "failed" else "⚠ error:"
    hidden = " (hidden test)" if test.visibility == "hidden" else ""
    summary = (
        f"{mark} <code>{_summary_text(test.name, caps.limit(200))}</code> · part "
        f"{_summary_text(test.part, caps.limit(200))} · "
        f"{format_score(test.points, test.max_points)}{hidden}"
    )
    out = ["<details>", f"<summary>{summary}</summary>", ""]
    if test.description:
        out += [md_inline(test.description, caps.limit(1_000)), ""]
    if not details.shown:
        out += [HIDDEN_NOTE, ""]
    if details.message:
        out += ["**What went wrong**", "", code_block(details.message), ""]
    if details.example:
        out += ["**Smallest failing input**", "", code_block(details.example, "python"), ""]
    if details.traceback_note:
        out += [f"**Traceback (your code)**: {md_inline(details.traceback_note, None)}", ""]
    elif details.traceback:
        out += ["**Traceback (your code)**", "", code_block(details.traceback, "pytb"), ""]
    if details.output:
        out += ["**Your code printed (last lines)**", "", code_block(details.output), ""]
    for artefact in details.artefacts:
        out += [f"- {md_inline(artefact_line(artefact), None)}", ""]
    if details.timings:
        out += [f"Timings: {md_inline(details.timings)}", ""]
    out += ["</details>", ""]
    return out
