"""`grader publish NAME --github-classroom DIR`: a starter repository with an autograding workflow.

The repository is the student starter kit (grader/publish/bundle.py: `NAME/` to fill in,
README, `check.py`, `grading/` with the vendored grader source, pinned requirements and the
public tests) plus `.github/workflows/classroom.yml`, which on every push:

1. installs Python 3.11, the pinned requirements and the vendored grader (`grading/grader_src`,
   no network fetch of the grader itself: the repository carries the exact version that was
   published, so a later change to the grader never changes a running course);
2. runs the public grading, `python -m grader --root grading/project check NAME NAME
   --format terminal,markdown,junit,json --out grader-results`;
3. appends the Markdown scorecard to `$GITHUB_STEP_SUMMARY` and uploads `grader-results/`
   (JUnit XML included) as an artifact;
4. reports the points the way GitHub Classroom reads them: the step writes its `result`
   output (base64 JSON `{version, status, max_score, tests: [{name, status, score, ...}]}`,
   made by `python -m grader.publish.classroom`), and the
   `classroom-resources/autograding-grading-reporter@v1` action, given `runners: grader` and
   `GRADER_RESULTS`, sums the tests' `score` against `max_score` and writes "Points X/Y" on the
   job's check run, which must be called `run-autograding-tests` (as the reporter looks it up).
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from pathlib import Path
from typing import Any

from grader.publish.bundle import STARTER_GRADING, Tree, starter_tree

WORKFLOW_PATH = ".github/workflows/classroom.yml"
RESULTS_DIR = "grader-results"
RUNNER_ID = "grader"  # the grading step's id; the reporter reads GRADER_RESULTS
REPORTER = "classroom-resources/autograding-grading-reporter@v1"

WORKFLOW = """\
# GitHub Classroom autograding for @@NAME@@ (made by `grader publish @@NAME@@ --github-classroom`).
# Runs the public tests on every push; the scorecard goes to the run's summary page, the JUnit
# report to the artifacts, and the points to GitHub Classroom (through the reporter action,
# which writes "Points X/Y" on this job's check run: keep the job id run-autograding-tests).
name: Autograding Tests
"on":
  - push
  - workflow_dispatch
  - repository_dispatch
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  run-autograding-tests:
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    timeout-minutes: 30
    steps:
      - name: Checkout code
        uses: actions/checkout@v4
      - name: Set up Python
        uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install the grader
        run: |
          python -m pip install --upgrade pip
          python -m pip install -r @@GRADING@@/requirements.txt
          python -m pip install --no-deps ./@@GRADING@@/grader_src
      - name: Public grading
        id: @@RUNNER@@
        run: |
          code=0
          python -m grader --root @@GRADING@@/project check @@NAME@@ @@NAME@@ --format terminal,markdown,junit,json --out @@RESULTS@@ || code=$?
          if [ -f @@RESULTS@@/results.json ]; then
            python -m grader.publish.classroom @@RESULTS@@/results.json >> "$GITHUB_OUTPUT"
            cat @@RESULTS@@/scorecard.md >> "$GITHUB_STEP_SUMMARY"
          fi
          exit $code
      - name: Upload the scorecards (JUnit XML, JSON, Markdown)
        if: always()
        uses: actions/upload-artifact@v4
        with:
          name: @@RESULTS@@
          path: @@RESULTS@@/
          if-no-files-found: ignore
      - name: Autograding Reporter
        if: always()
        uses: @@REPORTER@@
        env:
          @@RUNNER_ENV@@_RESULTS: "${{ steps.@@RUNNER@@.outputs.result }}"
        with:
          runners: @@RUNNER@@
"""


def workflow_text(spec: Any) -> str:
    """The workflow YAML for `spec` (see the module docstring)."""
    values = {
        "@@NAME@@": spec.name,
        "@@GRADING@@": STARTER_GRADING,
        "@@RESULTS@@": RESULTS_DIR,
        "@@RUNNER_ENV@@": RUNNER_ID.upper(),
        "@@RUNNER@@": RUNNER_ID,
        "@@REPORTER@@": REPORTER,
    }
    text = WORKFLOW
    for key, value in values.items():
        text = text.replace(key, value)
    return text


def classroom_tree(spec: Any) -> Tree:
    """The starter repository's files: the starter kit, the workflow and a .gitignore."""
    tree = starter_tree(spec, classroom=True)
    tree.add(WORKFLOW_PATH, workflow_text(spec))
    tree.add(".gitignore", f"__pycache__/\n*.pyc\n.venv/\n{RESULTS_DIR}/\n.ipynb_checkpoints/\n")
    return tree


def publish_classroom(spec: Any, out: Path) -> Path:
    """Write `spec`'s GitHub Classroom starter repository into the folder `out`."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} exists and is not empty: pick a new folder for the repository")
    return classroom_tree(spec).write_dir(out)


def runner_result(results: dict[str, Any]) -> dict[str, Any]:
    """The autograding reporter's runner result for our JSON scorecard (`results.json`).

    One test per part (its points, `pass` when it has them all), `max_score` the points the
    run could earn (the public tests' total), `status` `error` when the grader reported an
    error, else `pass` or `fail`.
    """
    tests = []
    for part in results.get("parts", []):
        points, max_points = float(part.get("points", 0)), float(part.get("max_points", 0))
        tests.append({
            "name": str(part.get("name", "?")),
            "status": "pass" if max_points and points >= max_points else "fail",
            "score": points,
            "max_score": max_points,
            "message": f"{points:g}/{max_points:g} points",
            "line_no": 0,
        })
    score, max_score = float(results.get("score", 0)), float(results.get("max_score", 0))
    status = "error" if results.get("errors") else ("pass" if score >= max_score else "fail")
    return {"version": 1, "status": status, "max_score": max_score, "tests": tests}


def encode_result(result: dict[str, Any]) -> str:
    """The runner result as the reporter reads it: base64 of its JSON."""
    return base64.b64encode(json.dumps(result).encode()).decode("ascii")


def main(argv: list[str] | None = None) -> int:
    """Print `result=<base64>` (a `$GITHUB_OUTPUT` line) for a results.json written by `grader check`."""
    parser = argparse.ArgumentParser(prog="python -m grader.publish.classroom", description=main.__doc__)
    parser.add_argument("results", type=Path, help="results.json of `grader check --format json`")
    args = parser.parse_args(argv)
    results = json.loads(args.results.read_text(encoding="utf-8"))
    print(f"result={encode_result(runner_result(results))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
