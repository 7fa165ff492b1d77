"""The terminal scorecard: a rich table of parts, the total, and a panel per failed test.

Every string from the result goes through `clean_text` and into a `rich.text.Text`, never
through rich's markup parser, so `[red]` or `[link=...]` in student output prints literally.
"""

from __future__ import annotations

from rich import box
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from grader.results import GradeResult, PartResult, TestResult
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
    TextBudget,
    clean_text,
    format_points,
    format_score,
    more_line,
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

# What one scorecard prints at most, whatever the result holds (about 1 MB of text at 120
# columns): failure details (messages, examples, tracebacks, output) in all, failure panels,
# further failing tests named on one line each, skipped tests, parts, grader errors.
TEXT_BUDGET = 200_000
MAX_PANELS = 50
MAX_NAMED = 200
MAX_SKIPPED = 100
MAX_PARTS = 200
MAX_ERRORS = 20
# Per-field character limits.
MESSAGE_LIMIT = 2_000
EXAMPLE_LIMIT = 4_000
TRACEBACK_LIMIT = 8_000
OUTPUT_LIMIT = 2_000
LIMITS = Limits(MESSAGE_LIMIT, EXAMPLE_LIMIT, TRACEBACK_LIMIT, OUTPUT_LIMIT)
ERROR_LIMIT = 4_000

STATUS_MARKS: dict[str, tuple[str, str]] = {
    "full": ("✓", "bold green"),
    "partial": ("◐", "bold yellow"),
    "zero": ("✗", "bold red"),
    "empty": ("–", "dim"),
}


def render_terminal(
    result: GradeResult,
    console: Console,
    *,
    show_hidden_details: bool | None = None,
    student: bool = False,
    policy: Policy | None = None,
) -> None:
    """Print the scorecard of `result` to `console`, for `policy`'s audience (grader.scorecard.view).

    Without a `policy`: the instructor's card, or the student's with `student=True` (`grader
    check`: "sandboxed" where the instructor's card lists the sandbox's layers, and no details
    of hidden tests); `show_hidden_details` overrides whether hidden tests' failure details
    show. Failures of public tests come first; a traceback that several tests share is shown
    once. A public-only result says what share of the points its tests hold. The output is
    bounded (see `TEXT_BUDGET` and the other caps above): past them, what is left is counted
    in one line.
    """
    policy = policy_for(policy, student=student, show_hidden_details=show_hidden_details)
    budget = TextBudget(TEXT_BUDGET)
    if result.errors:
        console.print(_errors_panel(result.errors))
    console.print(_parts_table(result))
    covered = public_only_line(result)
    if covered:
        console.print(Text(covered, style="bold yellow"))
    failures = failures_in_order(result)
    once = TracebackOnce()
    for test in failures[:MAX_PANELS]:
        details = failure_details(test, policy, LIMITS, budget, once=once)
        console.print(_failure_panel(test, details))
    if len(failures) > MAX_PANELS:
        lines = Text("Also did not pass:", style="bold red")
        for test in failures[MAX_PANELS : MAX_PANELS + MAX_NAMED]:
            lines.append(f"\n  - {clean_text(test.name, 200)} ({clean_text(test.part, 100)})")
        if len(failures) > MAX_PANELS + MAX_NAMED:
            lines.append("\n" + more_line(len(failures) - MAX_PANELS - MAX_NAMED, "tests"))
        console.print(lines)
    skipped = [t for t in result.tests if t.outcome == "skipped"]
    if skipped:
        lines = Text("Skipped tests:", style="bold")
        for test in skipped[:MAX_SKIPPED]:
            lines.append(f"\n  - {clean_text(test.name, 200)} ({clean_text(test.part, 100)})")
            if test.message:
                lines.append(f": {clean_text(test.message, 300)}", style="dim")
        if len(skipped) > MAX_SKIPPED:
            lines.append("\n" + more_line(len(skipped) - MAX_SKIPPED, "skipped tests"))
        console.print(lines)
    intake = intake_summary(result.metadata)
    if intake:
        console.print(Text(intake, style="yellow"))
    summary = policy.sandbox_text(result.metadata)
    if summary:
        console.print(Text(summary, style="dim"))
    if result.errors:
        console.print(
            Text(
                f"{len(result.errors)} grader error(s): this grade is not valid (see above).",
                style="bold red",
            )
        )


