"""Publishing: the artefacts an instructor uploads (`grader publish`, docs/publishing.md).

- `publish_gradescope`: a Gradescope autograder zip (grader/publish/gradescope.py; graded on
  Gradescope by grader/publish/autograder.py);
- `publish_classroom`: a GitHub Classroom starter repository with its autograding workflow
  (grader/publish/classroom.py);
- `publish_student`: the student's starter zip (grader/publish/student.py);
- `publish_all`: every artefact of every assignment, with an index.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.publish.classroom import publish_classroom
from grader.publish.gradescope import publish_gradescope
from grader.publish.student import publish_student

__all__ = ["Published", "publish_all", "publish_classroom", "publish_gradescope", "publish_student"]


@dataclass
class Published:
    """The artefacts written for one assignment (paths relative to the output folder)."""

    name: str
    title: str
    points: float
    notebook: str | None
    gradescope: str
    student: str
    classroom: str


def publish_all(specs: list[Any], out: Path) -> tuple[Path, list[Published]]:
    """Write every artefact of every assignment of `specs` into `out`, and `out/index.md`.

    Layout: `NAME/NAME-gradescope.zip`, `NAME/NAME-student.zip`, `NAME/NAME-classroom/`.
    Returns the index's path and what was written.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    done: list[Published] = []
    for spec in specs:
        folder = out / spec.name
        gradescope = publish_gradescope(spec, folder / f"{spec.name}-gradescope.zip")
        student = publish_student(spec, folder / f"{spec.name}-student.zip")
        classroom = publish_classroom(spec, folder / f"{spec.name}-classroom")
        done.append(
            Published(
                name=spec.name,
                title=spec.title or spec.name,
                points=float(spec.max_score),
                notebook=getattr(spec, "notebook", None),
                gradescope=gradescope.relative_to(out).as_posix(),
                student=student.relative_to(out).as_posix(),
                classroom=classroom.relative_to(out).as_posix() + "/",
            )
        )
    index = out / "index.md"
    index.write_text(index_text(done), encoding="utf-8")
    return index, done


def index_text(done: list[Published]) -> str:
    """index.md: a row per assignment with its artefacts, then what each one is for."""
    rows = "\n".join(
        f"| {p.name} | {p.title} | {p.points:g} | {p.notebook or '-'} | [{Path(p.gradescope).name}]({p.gradescope}) "
        f"| [{Path(p.student).name}]({p.student}) | [{p.classroom}]({p.classroom}) |"
        for p in done
    )
    return f"""\
# Published assignments

| assignment | title | points | notebook | Gradescope | student | GitHub Classroom |
| --- | --- | ---: | --- | --- | --- | --- |
{rows}

- **Gradescope** (`*-gradescope.zip`): upload as the programming assignment's autograder. It
  grades with the public and hidden tests and writes Gradescope's results.json.
- **student** (`*-student.zip`): hand out to students: the template, the handout, the public
  tests and `check.py` (the self-check). Nothing hidden is inside.
- **GitHub Classroom** (`*-classroom/`): push as the assignment's template repository; its
  workflow runs the public grading on every push and reports the points to Classroom.

See docs/publishing.md in the grader's repository.
"""
