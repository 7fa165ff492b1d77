"""Scorecards: one result model (`grader.results.GradeResult`), many renderers.

- "terminal": a rich table and failure panels, printed to a console;
- "json": our own lossless schema (docs/results-schema.md), written to `results.json`;
- "gradescope": Gradescope's autograder results.json, written to `gradescope.json`;
- "junit": JUnit XML, written to `junit.xml`;
- "markdown": a GitHub-flavoured Markdown summary, written to `scorecard.md`.

Every string in a result may come from student code; each renderer passes it through
`grader.scorecard.sanitize.clean_text` (the JSON keeps control characters, which JSON escaping
makes inert, but it too strips the invisible characters of `sanitize.INVISIBLE`). Every format
is bounded whatever the result holds: per-field limits, one budget for failure details, and a
cap on the whole (`MAX_BYTES` of each file format's module; the terminal's caps in terminal.py).
"""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from grader.results import GradeResult
from grader.scorecard.gradescope import render_gradescope
from grader.scorecard.json_format import render_json
from grader.scorecard.junit import render_junit
from grader.scorecard.markdown import render_markdown
from grader.scorecard.sanitize import clean_text
from grader.scorecard.terminal import render_terminal

__all__ = [
    "FILE_NAMES",
    "FORMATS",
    "clean_text",
    "parse_formats",
    "render",
    "render_gradescope",
    "render_json",
    "render_junit",
    "render_markdown",
    "render_terminal",
]

FORMATS: tuple[str, ...] = ("terminal", "json", "gradescope", "junit", "markdown")

# The file each file format is written to, inside the output folder.
FILE_NAMES: dict[str, str] = {
    "json": "results.json",
    "gradescope": "gradescope.json",
    "junit": "junit.xml",
    "markdown": "scorecard.md",
}


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
) -> list[Path]:
    """Render `result` in each of `formats`; return the paths of the files written.

    "terminal" prints to `console` (a new `Console()` when None); the file formats are written
    into `out_dir` (created if need be), as named in `FILE_NAMES`. `student=True` (the card of
    `grader check`) keeps the sandbox's internals off the terminal and Markdown cards (one word,
    "sandboxed", instead; `grader doctor` shows them). Raises ValueError on an
    unknown format, or on a file format with no `out_dir`, before anything is rendered.
    """
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
        if fmt == "terminal":
            render_terminal(result, console if console is not None else Console(), student=student)
            continue
        assert out_dir is not None
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / FILE_NAMES[fmt]
        path.write_text(_render_file(result, fmt, student), encoding="utf-8")
        written.append(path)
    return written


def _render_file(result: GradeResult, fmt: str, student: bool = False) -> str:
    if fmt == "json":
        return render_json(result)
    if fmt == "gradescope":
        return json.dumps(render_gradescope(result), indent=2) + "\n"
    if fmt == "junit":
        return render_junit(result)
    if fmt == "markdown":
        return render_markdown(result, student=student)
    raise ValueError(f"{fmt!r} is not a file format")
