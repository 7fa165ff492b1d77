"""Solution stripping and template builds: worked cases, errors, and properties of random programs."""

from __future__ import annotations

import ast
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.template import (
    MarkerError,
    build_assignment,
    find_reference_in_public_tests,
    strip_solution,
)

FAIR = settings(derandomize=True, database=None, deadline=None, max_examples=80)


def strip(src: str) -> str:
    return strip_solution(textwrap.dedent(src).lstrip("\n"), "ref.py")


def test_whole_body_becomes_not_implemented_and_keeps_docstring():
    out = strip(
        '''
        def f(x):
            """Double x."""
            # BEGIN SOLUTION
            return 2 * x
            # END SOLUTION
        '''
    )
    assert out == (
        'def f(x):\n    """Double x."""\n    # TODO: implement f\n    raise NotImplementedError("f: TODO")\n'
    )


def test_methods_get_qualified_names_and_partial_bodies_keep_their_code():
    out = strip(
        """
        class Net:
            def __init__(self):
                super().__init__()
                # BEGIN SOLUTION
                self.layer = 1
                # END SOLUTION

            def forward(self, x):
                # BEGIN SOLUTION
                return x
                # END SOLUTION
        """
    )
    assert "        super().__init__()\n        # TODO\n" in out
    assert 'raise NotImplementedError("Net.forward: TODO")' in out
    assert "self.layer" not in out


def test_prompt_replaces_the_todo_line():
    out = strip(
        """
        def train(model):
            model.train()
            # BEGIN SOLUTION
            model.step()
            # END SOLUTION
            # BEGIN PROMPT
            # Call model.step() here.
            # END PROMPT
            return model
        """
    )
    assert out == "def train(model):\n    model.train()\n    # Call model.step() here.\n    return model\n"


def test_prompt_in_an_otherwise_empty_function_comes_before_the_raise():
    out = strip(
        """
        def f():
            # BEGIN SOLUTION
            return 1
            # END SOLUTION
            # BEGIN PROMPT
            # Return one.
            # END PROMPT
        """
    )
    assert out == 'def f():\n    # Return one.\n    raise NotImplementedError("f: TODO")\n'


def test_inline_solution_assignments_keep_their_left_hand_side():
    out = strip(
        """
        PATIENCE = 5  # SOLUTION
        class A:
            def __init__(self):
                self.total: int = 0  # SOLUTION
        """
    )
    assert "PATIENCE = None  # TODO\n" in out and "        self.total: int = None  # TODO\n" in out


def test_emptied_if_body_gets_pass():
    out = strip(
        """
        def f(x):
            if x:
                # BEGIN SOLUTION
                return 1
                # END SOLUTION
            return 0
        """
    )
    assert "        pass  # TODO\n    return 0\n" in out


def test_markers_inside_strings_are_text():
    src = '''
    def f():
        """Docs mention
        # BEGIN SOLUTION
        inside a string."""
        s = "# END SOLUTION"
        return s
    '''
    assert strip(src) == textwrap.dedent(src).lstrip("\n")


@pytest.mark.parametrize(
    ("src", "line", "message"),
    [
        ("def f():\n    # BEGIN SOLUTION\n    return 1\n", 2, "never closed"),
        ("def f():\n    return 1\n    # END SOLUTION\n", 3, "without a matching BEGIN"),
        ("def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n", 3, "inside the SOLUTION block opened on line 2"),
        ("def f():\n    # BEGIN SOLUTION\n    # BEGIN PROMPT\n", 3, "inside the SOLUTION block"),
        ("x = 1\n# BEGIN PROMPT\n# hi\n# END PROMPT\n", 2, "must follow an # END SOLUTION"),
        ("def f():\n    return 1  # SOLUTION\n", 2, "one-line assignment"),
        ("def f():\n    pass\n# BEGIN SOLUTION\n# END SOLUTION\n# BEGIN PROMPT\nx = 1\n# END PROMPT\n", 6, "only comment lines"),
    ],
)
def test_malformed_markers_name_file_and_line(src, line, message):
    with pytest.raises(MarkerError, match=message) as info:
        strip_solution(src, "ref.py")
    assert info.value.line == line and str(info.value).startswith(f"ref.py:{line}: ")


# --- properties over random programs --------------------------------------------------------

names = st.sampled_from(["alpha", "beta", "gamma", "delta", "eps"])


