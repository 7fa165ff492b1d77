"""`grader new NAME`: a new assignment that `grader build`, `grader verify` and `make test` accept.

The scaffold is a small, complete assignment to edit rather than a blank form: an
`assignment.yaml` whose comments say what each key does, a reference file with solution
markers, a data generator writing a CSV in a real layout, one public test (property-based)
and one hidden test (against the reference, on the data set), and a mutant per part.
docs/new-assignment.md walks through it file by file.
"""

from __future__ import annotations

import keyword
import re
import textwrap
from pathlib import Path
from string import Template

NAME = re.compile(r"[a-z][a-z0-9_]*")


class ScaffoldError(ValueError):
    """The name is not usable, or the assignment's files exist already."""


ASSIGNMENT_YAML = """\
# $name: made by `grader new $name`. Every key is described in docs/assignment-yaml.md.
name: $name
title: "$name: normalise a data set and apply ReLU"  # shown on scorecards
version: "0.1"
# What a submission holds, relative to its folder. `grader build` writes these files from
# reference/$name/ into student_template/$name/, with the solution markers stripped.
files:
  - basics.py
# A part's score is the sum of its passed tests' points, capped at `points`. Each test names
# its part: @points(2, part="normalize").
parts:
  - name: normalize
    points: 4
    description: zero mean and unit variance per column
  - name: relu
    points: 2
    description: ReLU on a tensor
tests:
  public: tests/public  # shipped to students: `grader check $name` runs these
  hidden: tests/hidden  # the instructor's only
limits:
  call_seconds: 10  # CPU seconds one call into student code may take
  test_seconds: 60  # wall-clock backstop of one test
  submission_seconds: 600  # of the whole grading
  memory_mb: 2048  # of the sandboxed child
hypothesis:
  max_examples: 25  # examples per property-based test (derandomised: every student meets the same)
data:
  generator: data:generate  # generate(out_dir, seed, *, size) in data.py of this folder
  seed: 0  # the public data set's seed; held-out data comes from a grading seed
# The libraries student code uses: imported once by the zygote, so a student's import is
# instant. Grading pays only for these ([numpy] alone: torch is never imported).
imports: [numpy, torch]
"""

DATA_PY = '''\
"""The $name data set: a CSV of measurements in the layout the course uses.

`generate(out_dir, seed)` writes `out_dir/measurements.csv` (columns `height,weight,label`)
deterministically for `seed`; `grader data $name --out DIR` runs it. The layout is written
once, here; `load` reads it back for the tests (in the trusted grading process).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

CSV_NAME = "measurements.csv"
COLUMNS = ("height", "weight", "label")
ROWS = {"small": 64, "full": 1024}


def generate(out_dir: Path | str, seed: int = 0, *, size: str = "small") -> Path:
    """Write the data set for `seed` into `out_dir`; return `out_dir`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n = ROWS[size]
    label = rng.integers(0, 2, n)
    height = rng.normal(170 + 8 * label, 9, n)
    weight = rng.normal(60 + 12 * label, 11, n)
    with open(out / CSV_NAME, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\\n")
        writer.writerow(COLUMNS)
        writer.writerows((f"{h:.2f}", f"{w:.2f}", int(y)) for h, w, y in zip(height, weight, label, strict=True))
    return out


def load(data_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """The features (N×2 float64) and labels (N) of the data set in `data_dir`."""
    with open(Path(data_dir) / CSV_NAME, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    x = np.array([[float(r["height"]), float(r["weight"])] for r in rows])
    return x, np.array([int(r["label"]) for r in rows])
'''

REFERENCE_PY = '''\
"""$name: two small functions (the reference solution; `grader build` makes the template)."""

import numpy as np
import torch


def normalize(x: np.ndarray) -> np.ndarray:
    """Each column of the N×D array `x` shifted to mean 0 and scaled to standard deviation 1.

    A column that is constant is only shifted (its standard deviation counts as 1).
    """
    # BEGIN SOLUTION
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return (x - mean) / std
    # END SOLUTION


def relu(t: torch.Tensor) -> torch.Tensor:
    """max(t, 0), element-wise."""
    # BEGIN SOLUTION
    return torch.clamp(t, min=0)
    # END SOLUTION
    # BEGIN PROMPT
    # Hint: one torch function does it.
    # END PROMPT
'''

