"""What every published artefact is made of: file trees held in memory, written as a zip or a folder.

A `Tree` maps POSIX relative paths to bytes (and marks the executable ones); the pieces here
fill it: the grader's own source (`grader_source`), pinned requirements (`requirements_text`),
an assignment's files with or without its secrets (`assignment_files`), the student template
(`template_files`) and the starter kit a student works in (`starter_tree`: template, handout,
public tests, `check.py`). Zips are reproducible: sorted entries, a fixed timestamp.
"""

from __future__ import annotations

import importlib.metadata
import os
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grader

# Names never copied into an artefact (caches, bytecode, editor and VCS litter).
_IGNORED_NAMES = {"__pycache__", ".pytest_cache", ".hypothesis", ".git", ".DS_Store", ".ipynb_checkpoints"}
_IGNORED_SUFFIXES = (".pyc", ".pyo")
# A fixed timestamp (the earliest a zip can hold) keeps the same input giving the same bytes.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
# Where torch's CPU wheels are (GitHub runners and Gradescope have no GPU).
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
STARTER_GRADING = "grading"  # the starter kit's folder holding the grader and the public tests


@dataclass
class Tree:
    """Files to publish: relative POSIX path → bytes; `executable` paths get mode 0755."""

    files: dict[str, bytes] = field(default_factory=dict)
    executable: set[str] = field(default_factory=set)

    def add(self, path: str, data: bytes | str, *, executable: bool = False) -> None:
        """Add (or replace) one file."""
        self.files[path] = data.encode() if isinstance(data, str) else data
        if executable:
            self.executable.add(path)

    def add_folder(self, prefix: str, files: dict[str, bytes]) -> None:
        """Add `files` (relative paths) under `prefix`."""
        for rel, data in files.items():
            self.add(f"{prefix.rstrip('/')}/{rel}" if prefix else rel, data)

    def write_zip(self, path: Path, *, top: str = "") -> Path:
        """Write the tree as a zip at `path` (entries under `top/` when given); returns `path`."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for rel in sorted(self.files):
                info = zipfile.ZipInfo(f"{top}/{rel}" if top else rel, date_time=_ZIP_TIME)
                mode = 0o755 if rel in self.executable else 0o644
                info.external_attr = (stat.S_IFREG | mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, self.files[rel])
        os.replace(tmp, path)
        return path

    def write_dir(self, folder: Path) -> Path:
        """Write the tree into `folder` (created; existing files of the same names are replaced)."""
        folder = Path(folder)
        for rel in sorted(self.files):
            target = folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.files[rel])
            target.chmod(0o755 if rel in self.executable else 0o644)
        return folder


def read_tree(folder: Path, *, skip: tuple[Path, ...] = ()) -> dict[str, bytes]:
    """The regular files under `folder` (relative POSIX path → bytes), sorted.

    Links are never followed or copied, caches are left out, and anything under a path of
    `skip` (e.g. the hidden tests) is left out.
    """
    folder = Path(folder)
    skipped = [os.path.realpath(p) for p in skip]
    found: dict[str, bytes] = {}
    for rel, path in _walk(folder):
        real = os.path.realpath(path)
        if any(real == s or real.startswith(s.rstrip("/") + "/") for s in skipped):
            continue
        found[rel] = path.read_bytes()
    return dict(sorted(found.items()))


def _walk(folder: Path) -> Iterator[tuple[str, Path]]:
    for dirpath, dirnames, filenames in os.walk(folder):  # never follows links to folders
        dirnames[:] = sorted(d for d in dirnames if d not in _IGNORED_NAMES)
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if name in _IGNORED_NAMES or name.endswith(_IGNORED_SUFFIXES):
                continue
            if not stat.S_ISREG(os.lstat(path).st_mode):
                continue
            yield path.relative_to(folder).as_posix(), path


def project_root(spec: Any) -> Path:
    """The project folder `spec` was loaded from (the one holding assignments/ and reference/)."""
    return Path(spec.reference_dir).parent.parent


def secret_paths(spec: Any) -> tuple[Path, ...]:
    """What of an assignment's folder students must never get: hidden tests, the grading seed."""
    from grader.runner.data import GRADING_SEED_FILE

    paths = [Path(spec.hidden_tests), Path(spec.root) / GRADING_SEED_FILE]
    if spec.data.grading_seed_file is not None:
        paths.append(Path(spec.data.grading_seed_file))
    return tuple(paths)


