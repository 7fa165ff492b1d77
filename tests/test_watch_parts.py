"""`grader check --watch` reruns only the parts whose files changed, when that is safe.

A tiny project made here: four modules, three parts, a public test file per part. Each test
runs in a fresh child (grader/runner/dependencies.py, `LoadRecorder(isolate=True)`), so a
part depends on the files its tests loaded, and on those loaded before them in their file.

    common.py   <- alpha.py (part alpha, tests/public/test_alpha.py)
                <- beta.py  (part beta,  tests/public/test_beta.py)
    gamma.py    (part gamma, tests/public/test_gamma.py)
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.results import GradeResult
from grader.runner.dependencies import (
    EVERYTHING,
    LoadRecorder,
    analyse,
    changed_files,
    closure,
    fingerprint,
    module_files,
    scan_source,
)
from grader.runner.session import run_session
from grader.spec import Project
from grader.watch import REUSED_NOTE, Rechecker, _with_earlier_parts

# run_session loads the grader's hypothesis profile, inside the property test too.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")

SPEC = """\
name: mini
title: "Mini: three parts over four modules"
version: "1.0"
files: [common.py, alpha.py, beta.py, gamma.py]
imports: [numpy]
parts:
  - name: alpha
    points: 2
    description: doubling
  - name: beta
    points: 2
    description: squaring
  - name: gamma
    points: 2
    description: negation
tests:
  public: tests/public
  hidden: tests/hidden
limits:
  call_seconds: 4
  test_seconds: 20
  submission_seconds: 300
  memory_mb: 1024
hypothesis:
  max_examples: 5
