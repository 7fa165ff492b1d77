"""Scorecards: one result model (`grader.results.GradeResult`), many renderers.

- "terminal": a rich table and failure panels, printed to a console;
- "json": our own lossless schema (docs/results-schema.md), written to `results.json`;
- "gradescope": Gradescope's autograder results.json, written to `gradescope.json`;
- "junit": JUnit XML, written to `junit.xml`;
- "markdown": a GitHub-flavoured Markdown summary, written to `scorecard.md`;
- "html": one self-contained HTML report (inline CSS and SVG charts, no scripts), `report.html`.

Each is a thin view of the same decisions (grader.scorecard.view: the audience, what a
failure shows and to whom), listed in `REGISTRY`; docs/scorecards.md says how to add one.

Every string in a result may come from student code; each renderer passes it through
`grader.scorecard.sanitize.clean_text` (the JSON keeps control characters, which JSON escaping
makes inert, but it too strips the invisible characters of `sanitize.INVISIBLE`). Every format
is bounded whatever the result holds: per-field limits, one budget for failure details, and a
cap on the whole (`MAX_BYTES` of each file format's module; the terminal's caps in terminal.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from grader.results import GradeResult
from grader.scorecard.gradescope import render_gradescope
from grader.scorecard.html import render_html
from grader.scorecard.json_format import render_json
from grader.scorecard.junit import render_junit
from grader.scorecard.markdown import render_markdown
from grader.scorecard.sanitize import clean_text
from grader.scorecard.terminal import render_terminal
from grader.scorecard.view import AUDIENCES, Policy, policy_for, redact

__all__ = [
    "AUDIENCES",
    "FILE_NAMES",
    "FORMATS",
    "REGISTRY",
    "Format",
    "Policy",
    "policy_for",
    "render_html",
    "clean_text",
    "parse_formats",
    "render",
    "render_gradescope",
    "render_json",
    "render_junit",
    "render_markdown",
    "render_terminal",
]

@dataclass(frozen=True)
class Format:
    """A scorecard format: the file it is written to (None: printed) and how it is rendered."""

    name: str
    file_name: str | None
    render: Callable[[GradeResult, Policy], str] | None  # None: the terminal (prints itself)


def _gradescope(result: GradeResult, policy: Policy) -> str:
    return json.dumps(render_gradescope(result, policy=policy), indent=2) + "\n"


# Adding a format: one module with a `render_x(result, *, policy) -> str` and one entry here.
REGISTRY: dict[str, Format] = {
    f.name: f
    for f in (
        Format("terminal", None, None),
        Format("json", "results.json", lambda r, p: render_json(redact(r, p))),
        Format("gradescope", "gradescope.json", _gradescope),
        Format("junit", "junit.xml", lambda r, p: render_junit(r, policy=p)),
        Format("markdown", "scorecard.md", lambda r, p: render_markdown(r, policy=p)),
        Format("html", "report.html", lambda r, p: render_html(r, policy=p)),
    )
}
FORMATS: tuple[str, ...] = tuple(REGISTRY)

# The file each file format is written to, inside the output folder.
FILE_NAMES: dict[str, str] = {f.name: f.file_name for f in REGISTRY.values() if f.file_name}


def parse_formats(text: str) -> list[str]:
    """The format names in a comma-separated list ("terminal,json"), duplicates dropped.

    Raises ValueError, with a one-line message listing the valid names, on an unknown or
    missing name.
    """
    names: list[str] = []
    for raw in text.split(","):
        name = raw.strip().lower()
        if not name:
            continue
        if name not in FORMATS:
            shown = clean_text(raw.strip(), 40).replace("\n", " ")
            raise ValueError(
                f"unknown scorecard format {shown!r}; valid formats: {', '.join(FORMATS)}"
            )
        if name not in names:
            names.append(name)
    if not names:
        raise ValueError(f"no scorecard format given; valid formats: {', '.join(FORMATS)}")
    return names


def render(
    result: GradeResult,
    formats: list[str],
    out_dir: Path | None,
    console: Console | None = None,
    *,
    student: bool = False,
    policy: Policy | None = None,
) -> list[Path]:
    """Render `result` in each of `formats`; return the paths of the files written.

    "terminal" prints to `console` (a new `Console()` when None); the file formats are written
    into `out_dir` (created if need be), as named in `FILE_NAMES`. Every format is rendered
    for `policy`'s audience (grader.scorecard.view); without one, the instructor's, or with
    `student=True` (the card of `grader check`) the student's. Raises ValueError on an
    unknown format, or on a file format with no `out_dir`, before anything is rendered.
    """
    policy = policy_for(policy, student=student)
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(
            f"unknown scorecard format(s) {', '.join(map(repr, unknown))}; "
            f"valid formats: {', '.join(FORMATS)}"
        )
    wanted = list(dict.fromkeys(formats))
    file_formats = [f for f in wanted if f in FILE_NAMES]
    if file_formats and out_dir is None:
        raise ValueError(
            f"format(s) {', '.join(file_formats)} write files: an output folder is needed"
        )
    written: list[Path] = []
    for fmt in wanted:
        entry = REGISTRY[fmt]
        if entry.render is None:
            render_terminal(result, console if console is not None else Console(), policy=policy)
            continue
        assert out_dir is not None and entry.file_name is not None
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / entry.file_name
        path.write_text(entry.render(result, policy), encoding="utf-8")
        written.append(path)
    return written
