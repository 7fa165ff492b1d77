"""`grader publish NAME --gradescope OUT.zip`: a Gradescope autograder bundle.

Gradescope ("Autograder Specifications", gradescope-autograders.readthedocs.io/en/latest/specs/)
unzips the bundle into `/autograder/source`, runs `setup.sh` once as root while it builds the
image, then `run_autograder` for every submission (cwd `/autograder`, the submission in
`/autograder/submission`), and reads `/autograder/results/results.json`.

The bundle holds:

- `setup.sh`: installs Python (3.11+), a virtual environment in /opt/grader-venv (outside
  /autograder/source and open to other users, as the sandbox's slot uid needs), the pinned
  `requirements.txt`, then the grader from `grader_src/` (its source, installed --no-deps);
- `run_autograder`: closes `/autograder/source` to other users and runs
  `python -m grader.publish.autograder`, which grades the submission with public and hidden
  tests and writes results.json with the grader's Gradescope scorecard;
- `project/assignments/NAME/` (tests, hidden ones included, data generator, grading seed) and
  `project/reference/NAME/` (the hidden tests compare against it and the training budget is a
  ratio of its time). Both are read only by the trusted grading process: the sandboxed child
  that imports the submission can read neither (Landlock allows it Python, the grader package
  and the public data; the slot uid cannot open the 0700 source folder).

For a local test run, `GRADER_AUTOGRADER_ROOT` replaces `/autograder`, `GRADER_AUTOGRADER_PYTHON`
the interpreter, and `GRADER_SKIP_SETUP=1` makes setup.sh a no-op.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import grader
from grader.publish.bundle import (
    Tree,
    assignment_files,
    grader_source,
    read_tree,
    requirements_text,
)

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
# GRADER_SKIP_SETUP=1 skips it (a local test run with an environment that has the grader).
set -euo pipefail
if [ "${GRADER_SKIP_SETUP:-0}" = "1" ]; then echo "setup.sh: skipped (GRADER_SKIP_SETUP=1)"; exit 0; fi
SOURCE="${GRADER_AUTOGRADER_ROOT:-/autograder}/source"
VENV="${GRADER_VENV:-/opt/grader-venv}"
export DEBIAN_FRONTEND=noninteractive
PY=""
for candidate in python3.13 python3.12 python3.11; do
  if command -v "$candidate" >/dev/null 2>&1; then PY="$candidate"; break; fi
done
if [ -z "$PY" ]; then
  apt-get update
  apt-get install -y python3.11 python3.11-venv
  PY=python3.11
fi
# a system Python's venv: the sandbox's slot uid must be able to run the interpreter
"$PY" -m venv "$VENV" || { apt-get update && apt-get install -y "$PY-venv" && "$PY" -m venv "$VENV"; }
"$VENV/bin/python" -m pip install --upgrade pip
"$VENV/bin/python" -m pip install -r "$SOURCE/requirements.txt"
"$VENV/bin/python" -m pip install --no-deps "$SOURCE/grader_src"
chmod -R a+rX "$VENV"
# what the sandbox can do on this image (shown in the build log)
"$VENV/bin/python" -m grader doctor || true
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission (as root, in /autograder).
# GRADER_AUTOGRADER_ROOT replaces /autograder and GRADER_AUTOGRADER_PYTHON the interpreter
# (a local test run).
set -euo pipefail
ROOT="${GRADER_AUTOGRADER_ROOT:-/autograder}"
PYTHON="${GRADER_AUTOGRADER_PYTHON:-/opt/grader-venv/bin/python}"
# generated data sets (public: readable by the sandboxed child; held-out: a 0700 folder)
export GRADER_CACHE="${GRADER_CACHE:-$ROOT/grader-cache}"
# The bundle holds the hidden tests, the reference and the grading seed: closed to every
# other user (the sandbox's slot uids). Landlock keeps it out of the child's reach as well.
chmod -R go-rwx "$ROOT/source"
chmod go+x "$ROOT" 2>/dev/null || true
# -P: the working folder is not put on sys.path
exec "$PYTHON" -P -m grader.publish.autograder --root "$ROOT" @@ASSIGNMENT@@
"""


def gradescope_tree(spec: Any) -> Tree:
    """The autograder bundle's files (see the module docstring)."""
    reference = Path(spec.reference_dir)
    if not reference.is_dir():
        raise FileNotFoundError(f"{spec.name}: no reference solution at {reference}")
    tree = Tree()
    tree.add("setup.sh", SETUP_SH, executable=True)
    tree.add("run_autograder", RUN_AUTOGRADER.replace("@@ASSIGNMENT@@", spec.name), executable=True)
    tree.add("requirements.txt", requirements_text())
    tree.add_folder("grader_src", grader_source())
    tree.add_folder(f"project/assignments/{spec.name}", assignment_files(spec, secrets=True))
    tree.add_folder(f"project/reference/{spec.name}", read_tree(reference))
    manifest = {
        "assignment": spec.name,
        "assignment_version": spec.version,
        "title": spec.title,
        "max_score": spec.max_score,
        "grader_version": grader.__version__,
        "parts": [{"name": p.name, "points": p.points} for p in spec.parts],
    }
    tree.add("manifest.json", json.dumps(manifest, indent=2) + "\n")
    tree.add("README.md", _readme(spec))
    return tree


def publish_gradescope(spec: Any, out: Path) -> Path:
    """Write `spec`'s Gradescope autograder zip to `out`; returns its path."""
    return gradescope_tree(spec).write_zip(Path(out))


def _readme(spec: Any) -> str:
    return f"""\
# Gradescope autograder: {spec.title or spec.name}

Upload this zip as the assignment's autograder ("Configure Autograder", Ubuntu base image).
Students submit the files of `{spec.name}/` (any folder layout Gradescope keeps), a zip of
them, or one filled `.ipynb` notebook (its `%%writefile` cells are read, never run).

- `setup.sh` installs Python 3.11+, a venv at /opt/grader-venv, `requirements.txt` (pinned;
  torch CPU wheels) and the grader (`grader_src/`).
- `run_autograder` grades `/autograder/submission` with the public and hidden tests and writes
  `/autograder/results/results.json` (hidden tests are shown after grades are published).
- `project/` holds the tests, the data generator, the grading seed and the reference solution:
  the sandboxed process that runs student code can read none of it.

Made by grader {grader.__version__} (`grader publish {spec.name} --gradescope`).
"""