def assignment_files(spec: Any, *, secrets: bool) -> dict[str, bytes]:
    """The files of `assignments/<name>/`; without `secrets`, no hidden test and no grading seed."""
    skip = () if secrets else secret_paths(spec)
    files = read_tree(Path(spec.root), skip=skip)
    seed_file = spec.data.grading_seed_file
    if secrets and seed_file is not None and not _inside(Path(seed_file), Path(spec.root)):
        # a seed file kept elsewhere travels with the autograder, where the spec expects it
        raise ValueError(
            f"{spec.name}: data.grading_seed_file {seed_file} lies outside the assignment folder; "
            "the Gradescope bundle cannot carry it (move it into assignments/{spec.name}/)"
        )
    return files


def _inside(path: Path, folder: Path) -> bool:
    real, base = os.path.realpath(path), os.path.realpath(folder)
    return real.startswith(base.rstrip("/") + "/")


def template_files(spec: Any) -> dict[str, bytes]:
    """The generated student template (`student_template/<name>/`), notebook included."""
    folder = Path(spec.template_dir)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"{spec.name}: no student template at {folder}; run `grader build {spec.name}` first"
        )
    return read_tree(folder)


def pinned_requirements() -> list[str]:
    """The grader's runtime requirements (`name==version`), as this installation declares them."""
    try:
        declared = importlib.metadata.requires("grader") or []
    except importlib.metadata.PackageNotFoundError:
        declared = []
    pins = []
    for req in declared:
        if "extra ==" in req or "extra==" in req:
            continue
        pins.append(req.split(";")[0].strip())
    return pins


def requirements_text() -> str:
    """requirements.txt: the pinned dependencies, torch from its CPU wheel index."""
    lines = [
        f"# The grader {grader.__version__}'s dependencies, pinned to the versions it was tested with.",
        "# torch/torchvision: CPU wheels (autograder hosts have no GPU).",
        f"--extra-index-url {TORCH_CPU_INDEX}",
        *pinned_requirements(),
    ]
    return "\n".join(lines) + "\n"


def _pyproject() -> str:
    return f"""\
# The grader, as published with an assignment (`grader publish`): its dependencies are pinned
# in the requirements.txt next to this folder; install them first, then this with --no-deps.
[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "grader"
version = "{grader.__version__}"
description = "A grading and assignment harness for deep-learning (PyTorch, CNN) courses"
requires-python = ">=3.11"
dependencies = [{", ".join(f'"{p}"' for p in pinned_requirements())}]

[project.scripts]
grader = "grader.cli:main"

[tool.setuptools.packages.find]
include = ["grader*"]

[tool.setuptools.package-data]
grader = ["py.typed", "*.ini"]
"""


def grader_source() -> dict[str, bytes]:
    """The grader as an installable source tree: pyproject.toml and the `grader` package."""
    package = Path(grader.__file__).resolve().parent
    files = {"pyproject.toml": _pyproject().encode()}
    files.update({f"grader/{rel}": data for rel, data in read_tree(package).items()})
    return files