PUBLIC_TEST = '''\
"""Public tests of $name: what `grader check $name` runs for students."""

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.testing import assert_close, points

# Whole numbers: a constant column's standard deviation is then exactly 0, not a rounding error.
COLUMNS = hnp.arrays(
    np.float64,
    st.tuples(st.integers(2, 20), st.integers(1, 4)),
    elements=st.integers(-1000, 1000).map(float),
)


@points(2, part="normalize")
@given(x=COLUMNS)
def test_normalized_columns_have_mean_zero(student, x):
    """normalize(x): every column of the result has mean 0."""
    got = np.asarray(student.basics.normalize(x))
    assert_close(got.mean(axis=0), np.zeros(x.shape[1]), atol=1e-6, what="column means after normalize")


@points(2, part="relu")
@given(values=st.lists(st.floats(-10, 10, width=32), min_size=1, max_size=16))
def test_relu_matches_the_definition(student, values):
    """relu(t) is max(t, 0), element-wise."""
    t = torch.tensor(values)
    assert_close(student.basics.relu(t), torch.clamp(t, min=0), what="relu(t)")
'''

HIDDEN_TEST = '''\
"""Hidden tests of $name: against the reference solution, on the assignment's data set."""

from grader.testing import assert_close, points

from ...data import load


@points(2, part="normalize")
def test_normalize_matches_the_reference_on_the_data_set(student, reference, data_dir):
    """normalize on the data set: both columns scaled to unit standard deviation, as the reference does."""
    x, _labels = load(data_dir)
    assert_close(
        student.basics.normalize(x),
        reference.basics.normalize(x),
        rtol=1e-6,
        what="normalize(measurements)",
    )
'''

MUTANTS = {
    "normalize_not_centred": """\
part: normalize
description: "normalize scales the columns but forgets to subtract the mean"
replace:
  - file: basics.py
    old: "    return (x - mean) / std\\n"
    new: "    return x / std\\n"
""",
    "relu_abs": """\
part: relu
description: "relu returns |t| instead of max(t, 0)"
replace:
  - file: basics.py
    old: "    return torch.clamp(t, min=0)\\n"
    new: "    return torch.abs(t)\\n"
""",
}


def scaffold_files(name: str) -> dict[str, str]:
    """The files of a new assignment `name`, by path relative to the project root."""
    check_name(name)
    fill = lambda text: Template(text).substitute(name=name)  # noqa: E731
    files = {
        f"assignments/{name}/assignment.yaml": fill(ASSIGNMENT_YAML),
        f"assignments/{name}/data.py": fill(DATA_PY),
        f"assignments/{name}/tests/public/test_{name}.py": fill(PUBLIC_TEST),
        f"assignments/{name}/tests/hidden/test_{name}_hidden.py": fill(HIDDEN_TEST),
        f"reference/{name}/basics.py": fill(REFERENCE_PY),
    }
    for mutant, text in MUTANTS.items():
        files[f"tests/mutants/{name}/{mutant}.yaml"] = text
    return files


def check_name(name: str) -> None:
    """Raise ScaffoldError unless `name` is a lower-case Python identifier (it names a package)."""
    if not NAME.fullmatch(name) or keyword.iskeyword(name):
        raise ScaffoldError(
            f"{name!r} cannot name an assignment: use lower-case letters, digits and _, starting "
            "with a letter (it becomes the package assignments.<name>)"
        )


def create(root: Path, name: str) -> list[Path]:
    """Write the scaffold of `name` under the project `root`; return the files written.

    Nothing is written when any of them (or the assignment's folder) exists already.
    """
    files = scaffold_files(name)
    root = Path(root)
    taken = [rel for rel in (f"assignments/{name}", f"reference/{name}", f"tests/mutants/{name}") if (root / rel).exists()]
    if taken:
        raise ScaffoldError(f"assignment {name!r} exists already ({', '.join(taken)}); pick another name")
    written = []
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def next_steps(name: str) -> str:
    """What to run after `grader new`."""
    return textwrap.dedent(
        f"""\
        next:
          grader build {name}          # student_template/{name}/ from reference/{name}/
          grader check {name} student_template/{name}   # what a student sees: 0 points, no crash
          grader verify {name}         # reference full marks, template zero, each mutant loses its part
        then edit assignments/{name}/ (docs/new-assignment.md walks through every file)"""
    )
