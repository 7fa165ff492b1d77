"""What a Gradescope bundle's `run_autograder` runs: grade `ROOT/submission`, write results.json.

`python -m grader.publish.autograder --root /autograder NAME` loads the assignment from
`ROOT/source/project`, grades the submission (public and hidden tests) in this trusted process
with the sandboxed child as everywhere else, and writes Gradescope's results.json
(grader/scorecard/gradescope.py) to `ROOT/results/results.json`, adding the grader's version
to `extra_data`. The submission is whatever Gradescope put in `ROOT/submission`: the files
themselves, one folder holding them, one `.zip`, or one filled `.ipynb` notebook when the
folder has no `.py` file.

A submission that cannot be graded at all (none of the assignment's files) gets a results.json
with score 0 and the reason. A failure of the grader itself writes no results.json (Gradescope
then reports that the autograder failed, so staff notice): the traceback goes to stdout, which
only instructors see.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
import traceback
from pathlib import Path
from typing import Any

import grader

ROOT_ENV = "GRADER_AUTOGRADER_ROOT"
DEFAULT_ROOT = "/autograder"
_MAX_SCAN = 10_000  # entries looked at when choosing the submission's form


def _entries(folder: Path) -> list[Path]:
    """`folder`'s entries that a student meant to submit (no hidden files, no caches)."""
    from grader.intake import ignored

    return sorted(p for p in folder.iterdir() if not p.name.startswith(".") and not ignored(p.name))


def _has_python(folder: Path) -> bool:
    seen = 0
    for _dirpath, dirnames, filenames in os.walk(folder):  # links to folders are not followed
        seen += len(dirnames) + len(filenames)
        if any(n.endswith(".py") for n in filenames) or seen > _MAX_SCAN:
            return True
    return False


def choose_submission(folder: Path, files: tuple[str, ...] = ()) -> Path:
    """The path to grade inside Gradescope's submission folder (see the module docstring).

    A single folder is looked into unless it is one of the assignment's own (the first path
    segment of one of `files`, e.g. `model/`). Only names and kinds are looked at here (never
    following a link); intake reads the contents as hostile data afterwards.
    """
    folder = Path(folder)
    own = {f.split("/")[0] for f in files}
    for _ in range(2):  # the files, or one folder around them (a zipped folder)
        entries = _entries(folder)
        kinds = {p: stat.S_IFMT(os.lstat(p).st_mode) for p in entries}
        if len(entries) == 1 and kinds[entries[0]] == stat.S_IFDIR and entries[0].name not in own:
            folder = entries[0]
            continue
        break
    entries = _entries(folder)
    regular = [p for p in entries if stat.S_ISREG(os.lstat(p).st_mode)]
    if len(entries) == 1 and regular and regular[0].suffix.lower() == ".zip":
        return regular[0]
    notebooks = [p for p in regular if p.suffix.lower() == ".ipynb"]
    if len(notebooks) == 1 and not _has_python(folder):
        return notebooks[0]
    return folder


def refused_results(spec: Any, reason: str) -> dict[str, Any]:
    """A results.json for a submission that could not be graded: score 0 and why."""
    from grader.scorecard.sanitize import clean_text

    return {
        "score": 0.0,
        "execution_time": 0,
        "output": (
            f"{spec.title or spec.name}: 0/{spec.max_score:g} points\n\n"
            f"Your submission could not be graded: {clean_text(reason, 2000)}\n"
            f"Submit the files of {spec.name} ({', '.join(spec.files[:6])}"
            f"{', ...' if len(spec.files) > 6 else ''}), a zip of them, or one filled notebook."
        ),
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {
            "assignment": spec.name,
            "assignment_version": spec.version,
            "grader_version": grader.__version__,
            "refused": True,
        },
        "tests": [],
    }


def grade(root: Path, assignment: str) -> tuple[dict[str, Any], int]:
    """Grade `root/submission` for `assignment`; returns (results.json data, exit code)."""
    from grader.progress import for_stream
    from grader.runner.plugin import ConfigError
    from grader.runner.session import run_session
    from grader.scorecard.gradescope import render_gradescope
    from grader.spec import Project

    spec = Project(root / "source" / "project").load(assignment)
    submission = choose_submission(root / "submission", tuple(spec.files))
    try:
        result = run_session(
            spec,
            submission,
            require_files=True,
            progress=for_stream(f"grading {submission.name} ({spec.name})"),
        )
    except ConfigError as exc:  # e.g. none of the assignment's files were submitted
        return refused_results(spec, str(exc)), 0
    data = render_gradescope(result)
    extra = data.setdefault("extra_data", {})
    extra.setdefault("grader_version", result.metadata.get("grader_version", grader.__version__))
    extra.setdefault("submission_form", "notebook" if submission.suffix == ".ipynb" else "zip" if submission.suffix == ".zip" else "folder")
    return data, (3 if result.errors else 0)


def write_results(results_dir: Path, data: dict[str, Any]) -> Path:
    """Write results.json into `results_dir` (created) atomically; returns its path."""
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / "results.json"
    tmp = path.with_name(".results.json.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def main(argv: list[str] | None = None) -> int:
    """Grade the submission of a Gradescope autograder root and write its results.json."""
    parser = argparse.ArgumentParser(prog="python -m grader.publish.autograder", description=__doc__.splitlines()[0])
    parser.add_argument("assignment")
    parser.add_argument("--root", type=Path, default=Path(os.environ.get(ROOT_ENV) or DEFAULT_ROOT),
                        help=f"the autograder folder (default: ${ROOT_ENV}, else {DEFAULT_ROOT})")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    try:
        data, code = grade(root, args.assignment)
    except Exception:
        print("grader: the autograder failed (no results.json written):", flush=True)
        traceback.print_exc(file=sys.stdout)
        return 3
    path = write_results(root / "results", data)
    print(f"wrote {path}: score {data['score']:g}")
    return code


if __name__ == "__main__":
    sys.exit(main())