def starter_readme(spec: Any, *, classroom: bool = False) -> str:
    """The starter kit's README: the assignment's parts, how to check, how to submit."""
    name = spec.name
    rows = "\n".join(f"| {p.name} | {p.points:g} | {p.description or ''} |" for p in spec.parts)
    notebook = ""
    if getattr(spec, "notebook", None):
        notebook = (
            f"\nPrefer a notebook? `{name}/{spec.notebook}` holds the same files as `%%writefile` "
            "cells (open it in Colab or Jupyter). Fill in the cells, run them, and check the "
            f"notebook itself: `python check.py {name}/{spec.notebook}`.\n"
        )
    push = (
        "\nEvery push to this repository runs the same public check on GitHub Actions "
        "(`.github/workflows/classroom.yml`): the scorecard appears on the run's summary page, "
        "and the points go to GitHub Classroom.\n"
        if classroom
        else ""
    )
    return f"""\
# {spec.title or name}

Your work goes in `{name}/`: fill in every `TODO` (the handout's details are in the files'
docstrings{" and in `" + name + "/README.md`" if (Path(spec.template_dir) / "README.md").is_file() else ""}).
{notebook}
| part | points | what |
| --- | ---: | --- |
{rows}

These are the points of the whole assignment. The public tests shipped here check part of
it; the final grade also runs hidden tests, so passing every public test is a good sign, not
a guarantee.

## Check your work (one command)

Python 3.11 or newer. Once:

```sh
python -m venv .venv && . .venv/bin/activate      # Windows: .venv\\Scripts\\activate
pip install -r {STARTER_GRADING}/requirements.txt
pip install --no-deps ./{STARTER_GRADING}/grader_src
```

Then, as often as you like:

```sh
python check.py                 # checks {name}/ against the public tests
python check.py {name}/ --watch # checks again whenever you save a file
```

`check.py` runs `grader --root {STARTER_GRADING}/project check {name} {name}/`: your code runs
in a sandboxed process, and the scorecard says which part failed, on the smallest input that
shows it, with your own traceback.
{push}
## What is here

- `{name}/`: the files you complete (and submit);
- `check.py`: the self-check above;
- `{STARTER_GRADING}/`: the grader (`grader_src/`, pinned `requirements.txt`) and the public
  tests (`project/assignments/{name}/`). Do not edit them: the final grading uses its own copy.
"""


def check_script(spec: Any) -> str:
    """check.py: one command that checks the student's folder (or the path given)."""
    name = spec.name
    return f'''\
#!/usr/bin/env python3
"""Check your work against the public tests: `python check.py [PATH] [grader check options]`.

PATH defaults to {name}/ (a folder, a .zip or a filled .ipynb notebook). Install the grader first
(README.md): pip install -r {STARTER_GRADING}/requirements.txt && pip install --no-deps ./{STARTER_GRADING}/grader_src
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ASSIGNMENT = "{name}"


def main() -> int:
    """Run `grader check` on the student's folder with the public tests shipped here."""
    try:
        import grader  # noqa: F401
    except ImportError:
        print("the grader is not installed; see README.md (pip install ...)", file=sys.stderr)
        return 2
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        args = [os.path.join(HERE, ASSIGNMENT), *args]
    project = os.path.join(HERE, "{STARTER_GRADING}", "project")
    command = [sys.executable, "-m", "grader", "--root", project, "check", ASSIGNMENT, *args]
    return subprocess.call(command)


if __name__ == "__main__":
    sys.exit(main())
'''


def starter_tree(spec: Any, *, classroom: bool = False) -> Tree:
    """What a student works in: template, handout, public tests, grader and check.py.

    Nothing secret: no hidden test, no grading seed, no reference, no mutant, no data set
    (the public data is generated on the student's machine from the public seed).
    """
    tree = Tree()
    tree.add("README.md", starter_readme(spec, classroom=classroom))
    tree.add("check.py", check_script(spec), executable=True)
    tree.add_folder(spec.name, template_files(spec))
    tree.add(f"{STARTER_GRADING}/requirements.txt", requirements_text())
    tree.add_folder(f"{STARTER_GRADING}/grader_src", grader_source())
    public = assignment_files(spec, secrets=False)
    tree.add_folder(f"{STARTER_GRADING}/project/assignments/{spec.name}", public)
    return tree