@st.composite
def programs(draw):
    """(reference source, provided lines, names of functions whose whole body is solution)."""
    unit = draw(st.sampled_from(["  ", "    "]))
    lines: list[str] = []
    provided: list[str] = []
    whole: list[str] = []
    counter = iter(range(10_000))

    def stmt(depth: int) -> str:
        text = f"v{next(counter)} = {draw(st.integers(0, 9))}"
        provided.append(text)
        return unit * depth + text

    def solution(depth: int) -> None:
        pad = unit * depth
        lines.append(pad + "# BEGIN SOLUTION")
        lines.append(pad + f"hidden_{next(counter)} = 'solution'")
        lines.append(pad + "# END SOLUTION")

    def function(depth: int, prefix: str) -> None:
        name = f"{draw(names)}_{next(counter)}"
        lines.append(unit * depth + f"def {name}(self=None):")
        lines.append(unit * (depth + 1) + f'"""Doc of {name}: # BEGIN SOLUTION is text here."""')
        kind = draw(st.sampled_from(["whole", "partial", "provided", "nested_if"]))
        if kind == "whole":
            solution(depth + 1)
            whole.append(prefix + name)
        elif kind == "partial":
            lines.append(stmt(depth + 1))
            solution(depth + 1)
            lines.append(stmt(depth + 1))
        elif kind == "nested_if":
            lines.append(stmt(depth + 1))
            lines.append(unit * (depth + 1) + "if v0 == 0:")
            solution(depth + 2)
        else:
            lines.append(stmt(depth + 1))

    for _ in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):
            cls = f"C{next(counter)}"
            lines.append(f"class {cls}:")
            lines.append(stmt(1))
            for _ in range(draw(st.integers(1, 3))):
                function(1, cls + ".")
        else:
            lines.append(stmt(0))
            function(0, "")
    return "\n".join(lines) + "\n", provided, whole


@FAIR
@given(programs())
def test_random_programs_strip_to_valid_honest_templates(program):
    src, provided, whole = program
    out = strip_solution(src, "random.py")
    ast.parse(out)
    assert "hidden_" not in out and "'solution'" not in out
    marker_lines = [ln for ln in out.splitlines() if ln.strip().startswith("# BEGIN") or ln.strip().startswith("# END")]
    assert marker_lines == []
    # Provided lines survive, in order.
    positions = [out.index(p) for p in provided]
    assert positions == sorted(positions)
    # Docstrings (with marker text inside) survive.
    assert out.count("is text here.") == src.count("is text here.")
    # Functions whose body was all solution raise NotImplementedError when called.
    namespace: dict = {"v0": 0}
    exec(compile(out, "random.py", "exec"), namespace)
    for qualname in whole:
        obj = namespace
        parts = qualname.split(".")
        target = namespace[parts[0]]
        for p in parts[1:]:
            target = getattr(target, p)
        with pytest.raises(NotImplementedError, match=qualname):
            target()
        del obj
    # Stripping is idempotent.
    assert strip_solution(out, "random.py") == out


def test_build_writes_and_check_detects_drift(tmp_path):
    ref, tpl = tmp_path / "ref", tmp_path / "tpl"
    (ref / "pkg").mkdir(parents=True)
    (ref / "a.py").write_text("def f():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n")
    (ref / "pkg" / "__init__.py").write_text("")
    (ref / "data.csv").write_text("x,y\n1,2\n")
    (ref / "__pycache__").mkdir()
    (ref / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"junk")
    report = build_assignment(ref, tpl)
    assert sorted(report.written) == ["a.py", "data.csv", "pkg/__init__.py"]
    assert "NotImplementedError" in (tpl / "a.py").read_text()
    assert (tpl / "data.csv").read_text() == "x,y\n1,2\n"
    assert not (tpl / "__pycache__").exists()
    assert build_assignment(ref, tpl, check=True).ok
    (tpl / "a.py").write_text("edited by hand\n")
    (tpl / "extra.py").write_text("")
    (tpl / "data.csv").unlink()
    drift = build_assignment(ref, tpl, check=True)
    assert not drift.ok and sorted(drift.changed) == ["a.py", "data.csv"] and drift.removed == ["extra.py"]
    assert (tpl / "a.py").read_text() == "edited by hand\n"  # check mode writes nothing
    build_assignment(ref, tpl)
    assert build_assignment(ref, tpl, check=True).ok and not (tpl / "extra.py").exists()


def test_public_tests_asking_for_the_reference_are_found(tmp_path):
    (tmp_path / "test_a.py").write_text(
        "def test_ok(student):\n    pass\n\n"
        "def test_bad(student, reference):\n    pass\n\n"
        "def test_sneaky(request):\n    request.getfixturevalue('reference')\n"
    )
    found = find_reference_in_public_tests(tmp_path)
    assert len(found) == 2
    assert "test_a.py:4: `test_bad`" in found[0] and "getfixturevalue" in found[1]