"""

PUBLIC = {
    "test_alpha.py": '''\
"""Public tests of mini: alpha."""

from grader.testing import assert_equal, points


@points(1, part="alpha")
def test_alpha(student):
    """double(3) is 6."""
    assert_equal(student.alpha.double(3), 6, what="double(3)")


@points(1, part="alpha")
def test_alpha_negative(student):
    """double(-2) is -4."""
    assert_equal(student.alpha.double(-2), -4, what="double(-2)")
''',
    "test_beta.py": '''\
"""Public tests of mini: beta."""

from grader.testing import assert_equal, points


@points(2, part="beta")
def test_beta(student):
    """square(3) is 9."""
    assert_equal(student.beta.square(3), 9, what="square(3)")
''',
    "test_gamma.py": '''\
"""Public tests of mini: gamma."""

from grader.testing import assert_equal, points


@points(2, part="gamma")
def test_gamma(student):
    """neg(3) is -3."""
    assert_equal(student.gamma.neg(3), -3, what="neg(3)")
''',
}

HIDDEN = '''\
"""Hidden tests of mini."""

from grader.testing import assert_equal, points


@points(2, part="gamma")
def test_gamma_zero(student):
    """neg(0) is 0."""
    assert_equal(student.gamma.neg(0), 0, what="neg(0)")
'''

SHARED = {
    "conftest.py": '''\
import pytest


@pytest.fixture(scope="session")
def shared_gamma(student):
    """A handle that tests of two files share."""
    return student.gamma
''',
    "test_shared_a.py": '''\
from grader.testing import assert_equal, points


@points(1, part="gamma")
def test_shared_once(shared_gamma):
    """neg(1) is -1."""
    assert_equal(shared_gamma.neg(1), -1, what="neg(1)")
''',
    "test_shared_b.py": '''\
from grader.testing import assert_equal, points


@points(1, part="gamma")
def test_shared_twice(student, shared_gamma):
    """neg(2) is -2."""
    student.alpha  # another file's test asks for code: a fresh child
    assert_equal(shared_gamma.neg(2), -2, what="neg(2)")
''',
}

# Each module in a right and a wrong version; `ONE` in common.py is what alpha and beta use.
VERSIONS: dict[str, tuple[str, ...]] = {
    "common.py": ("ONE = 1\n", "ONE = 2\n"),
    "alpha.py": ("from common import ONE\n\n\ndef double(x):\n    return 2 * x * ONE\n",
                 "from common import ONE\n\n\ndef double(x):\n    return x + 2 * ONE\n"),
    "beta.py": ("import common\n\n\ndef square(x):\n    return x * x * common.ONE\n",
                "import common\n\n\ndef square(x):\n    return (x + x) * common.ONE\n"),
    "gamma.py": ("def neg(x):\n    return -x\n", "def neg(x):\n    return x\n"),
}  # fmt: skip


def make_project(root: Path) -> Path:
    """Write the mini project under `root`; return the folder of a right submission."""
    (root / "assignments" / "mini" / "tests" / "public").mkdir(parents=True)
    (root / "assignments" / "mini" / "tests" / "hidden").mkdir(parents=True)
    (root / "assignments" / "mini" / "assignment.yaml").write_text(SPEC)
    for name, text in PUBLIC.items():
        (root / "assignments" / "mini" / "tests" / "public" / name).write_text(text)
    (root / "assignments" / "mini" / "tests" / "hidden" / "test_hidden.py").write_text(HIDDEN)
    for folder in (root / "reference" / "mini", root / "submission"):
        folder.mkdir(parents=True)
        for name, versions in VERSIONS.items():
            (folder / name).write_text(versions[0])
    return root / "submission"


@pytest.fixture(scope="module")
def mini(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path]:
    """(the spec, the project root) of a fresh mini project."""
    root = tmp_path_factory.mktemp("mini")
    make_project(root)
    return Project(root).load("mini"), root


def full_check(spec: object, folder: Path) -> GradeResult:
    """What `grader check` gives (no reuse)."""
    return run_session(spec, folder, public_only=True, require_files=True)


def rechecker(spec: object, folder: Path, *, isolate: bool = True) -> Rechecker:
    """A Rechecker as `grader check --watch` makes one."""
    def grade(parts: tuple[str, ...] | None, progress: object) -> GradeResult:
        return run_session(spec, folder, public_only=True, parts=parts, require_files=True, progress=progress)

    watched = [spec.spec_file.parent]  # type: ignore[attr-defined]
    return Rechecker(folder, grade, fingerprint=lambda: fingerprint(watched), isolate=isolate)


def fresh_submission(root: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "submission"
    shutil.copytree(root / "submission", folder)
    return folder


def edit(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text)


def summary(result: GradeResult) -> tuple[float, float, dict[str, tuple[float, float]], dict[str, str]]:
    """What a check says: the total, each part's points of its maximum, each test's outcome."""
    parts = {p.name: (p.points, p.max_points) for p in result.parts}
    return result.score, result.max_score, parts, {t.nodeid: t.outcome for t in result.tests}


# --- static reading ---------------------------------------------------------------------
def test_imports_are_read_without_running_anything(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("from . import inner\n")
    (tmp_path / "pkg" / "inner.py").write_text("from ..top import f\nfrom .other import g\n")
    (tmp_path / "pkg" / "other.py").write_text("raise SystemExit('never run')\n")
    (tmp_path / "top.py").write_text("import pkg.inner as p\n")
    (tmp_path / "lone.py").write_text("x = 1\n")
    graph = analyse(tmp_path)
    assert graph.imports["top.py"] >= {"pkg/__init__.py", "pkg/inner.py"}
    assert "pkg/other.py" in graph.imports["pkg/inner.py"]
    assert closure(graph, [("module", "top")]) == {"top.py", "pkg/__init__.py", "pkg/inner.py", "pkg/other.py"}
    assert closure(graph, [("module", "lone")]) == {"lone.py"}
    assert module_files("pkg", graph.files) == {"pkg/__init__.py", "pkg/inner.py", "pkg/other.py"}


@pytest.mark.parametrize(
    "source",
    [
        "import importlib\nm = importlib.import_module('alpha')\n",
        "m = __import__('alpha')\n",
        "exec(open('alpha.py').read())\n",
        "import sys\nsys.path.insert(0, 'lib')\n",
        "import sys as s\nx = s.modules['alpha']\n",
        "from pathlib import Path\ncode = Path('alpha.py').read_text()\n",
        "import runpy\nrunpy.run_path('alpha.py')\n",
        "import torch\nm = torch.load('m.pt', weights_only=False)\n",
        "import pickle\n",
        "x = eval('1 + 1')\n",
        "src = compile('1', 'f', 'eval')\n",
    ],
)
def test_dynamic_loading_makes_a_file_unsafe(source: str) -> None:
    _, why = scan_source(source, "m.py")
    assert why is not None, source


def test_ordinary_code_is_safe_and_docstrings_may_name_files() -> None:
    source = '"""Train the net of model.py."""\nimport numpy as np\nimport re\n\n\ndef f(x):\n    return re.compile("a").match(x), np.load("x.npy"), x.eval()\n'
    names, why = scan_source(source, "m.py")
    assert why is None and {"numpy", "re"} <= names


def test_a_file_that_does_not_parse_loads_nothing() -> None:
    assert scan_source("def broken(:\n", "m.py") == (set(), None)


def test_added_removed_and_non_module_changes_check_everything(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "notes.txt").write_text("hi\n")
    before = analyse(tmp_path)
    (tmp_path / "a.py").write_text("x = 2\n")
    assert changed_files(before, analyse(tmp_path)) == ({"a.py"}, None)
    (tmp_path / "notes.txt").write_text("hello\n")
    assert changed_files(before, analyse(tmp_path))[1] == "notes.txt is not a Python module"
    (tmp_path / "b.py").write_text("\n")
    assert changed_files(before, analyse(tmp_path))[1] == "b.py was added"


def test_a_submission_file_named_like_a_library_depends_on_everything(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "json.py").write_text("x = 1\n")
    graph = analyse(tmp_path)
    assert graph.shadowing == ("json",)
    assert closure(graph, [("module", "a")]) is EVERYTHING


def test_the_recorder_sees_student_loads_and_not_the_references(tmp_path: Path) -> None:
    from grader.sandbox.host import client

    class Box:
        def __init__(self, name: str) -> None:
            self.fixture_name = name

    with LoadRecorder() as rec:
        for observe in client.LOAD_OBSERVERS:
            observe(Box("student"), "import", {"_module": "alpha", "_harness": False})
            observe(Box("student"), "import", {"_module": "harness", "_harness": True})
            observe(Box("reference"), "import", {"_module": "beta", "_harness": False})
            shipped = tmp_path / "helper.py"
            shipped.write_text("import gamma\n")
            observe(Box("student"), "ship", {"_module": "helper", "_path": str(shipped)})
        rec.finished("t1", "alpha", True, 1.0)
    assert rec.loads == [("module", "alpha"), ("ship", "import gamma\n")]
    assert rec.reached("alpha") == rec.loads and rec.reached("other") == rec.loads
    assert rec._observe not in client.LOAD_OBSERVERS


# --- rechecks on the mini project ---------------------------------------------------------
def test_an_edit_reruns_only_the_parts_that_reached_the_file(mini: tuple[object, Path], tmp_path: Path) -> None:
    spec, root = mini
    folder = fresh_submission(root, tmp_path)
    checker = rechecker(spec, folder)
    first = checker.check()
    assert first.reason == "first check" and sorted(first.rerun) == ["alpha", "beta", "gamma"]
    assert summary(first.result)[:2] == (6.0, 6.0)

    edit(folder, "alpha.py", VERSIONS["alpha.py"][1])  # only alpha's tests reach alpha.py
    done = checker.check()
    assert done.rerun == ["alpha"] and done.reused == ["beta", "gamma"]
    assert summary(done.merged) == summary(full_check(spec, folder))
    assert done.merged.score == 4.0 and done.result.part("alpha").points == 0.0
    assert REUSED_NOTE in done.result.part("beta").description
    assert REUSED_NOTE not in done.result.part("alpha").description
    assert done.result.metadata["reused"] == ["beta", "gamma"]

    edit(folder, "common.py", VERSIONS["common.py"][1])  # imported by alpha and beta
    done = checker.check()
    assert sorted(done.rerun) == ["alpha", "beta"] and done.reused == ["gamma"]
    assert summary(done.merged) == summary(full_check(spec, folder))

    done = checker.check()  # nothing changed: nothing runs
    assert done.rerun == [] and sorted(done.reused) == ["alpha", "beta", "gamma"]


def test_without_isolation_a_part_depends_on_everything_loaded_before_it_ended(
    mini: tuple[object, Path], tmp_path: Path
) -> None:
    spec, root = mini
    folder = fresh_submission(root, tmp_path)
    checker = rechecker(spec, folder, isolate=False)  # tests run alpha, beta, gamma in one child
    checker.check()
    edit(folder, "gamma.py", VERSIONS["gamma.py"][1])  # loaded last: only gamma
    done = checker.check()
    assert done.rerun == ["gamma"] and done.reused == ["alpha", "beta"]
    edit(folder, "alpha.py", VERSIONS["alpha.py"][1])  # alpha's code ran before beta's and gamma's tests
    done = checker.check()
    assert done.reused == [] and done.reason == "every part depends on the changed files"
    assert summary(done.merged) == summary(full_check(spec, folder))


def test_dynamic_imports_and_added_files_rerun_everything(mini: tuple[object, Path], tmp_path: Path) -> None:
    spec, root = mini
    folder = fresh_submission(root, tmp_path)
    edit(folder, "common.py", "import importlib\n\nONE = 1\n")  # alpha and beta load it
    checker = rechecker(spec, folder)
    checker.check()
    edit(folder, "gamma.py", VERSIONS["gamma.py"][1])
    done = checker.check()
    assert done.reused == [] and done.reason == "every part depends on the changed files"
    assert summary(done.merged) == summary(full_check(spec, folder))
    (folder / "extra.py").write_text("x = 1\n")
    done = checker.check()
    assert done.reused == [] and done.reason == "extra.py was added"
    (folder / "extra.py").unlink()
    done = checker.check()
    assert done.reused == [] and done.reason == "extra.py was removed"
    assert summary(done.merged) == summary(full_check(spec, folder))


def test_only_the_parts_that_reach_a_dynamic_import_depend_on_everything(
    mini: tuple[object, Path], tmp_path: Path
) -> None:
    spec, root = mini
    folder = fresh_submission(root, tmp_path)
    edit(folder, "common.py", "import importlib\n\nONE = 1\n")
    checker = rechecker(spec, folder)
    checker.check()
    edit(folder, "alpha.py", VERSIONS["alpha.py"][1])
    done = checker.check()
    assert done.rerun == ["alpha", "beta"] and done.reused == ["gamma"]
    assert summary(done.merged) == summary(full_check(spec, folder))


def test_a_rerun_part_takes_the_parts_tested_before_it_in_its_file() -> None:
    order = [("a.py::t1", "p"), ("a.py::t2", "q"), ("b.py::t3", "r"), ("c.py::t4", "s"), ("c.py::t5", "q")]
    assert _with_earlier_parts({"q"}, order) == {"p", "q", "s"}
    assert _with_earlier_parts({"p"}, order) == {"p"}
    assert _with_earlier_parts({"r"}, order) == {"r"}


def test_tests_that_share_a_handle_are_checked_without_isolation(tmp_path: Path) -> None:
    folder = make_project(tmp_path)
    for name, text in SHARED.items():
        (tmp_path / "assignments" / "mini" / "tests" / "public" / name).write_text(text)
    spec = Project(tmp_path).load("mini")
    checker = rechecker(spec, folder)
    first = checker.check()
    assert not checker.isolate and "share objects" in first.reason
    assert summary(first.merged) == summary(full_check(spec, folder))
    assert first.merged.score == first.merged.max_score


def test_changed_tests_rerun_everything(tmp_path: Path) -> None:
    folder = make_project(tmp_path)
    spec = Project(tmp_path).load("mini")
    checker = rechecker(spec, folder)
    checker.check()
    test_file = tmp_path / "assignments" / "mini" / "tests" / "public" / "test_alpha.py"
    test_file.write_text(test_file.read_text() + "\n# edited\n")
    edit(folder, "alpha.py", VERSIONS["alpha.py"][1])
    done = checker.check()
    assert done.reused == [] and done.reason == "the assignment's tests changed"


@settings(max_examples=4, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)
@given(edits=st.lists(st.tuples(st.sampled_from(sorted(VERSIONS)), st.integers(0, 1)), min_size=1, max_size=3))
def test_the_merged_result_equals_a_full_check_after_every_edit(
    mini: tuple[object, Path], tmp_path_factory: pytest.TempPathFactory, edits: list[tuple[str, int]]
) -> None:
    spec, root = mini
    folder = fresh_submission(root, tmp_path_factory.mktemp("edits"))
    checker = rechecker(spec, folder)
    checker.check()
    for name, version in edits:
        edit(folder, name, VERSIONS[name][version])
        done = checker.check()
        assert summary(done.merged) == summary(full_check(spec, folder)), (name, version)
        assert sorted(done.rerun + done.reused) == ["alpha", "beta", "gamma"]


def test_merging_keeps_every_part_and_the_total(mini: tuple[object, Path], tmp_path: Path) -> None:
    spec, root = mini
    folder = fresh_submission(root, tmp_path)
    edit(folder, "beta.py", VERSIONS["beta.py"][1])
    checker = rechecker(spec, folder)
    checker.check()
    edit(folder, "alpha.py", textwrap.dedent(VERSIONS["alpha.py"][0]) + "\n# a comment\n")
    done = checker.check()
    assert done.rerun == ["alpha"]
    assert [p.name for p in done.merged.parts] == ["alpha", "beta", "gamma"]
    assert done.merged.score == sum(p.points for p in done.merged.parts) == 4.0
    assert len(done.merged.tests) == 4


def test_another_selection_of_tests_reruns_everything(mini: tuple[object, Path], tmp_path: Path) -> None:
    spec, root = mini
    folder = fresh_submission(root, tmp_path)
    checker = rechecker(spec, folder)
    checker.check()
    checker.selection = ("-k", "alpha")
    done = checker.check()
    assert done.reused == [] and done.reason == "another selection of tests"
