"""`grader publish NAME --student OUT.zip`: what a student downloads.

One folder, `NAME-starter/`: the template to fill in (`NAME/`, with the template notebook
when the assignment has one), the handout README, `check.py` (the one-command self-check:
`grader check` with the public tests shipped in `grading/project/`) and the grader itself
(`grading/grader_src/`, pinned `grading/requirements.txt`). Nothing secret: no hidden test, no
grading seed, no reference solution, no mutant and no data set (the public data is generated
on the student's machine from the public seed); `tests/test_publish.py` checks names and
contents.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from grader.publish.bundle import Tree, starter_tree


def student_tree(spec: Any) -> Tree:
    """The student bundle's files (relative to its top folder)."""
    return starter_tree(spec)


def publish_student(spec: Any, out: Path) -> Path:
    """Write `spec`'s student zip to `out` (entries under `NAME-starter/`); returns its path."""
    return student_tree(spec).write_zip(Path(out), top=f"{spec.name}-starter")