def _total_style(result: GradeResult) -> str:
    if result.max_score > 0 and result.score >= result.max_score:
        return "bold green"
    return "bold yellow" if result.score > 0 else "bold red"


def _errors_panel(errors: list[str]) -> Panel:
    body = Text()
    for i, error in enumerate(errors[:MAX_ERRORS]):
        if i:
            body.append("\n")
        body.append("• ", style="bold red")
        body.append(clean_text(error, ERROR_LIMIT))
    if len(errors) > MAX_ERRORS:
        body.append("\n" + more_line(len(errors) - MAX_ERRORS, "grader errors"))
    return Panel(
        body,
        title=Text("Grader errors: this grade is not valid", style="bold red"),
        border_style="red",
        box=box.HEAVY,
    )


def _parts_table(result: GradeResult) -> Table:
    title = clean_text(result.title or result.assignment, 200)
    table = Table(title=Text(title, style="bold"), box=box.SIMPLE_HEAD, show_footer=True)
    table.add_column("Part", footer=Text("Total", style="bold"))
    table.add_column(
        "Points",
        justify="right",
        footer=Text(format_score(result.score, result.max_score), style=_total_style(result)),
    )
    full = full_points(result)
    if full:  # public tests only: what each part's public tests hold of its points
        whole = sum(full.get(p.name, 0.0) for p in result.parts)
        footer = f"{format_points(result.max_score)} of {format_points(whole)}"
        table.add_column("Public tests", justify="right", footer=Text(footer, style="dim"))
    table.add_column("", justify="center")
    table.add_column("Description", overflow="fold")
    for part in result.parts[:MAX_PARTS]:
        table.add_row(*_part_row(part, full))
    if len(result.parts) > MAX_PARTS:
        cells = [Text(more_line(len(result.parts) - MAX_PARTS, "parts"))]
        table.add_row(*cells, *[""] * (len(table.columns) - 1))
    return table


def _part_row(part: PartResult, full: dict[str, float]) -> list[Text]:
    mark, style = STATUS_MARKS.get(part.status, ("?", ""))
    row = [Text(clean_text(part.name, 200)), Text(format_score(part.points, part.max_points))]
    if full:
        row.append(Text(part_of_full(part, full), style="dim"))
    row += [Text(mark, style=style), Text(part_description(part, full, 500))]
    return row


def _failure_panel(test: TestResult, details: FailureDetails) -> Panel:
    items: list[RenderableType] = []

    def section(heading: str, body: str, style: str = "") -> None:
        items.append(Text(heading, style="bold"))
        items.append(Text(body.rstrip(), style=style))

    where = Text.assemble(("Part: ", "bold"), clean_text(test.part, 200))
    where.append(f"    {format_score(test.points, test.max_points)} points", style="dim")
    if test.visibility == "hidden":
        where.append("    (hidden test)", style="magenta")
    items.append(where)
    if test.description:
        items.append(Text(clean_text(test.description, 1_000), style="italic"))
    if not details.shown:
        items.append(Text(HIDDEN_NOTE, style="dim"))
    if details.message:
        section("What went wrong", details.message)
    if details.example:
        section("Smallest failing input", details.example, "cyan")
    if details.traceback_note:
        section("Traceback (your code)", details.traceback_note, "dim")
    elif details.traceback:
        section("Traceback (your code)", details.traceback, "dim")
    if details.output:
        section("Your code printed (last lines)", details.output, "dim")
    for artefact in details.artefacts:
        items.append(Text(artefact_line(artefact), style="dim"))
    if details.timings:
        items.append(Text.assemble(("Timings: ", "bold"), details.timings))
    mark = "✗" if test.outcome == "failed" else "!"
    title = Text(f"{mark} {clean_text(test.name, 200)}", style="bold red")
    if test.outcome == "error":
        title.append(" (error)", style="red")
    return Panel(Group(*items), title=title, title_align="left", border_style="red")
