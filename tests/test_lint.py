"""`grader lint`: static checks of assignment.yaml, the reference's files and the tests' landmarks."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from grader.lint import lint_project
from grader.spec import Project

REPO = Path(__file__).resolve().parent.parent
TOY_ROOT = Path(__file__).parent / "fixtures" / "project"


def grader(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "grader", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    """A copy of the toy project; returns its root."""
    root = tmp_path / "project"
    shutil.copytree(TOY_ROOT, root)
    return root


def _assignment(root: Path) -> Path:
    return root / "assignments" / "toy"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def _line_of(path: Path, needle: str) -> int:
    for i, line in enumerate(path.read_text().splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in {path}")


def _lint(root: Path, *more: str) -> subprocess.CompletedProcess[str]:
    return grader("--root", str(root), "lint", *more)


# ----------------------------------------------------------------------------------------------
# The real assignments lint clean, quickly, through the real command
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "name"),
    [(["lint", "landmarks"], "landmarks"), (["--root", str(TOY_ROOT), "lint", "toy"], "toy")],
)
def test_real_assignments_lint_clean_in_under_two_seconds(args, name):
    started = time.monotonic()
    proc = grader(*args, cwd=REPO)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.fullmatch(rf"lint: {name} ok \(\d+ tests, \d+ parts\)\n", proc.stdout), proc.stdout
    assert elapsed < 2.0, f"lint took {elapsed:.2f} s"


def test_lint_all_and_help():
    proc = grader("lint", "--all", cwd=REPO)
    assert proc.returncode == 0 and "lint: landmarks ok" in proc.stdout
    helped = grader("lint", "--help")
    assert helped.returncode == 0 and "usage: grader lint" in helped.stdout


def test_lint_imports_neither_torch_nor_the_tests():
    code = (
        "import sys; from pathlib import Path; from grader.lint import lint_project; "
        "from grader.spec import Project; "
        f"r = lint_project(project=Project(Path({str(REPO)!r})), name='landmarks'); "
        "assert r.ok, r.problems; "
        "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('test_')))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_unknown_assignment_is_a_usage_error():
    proc = grader("--root", str(TOY_ROOT), "lint", "nosuch")
    assert proc.returncode == 2 and "no assignment named 'nosuch'" in proc.stderr


# ----------------------------------------------------------------------------------------------
# Each defect: its file:line: line and exit 1
# ----------------------------------------------------------------------------------------------


def _no_points(a: Path) -> tuple[Path, str, str]:
    path = a / "tests" / "public" / "test_public.py"
    _edit(
        path, '@points(1, part="basics")\ndef test_add_small_numbers', "def test_add_small_numbers"
    )
    return (
        path,
        "def test_add_small_numbers",
        "test `test_add_small_numbers` has no @points(n, part=...) marker",
    )


def _unknown_part(a: Path) -> tuple[Path, str, str]:
    path = a / "tests" / "hidden" / "test_hidden.py"
    _edit(path, '@points(1, part="objects")', '@points(1, part="object")')
    return path, 'part="object"', "names part 'object', which assignment.yaml does not define"


def _public_reference(a: Path) -> tuple[Path, str, str]:
    path = a / "tests" / "public" / "test_peek.py"
    path.write_text(textwrap.dedent('''\
        from grader.testing import points


        @points(1, part="basics")
        def test_peek(student, reference):
            pass
    '''))  # fmt: skip
    return path, "def test_peek", "public test `test_peek` asks for the `reference` fixture"


def _public_reference_through_fixture(a: Path) -> tuple[Path, str, str]:
    path = a / "tests" / "public" / "test_peek.py"
    path.write_text(textwrap.dedent('''\
        import pytest

        from grader.testing import points


        @pytest.fixture
        def answer(reference):
            return reference.toy.add(1, 2)


        @pytest.fixture
        def pair(student, answer):
            return student, answer


        @points(1, part="basics")
        def test_peek(pair):
            pass
    '''))  # fmt: skip
    return path, "def test_peek", "asks for the `reference` fixture (through `answer` → `pair`)"


def _missing_file(a: Path) -> tuple[Path, str, str]:
    path = a / "assignment.yaml"
    _edit(path, "files: [toy.py]", "files:\n  - toy.py\n  - helpers.py")
    return path, "- helpers.py", "files[1]: helpers.py is not a file in"


def _bad_yaml_key(a: Path) -> tuple[Path, str, str]:
    path = a / "assignment.yaml"
    _edit(path, "hypothesis:", "hypotheses:")
    return path, "hypotheses:", "hypotheses: unknown key 'hypotheses' (did you mean 'hypothesis'?)"


def _part_without_tests(a: Path) -> tuple[Path, str, str]:
    path = a / "assignment.yaml"
    _edit(path, "tests:\n", "  - name: extra\n    points: 1\ntests:\n")
    return path, "- name: extra", "part 'extra' has no test, so it can never earn its 1 points"


def _import_not_installed(a: Path) -> tuple[Path, str, str]:
    path = a / "assignment.yaml"
    _edit(path, "tests:\n", "imports:\n  - numpy\n  - no_such_module_zq\ntests:\n")
    return path, "- no_such_module_zq", "imports: no module named 'no_such_module_zq' is installed"


DEFECTS: dict[str, Callable[[Path], tuple[Path, str, str]]] = {
    "test without @points": _no_points,
    "unknown part": _unknown_part,
    "public test uses reference": _public_reference,
    "public test reaches reference through fixtures": _public_reference_through_fixture,
    "files entry missing from the reference": _missing_file,
    "bad yaml key": _bad_yaml_key,
    "part without tests": _part_without_tests,
    "declared import not installed": _import_not_installed,
}


@pytest.mark.parametrize("defect", DEFECTS)
def test_each_defect_gives_its_file_line_and_exit_1(toy, defect):
    path, needle, message = DEFECTS[defect](_assignment(toy))
    proc = _lint(toy, "toy")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    where = f"{path}:{_line_of(path, needle)}: "
    lines = proc.stdout.splitlines()
    assert any(ln.startswith(where) and message in ln for ln in lines), (
        where,
        message,
        proc.stdout,
    )
    assert re.fullmatch(r"lint: toy: \d+ problems?", lines[-1])


def test_lint_all_reports_each_assignment(toy):
    a = _assignment(toy)
    shutil.copytree(a, toy / "assignments" / "toy2")
    shutil.copytree(toy / "reference" / "toy", toy / "reference" / "toy2")
    _edit(toy / "assignments" / "toy2" / "assignment.yaml", "name: toy", "name: toy2")
    _no_points(toy / "assignments" / "toy2")
    proc = _lint(toy, "--all")
    assert proc.returncode == 1
    assert "lint: toy ok" in proc.stdout and "lint: toy2: 2 problems" in proc.stdout
    assert "toy2/tests/public/test_public.py:" in proc.stdout


# ----------------------------------------------------------------------------------------------
# build and verify lint first
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "defect", ["test without @points", "bad yaml key", "files entry missing from the reference"]
)
@pytest.mark.parametrize("command", ["build", "verify"])
def test_build_and_verify_refuse_a_broken_assignment(toy, command, defect):
    path, needle, message = DEFECTS[defect](_assignment(toy))
    shutil.rmtree(toy / "student_template")
    proc = grader("--root", str(toy), command, "toy")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert (
        f"grader: error: {path}:{_line_of(path, needle)}: " in proc.stderr
        and message in proc.stderr
    )
    assert "Traceback" not in proc.stderr
    assert not (toy / "student_template").exists()  # stopped before any work


# ----------------------------------------------------------------------------------------------
# What the static reading understands
# ----------------------------------------------------------------------------------------------


def _lint_public(root: Path, source: str, conftest: str | None = None) -> list[str]:
    public = _assignment(root) / "tests" / "public"
    (public / "test_extra.py").write_text(textwrap.dedent(source))
    if conftest is not None:
        (public / "conftest.py").write_text(textwrap.dedent(conftest))
    report = lint_project(project=Project(root), name="toy")
    return [p.message for p in report.problems]


def test_marks_on_the_class_the_module_and_by_alias_count(toy):
    problems = _lint_public(toy, '''\
        import pytest
        from hypothesis import given, strategies as st

        from grader.testing import points as pts

        PART = "basics"
        pytestmark = [pytest.mark.slow, pts(1, part="objects")]


        def test_module_mark(student):
            pass


        @pts(1, part=PART, per="case")
        @given(n=st.integers())
        @pytest.mark.parametrize("a, b", [(1, 2)])
        def test_alias_constant_and_non_fixture_arguments(student, n, a, b, flag=True):
            pass


        @pytest.mark.grader_points(1, part="arrays")
        class TestGroup:
            def test_method(self, student):
                pass

            def helper(self):
                pass
    ''')  # fmt: skip
    assert problems == []


def test_marks_that_cannot_be_checked_are_problems(toy):
    problems = _lint_public(toy, '''\
        from grader.testing import points

        PARTS = ["basics"]


        @points(1, part=PARTS[0])
        def test_computed_part(student):
            pass


        @points(1, "basics")
        def test_positional_part(student):
            pass


        @points(1, part="basics")
        @points(2, part="arrays")
        def test_two_marks(student):
            pass


        class Helpers:
            @points(1, part="basics")
            def test_in_a_class_pytest_skips(self):
                pass
    ''')  # fmt: skip
    text = "\n".join(problems)
    assert "part= must be a string literal" in text
    assert "takes the part by keyword" in text
    assert "test `test_two_marks` has 2 @points markers" in text
    assert "class `Helpers` has @points but pytest does not collect it" in text


def test_public_fixture_requests_every_way(toy):
    problems = _lint_public(
        toy,
        """\
        import pytest

        from grader.testing import points


        @points(1, part="basics")
        @pytest.mark.usefixtures("reference")
        def test_usefixtures(student):
            pass


        @points(1, part="basics")
        def test_getfixturevalue(request):
            request.getfixturevalue("reference")


        @points(1, part="basics")
        def test_through_conftest(expected):
            pass
        """,
        conftest="""\
        import pytest


        @pytest.fixture(name="expected")
        def _expected(reference):
            return reference
        """,
    )
    assert [p for p in problems if "reference" in p] == [
        "public test `test_usefixtures` asks for the `reference` fixture, which only hidden tests may use",
        "public test `test_getfixturevalue` asks for the `reference` fixture, which only hidden tests may use",
        "public test `test_through_conftest` asks for the `reference` fixture (through `expected`), which only hidden tests may use",
    ]


def test_an_autouse_conftest_fixture_taints_every_public_test(toy):
    problems = _lint_public(
        toy,
        "",
        conftest="""\
        import pytest


        @pytest.fixture(autouse=True)
        def warm(reference):
            yield
        """,
    )
    tainted = [p for p in problems if "`reference` fixture (through `warm`)" in p]
    assert len(tainted) == 4  # every test of test_public.py


def test_hidden_tests_may_use_the_reference(toy):
    hidden = _assignment(toy) / "tests" / "hidden" / "test_more.py"
    hidden.write_text(
        "from grader.testing import points\n\n\n@points(1, part='basics')\ndef test_x(student, reference):\n    pass\n"
    )
    assert lint_project(project=Project(toy), name="toy").ok


def test_a_test_file_that_does_not_parse(toy):
    problems = _lint_public(toy, "def test_x(:\n    pass\n")
    assert any("does not parse, so it cannot be checked" in p for p in problems)


# ----------------------------------------------------------------------------------------------
# Imports: helpers through the assignment's package; nothing public reaches the hidden tests
# ----------------------------------------------------------------------------------------------


def test_a_helper_imported_by_a_bare_name_is_reported(toy: Path) -> None:
    hidden = _assignment(toy) / "tests" / "hidden"
    (hidden / "standins.py").write_text("VALUE = 1\n")
    test = hidden / "test_hidden.py"
    _edit(test, "from grader", "import standins\nfrom grader")
    out = _lint(toy, "toy")
    assert out.returncode == 1
    line = _line_of(test, "import standins")
    assert f"test_hidden.py:{line}: imports the helper `standins` by a bare name" in out.stdout
    _edit(test, "import standins\n", "from . import standins\n")
    assert _lint(toy, "toy").returncode == 0


def test_a_public_file_importing_from_the_hidden_tests_is_reported(toy: Path) -> None:
    folder = _assignment(toy)
    (folder / "tests" / "hidden" / "secrets_helper.py").write_text("ANSWER = 42\n")
    public = folder / "tests" / "public" / "test_public.py"
    _edit(public, "from grader", "from ..hidden import secrets_helper\nfrom grader")
    (folder / "helpers.py").write_text("from assignments.toy.tests.hidden.secrets_helper import ANSWER\n")
    out = _lint(toy, "toy")
    assert out.returncode == 1
    assert "imports `assignments.toy.tests.hidden.secrets_helper` from the hidden tests" in out.stdout
    assert f"test_public.py:{_line_of(public, 'secrets_helper')}:" in out.stdout
    assert "helpers.py:1:" in out.stdout
    # The hidden tests themselves may import it.
    hidden_test = folder / "tests" / "hidden" / "test_hidden.py"
    _edit(hidden_test, "from grader", "from . import secrets_helper\nfrom grader")
    again = _lint(toy, "toy").stdout
    assert "test_public.py" in again and "test_hidden.py" not in again


# ----------------------------------------------------------------------------------------------
# Libraries the reference imports at module level are declared, so the zygote preloads them
# ----------------------------------------------------------------------------------------------


def test_a_library_the_reference_imports_but_imports_does_not_name_is_reported(toy: Path) -> None:
    ref = toy / "reference" / "toy" / "toy.py"
    _edit(
        ref,
        "import torch\n",
        "import torch\nimport torch.nn.functional as F\nimport json\nfrom yaml import safe_load\n"
        "if TYPE_CHECKING:\n    import sklearn\n\n\ndef later():\n    import scipy\n",
    )
    out = _lint(toy, "toy")
    assert out.returncode == 1, out.stdout
    line = _line_of(ref, "from yaml import")
    assert f"toy.py:{line}: imports `yaml` at module level" in out.stdout
    assert "`yaml.safe_load`" in out.stdout  # the submodule to declare, when it is one
    # Below a declared package, the standard library, TYPE_CHECKING and function bodies: fine.
    assert out.stdout.count("at module level") == 1, out.stdout
    spec = _assignment(toy) / "assignment.yaml"
    _edit(spec, "files: [toy.py]", "files: [toy.py]\nimports: [numpy, torch, yaml]")
    assert _lint(toy, "toy").returncode == 0
