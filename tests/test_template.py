"""Template generation: golden files, worked cases, marker errors, random programs, builds."""

from __future__ import annotations

import ast
import io
import re
import textwrap
import time
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.template import (
    BuildReport,
    MarkerError,
    build_assignment,
    check_template_imports,
    find_reference_in_public_tests,
    strip_solution,
)

GOLDEN = Path(__file__).parent / "fixtures" / "template_golden"
REPO = Path(__file__).resolve().parent.parent
PROPERTY = settings(derandomize=True, database=None, deadline=None, max_examples=150)
BLOCK_MARKER = re.compile(r"#\s*(BEGIN|END)\s+(SOLUTION|PROMPT)\b")
INLINE_MARKER = re.compile(r"#\s*SOLUTION\s*$")


def strip(src: str) -> str:
    return strip_solution(textwrap.dedent(src).lstrip("\n"), "ref.py")


def marker_comments(source: str) -> list[str]:
    """Comments (not string contents) that count as markers: alone on a line, or `# SOLUTION`."""
    found = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type != tokenize.COMMENT:
            continue
        alone = not tok.line[: tok.start[1]].strip()
        if (alone and BLOCK_MARKER.match(tok.string)) or INLINE_MARKER.search(tok.string):
            found.append(tok.string)
    return found


# --- golden files ---------------------------------------------------------------------------

PAIRS = sorted(p.name.removesuffix(".ref.py") for p in GOLDEN.glob("*.ref.py"))


def test_golden_pairs_cover_the_cases():
    assert len(PAIRS) >= 5
    assert {"whole_function", "method_in_class", "partial_body", "prompt", "inline_assignment",
            "markers_in_strings", "no_markers"} <= set(PAIRS)
    for name in PAIRS:
        assert (GOLDEN / f"{name}.expected.py").is_file(), name


@pytest.mark.parametrize("name", PAIRS)
def test_golden(name):
    ref = (GOLDEN / f"{name}.ref.py").read_text(encoding="utf-8")
    expected = (GOLDEN / f"{name}.expected.py").read_text(encoding="utf-8")
    out = strip_solution(ref, f"{name}.ref.py")
    assert out == expected
    ast.parse(out)
    assert marker_comments(out) == []
    assert strip_solution(out, name) == out


def test_no_markers_is_returned_unchanged():
    src = (GOLDEN / "no_markers.ref.py").read_text(encoding="utf-8")
    assert strip_solution(src) == src
    assert strip_solution("x = (\n") == "x = (\n"  # not even parsed when nothing is marked


# --- worked cases ---------------------------------------------------------------------------


def test_whole_body_keeps_docstring_then_todo_and_raise():
    out = strip(
        '''
        def f(x):
            """Double x."""
            # BEGIN SOLUTION
            return 2 * x
            # END SOLUTION
        '''
    )
    assert out == 'def f(x):\n    """Double x."""\n    # TODO: implement f\n    raise NotImplementedError("f: TODO")\n'


def test_partial_body_prompt_replaces_the_todo_line():
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


def test_nested_function_and_emptied_class_and_module():
    out = strip(
        """
        def outer():
            def inner():
                # BEGIN SOLUTION
                return 1
                # END SOLUTION
            return inner

        class Empty:
            # BEGIN SOLUTION
            x = 1
            # END SOLUTION
        """
    )
    assert 'raise NotImplementedError("outer.inner: TODO")' in out
    assert "class Empty:\n    pass  # TODO\n" in out
    assert strip("# BEGIN SOLUTION\nx = 1\n# END SOLUTION\n") == "# TODO\n"


def test_second_block_of_an_emptied_function_adds_no_second_raise():
    out = strip(
        """
        def f():
            # BEGIN SOLUTION
            a = 1
            # END SOLUTION
            # BEGIN SOLUTION
            return a
            # END SOLUTION
        """
    )
    assert out == 'def f():\n    # TODO: implement f\n    raise NotImplementedError("f: TODO")\n'


def test_blocks_in_else_except_and_match_bodies():
    out = strip(
        """
        def f(x):
            try:
                y = x
            except ValueError:
                # BEGIN SOLUTION
                raise
                # END SOLUTION
            match y:
                case 1:
                    # BEGIN SOLUTION
                    return 1
                    # END SOLUTION
            return 0
        """
    )
    assert out.count("pass  # TODO") == 2
    ast.parse(out)


def test_todo_takes_the_indentation_of_the_code_not_of_the_marker():
    out = strip(
        """
        def f():
        # BEGIN SOLUTION
            return 1
        # END SOLUTION
        """
    )
    assert out == 'def f():\n    # TODO: implement f\n    raise NotImplementedError("f: TODO")\n'


def test_crlf_and_tabs_survive():
    src = 'def f():\r\n\t"""Doc."""\r\n\t# BEGIN SOLUTION\r\n\treturn 1\r\n\t# END SOLUTION\r\nX = 1  # SOLUTION\r\n'
    out = strip_solution(src)
    assert out == 'def f():\r\n\t"""Doc."""\r\n\t# TODO: implement f\r\n\traise NotImplementedError("f: TODO")\r\nX = None  # TODO\r\n'


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("patience = 5  # SOLUTION", "patience = None  # TODO"),
        ("    self.best: float = 0.5  # SOLUTION", "    self.best: float = None  # TODO"),
        ("a = b = 3  # SOLUTION", "a = None  # TODO"),
        ("d['k'] = {'=': 1}  # SOLUTION", "d['k'] = None  # TODO"),
        ("σ = 2.0  #SOLUTION", "σ = None  # TODO"),
        ("(x) = 1  # SOLUTION", "(x) = None  # TODO"),
    ],
)
def test_inline_solution_keeps_the_left_hand_side(line, expected):
    prefix = "class C:\n" if line.startswith(" ") else ""
    assert strip_solution(prefix + line + "\n") == prefix + expected + "\n"


def test_error_str_is_file_line_message():
    err = MarkerError("a.py", 3, "boom")
    assert str(err) == "a.py:3: boom" and (err.filename, err.line, err.message) == ("a.py", 3, "boom")
    assert isinstance(err, ValueError)


@pytest.mark.parametrize(
    ("src", "line", "message"),
    [
        ("def f():\n    # BEGIN SOLUTION\n    return 1\n", 2, "never closed"),
        ("def f():\n    return 1\n    # END SOLUTION\n", 3, "without a matching BEGIN"),
        ("x = 1\n# END PROMPT\n", 2, "without a matching BEGIN"),
        ("def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n", 3,
         "BEGIN SOLUTION inside the SOLUTION block opened on line 2"),
        ("def f():\n    # BEGIN SOLUTION\n    # BEGIN PROMPT\n", 3, "inside the SOLUTION block"),
        ("def f():\n    # BEGIN SOLUTION\n    return 1\n    # END PROMPT\n", 4, "inside the SOLUTION block"),
        ("# BEGIN SOLUTION\n# END SOLUTION\n# BEGIN PROMPT\n# BEGIN SOLUTION\n", 4, "inside the PROMPT block"),
        ("# BEGIN SOLUTION\nx = 1\n# END SOLUTION\n# BEGIN PROMPT\n# hint\n", 4, "PROMPT is never closed"),
        ("x = 1\n# BEGIN PROMPT\n# hi\n# END PROMPT\n", 2, "must follow an # END SOLUTION"),
        ("# BEGIN SOLUTION\nx = 1\n# END SOLUTION\ny = 2\n# BEGIN PROMPT\n# END PROMPT\n", 5, "must follow"),
        ("# BEGIN SOLUTION\n# END SOLUTION\n# BEGIN PROMPT\nx = 1\n# END PROMPT\n", 4, "only comment lines"),
        ("def f():\n    return 1  # SOLUTION\n", 2, "one-line assignment"),
        ("x += 1  # SOLUTION\n", 1, "one-line assignment"),
        ("# SOLUTION\n", 1, "one-line assignment"),
        ("a, b = 1, 2  # SOLUTION\n", 1, "unpacking"),
        ("# BEGIN SOLUTION\nx = 1  # SOLUTION\n# END SOLUTION\n", 2, "inside the SOLUTION block"),
        ("x = [\n    # BEGIN SOLUTION\n    1,\n]\n# END SOLUTION\n", 5, "brackets"),
        ("# BEGIN SOLUTION\ndef f():\n# END SOLUTION\n    return 1\n", 4, "does not parse"),
        ('x = """\n# BEGIN SOLUTION\n', 1, "cannot tokenize"),
    ],
)
def test_malformed_markers_name_file_and_line(src, line, message):
    with pytest.raises(MarkerError, match=message) as info:
        strip_solution(src, "ref.py")
    assert info.value.line == line and str(info.value).startswith(f"ref.py:{line}: ")


# --- properties over random programs --------------------------------------------------------


@dataclass
class Program:
    """A random reference program and what its template must keep."""

    lines: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # lines the template keeps, in order
    whole: list[str] = field(default_factory=list)  # callable functions whose body is all solution
    docs: dict[str, str] = field(default_factory=dict)  # their docstrings
    strings: dict[str, str] = field(default_factory=dict)  # module-level string values
    marked: bool = False
    count: int = 0

    def fresh(self) -> int:
        self.count += 1
        return self.count

    def keep(self, line: str, kept: str | None = None) -> None:
        self.lines.append(line)
        self.kept.append(line if kept is None else kept)

    @property
    def source(self) -> str:
        return "".join(line + "\n" for line in self.lines)


MARKER_TEXT = ["# BEGIN SOLUTION", "# END SOLUTION", "# BEGIN PROMPT", "# END PROMPT", "x = 1  # SOLUTION"]


@st.composite
def programs(draw) -> Program:
    """Random nesting of classes, functions and if/for blocks with solution blocks inside."""
    p = Program()

    def unit() -> str:
        return draw(st.sampled_from(["  ", "    "]))

    def string_stmt(pad: str, module_level: bool) -> None:
        n, text = p.fresh(), draw(st.sampled_from(MARKER_TEXT))
        if draw(st.booleans()):
            p.keep(f"{pad}s{n} = {text!r}")
            value = text
        else:  # a multi-line string whose lines look like markers
            inner = draw(st.sampled_from(["", "    ", pad]))
            p.keep(f'{pad}s{n} = """')
            p.keep(f"{inner}{text}")
            p.keep('"""')
            value = f"\n{inner}{text}\n"
        if module_level:
            p.strings[f"s{n}"] = value

    def solution(pad: str) -> None:
        p.marked = True
        p.lines.append(f"{pad}# BEGIN SOLUTION")
        for _ in range(draw(st.integers(1, 3))):
            kind = draw(st.sampled_from(["assign", "string", "if", "comment", "blank"]))
            n = p.fresh()
            if kind == "assign":
                p.lines.append(f"{pad}hidden_{n} = 'solution'")
            elif kind == "string":
                p.lines.append(f"{pad}hidden_{n} = '# END SOLUTION'")
            elif kind == "if":
                p.lines += [f"{pad}if True:", f"{pad}{unit()}hidden_{n} = 1"]
            elif kind == "comment":
                p.lines.append(f"{pad}# hidden note {n}")
            else:
                p.lines.append("")
        p.lines.append(f"{pad}hidden_{p.fresh()} = 0")  # every block holds a statement
        p.lines.append(f"{pad}# END SOLUTION")
        if draw(st.booleans()):
            p.lines += [""] * draw(st.integers(0, 1))
            p.lines.append(f"{pad}# BEGIN PROMPT")
            for _ in range(draw(st.integers(0, 2))):
                p.keep(f"{pad}# hint {p.fresh()}: use # markers freely")
            p.lines.append(f"{pad}# END PROMPT")

    def docstring(pad: str) -> str | None:
        style = draw(st.sampled_from(["none", "one", "multi"]))
        if style == "none":
            return None
        if style == "one":
            p.keep(f'{pad}"""Doc: # BEGIN SOLUTION is text here."""')
            return "Doc: # BEGIN SOLUTION is text here."
        p.keep(f'{pad}"""Doc.')
        p.keep("")
        p.keep(f"{pad}# END SOLUTION")
        p.keep(f'{pad}"""')
        return f"Doc.\n\n{pad}# END SOLUTION\n{pad}"

    def function(pad: str, prefix: str, callable_: bool, depth: int) -> None:
        name = f"f{p.fresh()}"
        p.keep(f"{pad}def {name}(self=None):")
        inner = pad + unit()
        doc = docstring(inner)
        if draw(st.integers(0, 9)) < 4:  # the whole body is solution
            for _ in range(draw(st.integers(1, 2))):
                solution(inner)
            if callable_:
                p.whole.append(prefix + name)
                p.docs[prefix + name] = doc
        else:
            body(inner, f"{prefix}{name}.", False, depth + 1, "function")

    def klass(pad: str, prefix: str, callable_: bool, depth: int) -> None:
        name = f"C{p.fresh()}"
        p.keep(f"{pad}class {name}:")
        inner = pad + unit()
        docstring(inner)
        body(inner, f"{prefix}{name}.", callable_, depth + 1, "class")

    def block(pad: str, prefix: str, callable_: bool, depth: int) -> None:
        header = draw(st.sampled_from(["if True:", "for _ in range(1):", "while False:"]))
        p.keep(pad + header)
        runs = callable_ and header != "while False:"
        body(pad + unit(), prefix, runs, depth + 1, "block")

    def inline(pad: str) -> None:
        n, value = p.fresh(), draw(st.integers(0, 99))
        p.marked = True
        if draw(st.booleans()):
            p.keep(f"{pad}w{n} = {value}  # SOLUTION", f"{pad}w{n} = None  # TODO")
        else:
            p.keep(f"{pad}w{n}: int = {value}  #SOLUTION", f"{pad}w{n}: int = None  # TODO")

    def body(pad: str, prefix: str, callable_: bool, depth: int, where: str) -> None:
        kinds = ["stmt", "string", "solution", "inline"]
        if depth < 3:
            kinds += ["function", "class", "block"]
        for _ in range(draw(st.integers(1, 4))):
            for _ in range(draw(st.integers(0, 1))):
                p.keep(draw(st.sampled_from(["", f"{pad}# a plain comment"])))
            kind = draw(st.sampled_from(kinds))
            if kind == "stmt":
                p.keep(f"{pad}v{p.fresh()} = {draw(st.integers(0, 9))}")
            elif kind == "string":
                string_stmt(pad, where == "module")
            elif kind == "solution":
                solution(pad)
            elif kind == "inline":
                inline(pad)
            elif kind == "function":
                function(pad, prefix, callable_, depth)
            elif kind == "class":
                klass(pad, prefix, callable_, depth)
            else:
                block(pad, prefix, callable_, depth)

    body("", "", True, 0, "module")
    return p


def resolve(namespace: dict, qualname: str):
    first, *rest = qualname.split(".")
    obj = namespace[first]
    for part in rest:
        obj = getattr(obj, part)
    return obj


def in_order(kept: list[str], out_lines: list[str]) -> bool:
    """Every kept non-blank line appears in the output, in the same order."""
    it = iter(out_lines)
    return all(any(line == o for o in it) for line in kept if line.strip())


@PROPERTY
@given(programs())
def test_random_programs_strip_to_honest_templates(p):
    src = p.source
    exec(compile(src, "reference.py", "exec"), {})  # the generator writes valid references
    out = strip_solution(src, "random.py")
    ast.parse(out)
    assert marker_comments(out) == []
    assert "hidden_" not in out
    assert in_order(p.kept, out.splitlines())
    assert strip_solution(out, "random.py") == out
    if not p.marked:
        assert out == src
    namespace: dict = {}
    exec(compile(out, "template.py", "exec"), namespace)
    for name, value in p.strings.items():
        assert namespace[name] == value
    for qualname in p.whole:
        func = resolve(namespace, qualname)
        with pytest.raises(NotImplementedError, match=f"^{re.escape(qualname)}: TODO$"):
            func()
        assert func.__doc__ == p.docs[qualname]


def test_the_generator_covers_the_interesting_cases():
    """The random programs above do hit whole-body methods, prompts, strings and inline markers."""
    seen: set[str] = set()

    @settings(derandomize=True, database=None, deadline=None, max_examples=150)
    @given(programs())
    def collect(p):
        src = p.source
        seen.update(k for k in ("# BEGIN PROMPT", '"""\n', "# SOLUTION", "  def ") if k in src)
        if any("." in q for q in p.whole):
            seen.add("method")
        if any(line.startswith("  ") and not line.startswith("    ") for line in p.lines):
            seen.add("two-space")

    collect()
    assert seen == {"# BEGIN PROMPT", '"""\n', "# SOLUTION", "  def ", "method", "two-space"}


# --- build_assignment -----------------------------------------------------------------------


def make_reference(root: Path) -> Path:
    ref = root / "ref"
    (ref / "model").mkdir(parents=True)
    (ref / "a.py").write_text("def f():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION\n")
    (ref / "model" / "__init__.py").write_text("")
    (ref / "model" / "target.py").write_text("SIZE = 3  # SOLUTION\n")
    (ref / "data.csv").write_bytes(b"x,y\r\n1,2\r\n")
    (ref / "README.md").write_text("# BEGIN SOLUTION is not special here\n")
    for junk in ("__pycache__/a.cpython-311.pyc", ".pytest_cache/x", ".hidden/y.py", "b.pyc"):
        (ref / junk).parent.mkdir(parents=True, exist_ok=True)
        (ref / junk).write_bytes(b"junk")
    return ref


def test_build_writes_stripped_python_and_copies_the_rest(tmp_path):
    ref, tpl = make_reference(tmp_path), tmp_path / "tpl"
    report = build_assignment(ref, tpl)
    files = ["README.md", "a.py", "data.csv", "model/__init__.py", "model/target.py"]
    assert sorted(report.written) == files and sorted(report.changed) == files
    assert report.removed == [] and not report.ok  # everything was new
    assert sorted(p.relative_to(tpl).as_posix() for p in tpl.rglob("*") if p.is_file()) == files
    assert "NotImplementedError" in (tpl / "a.py").read_text()
    assert (tpl / "model" / "target.py").read_text() == "SIZE = None  # TODO\n"
    assert (tpl / "data.csv").read_bytes() == b"x,y\r\n1,2\r\n"
    assert (tpl / "README.md").read_text() == "# BEGIN SOLUTION is not special here\n"
    again = build_assignment(ref, tpl)
    assert again.changed == [] and again.ok and sorted(again.written) == files


def test_check_mode_reports_drift_and_writes_nothing(tmp_path):
    ref, tpl = make_reference(tmp_path), tmp_path / "tpl"
    missing = build_assignment(ref, tmp_path / "nothing", check=True)
    assert not missing.ok and len(missing.changed) == 5 and not (tmp_path / "nothing").exists()
    build_assignment(ref, tpl)
    clean = build_assignment(ref, tpl, check=True)
    assert clean == BuildReport() and clean.ok
    (tpl / "a.py").write_text("edited by hand\n")
    (tpl / "model" / "extra.py").write_text("")
    (tpl / "data.csv").unlink()
    (tpl / "__pycache__").mkdir()
    (tpl / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"")  # caches are not drift
    drift = build_assignment(ref, tpl, check=True)
    assert not drift.ok and drift.written == []
    assert sorted(drift.changed) == ["a.py", "data.csv"] and drift.removed == ["model/extra.py"]
    assert (tpl / "a.py").read_text() == "edited by hand\n" and (tpl / "model" / "extra.py").exists()
    fixed = build_assignment(ref, tpl)
    assert sorted(fixed.changed) == ["a.py", "data.csv"] and fixed.removed == ["model/extra.py"]
    assert build_assignment(ref, tpl, check=True).ok and not (tpl / "model" / "extra.py").exists()


def test_build_removes_folders_it_empties_and_names_bad_files(tmp_path):
    ref, tpl = make_reference(tmp_path), tmp_path / "tpl"
    build_assignment(ref, tpl)
    (tpl / "old" / "deep").mkdir(parents=True)
    (tpl / "old" / "deep" / "gone.py").write_text("")
    build_assignment(ref, tpl)
    assert not (tpl / "old").exists()
    (ref / "broken.py").write_text("# BEGIN SOLUTION\nx = 1\n")
    with pytest.raises(MarkerError, match=r"broken\.py:1: ") as info:
        build_assignment(ref, tpl)
    assert info.value.filename == str(ref / "broken.py")
    with pytest.raises(FileNotFoundError):
        build_assignment(tmp_path / "absent", tpl)


def test_repository_templates_are_in_sync():
    """What `grader build --check` guards in CI, for the references that ship here."""
    for ref in sorted((REPO / "reference").glob("*")):
        tpl = REPO / "student_template" / ref.name
        if ref.is_dir() and tpl.is_dir():
            report = build_assignment(ref, tpl, check=True)
            assert report.ok, (ref.name, report.changed, report.removed)


# --- check_template_imports -----------------------------------------------------------------


def test_check_template_imports_reports_broken_modules(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "good.py").write_text("from helper import VALUE\n")
    (tmp_path / "helper.py").write_text("VALUE = 1\n")
    (tmp_path / "bad.py").write_text("import helper\nraise RuntimeError('broken on import')\n")
    (tmp_path / "syntax.py").write_text("def f(:\n")
    (tmp_path / "quits.py").write_text("import sys\nsys.exit(3)\n")
    assert check_template_imports(tmp_path, ["helper", "pkg.good"]) == []
    errors = check_template_imports(tmp_path, ["pkg.good", "bad", "syntax", "quits", "nosuch"])
    assert len(errors) == 4
    assert errors[0].startswith("bad: RuntimeError: broken on import") and "bad.py:2" in errors[0]
    assert errors[1].startswith("syntax: SyntaxError")
    assert errors[2].startswith("quits: SystemExit: 3")
    assert errors[3].startswith("nosuch: ModuleNotFoundError")
    assert check_template_imports(tmp_path, []) == []


def test_check_template_imports_survives_hangs_and_crashes(tmp_path):
    (tmp_path / "slow.py").write_text("import time\ntime.sleep(30)\n")
    (tmp_path / "dies.py").write_text("import os\nos._exit(7)\n")
    start = time.monotonic()
    [hang] = check_template_imports(tmp_path, ["slow"], timeout=1)
    assert "longer than 1 s" in hang and time.monotonic() - start < 10
    [crash] = check_template_imports(tmp_path, ["dies"])
    assert "exit 7" in crash
    assert not (tmp_path / "__pycache__").exists()  # imports leave no bytecode in the template


def test_generated_template_of_a_stripped_package_imports(tmp_path):
    ref = tmp_path / "ref"
    (ref / "model").mkdir(parents=True)
    (ref / "model" / "__init__.py").write_text("from .net import Net\n")
    (ref / "model" / "net.py").write_text(
        "LAYERS = [1, 2]  # SOLUTION\n\nclass Net:\n    def forward(self, x):\n"
        "        # BEGIN SOLUTION\n        return x\n        # END SOLUTION\n"
    )
    (ref / "train.py").write_text("from model import Net\n\nnet = Net()\n")
    build_assignment(ref, tmp_path / "tpl")
    assert check_template_imports(tmp_path / "tpl", ["model", "model.net", "train"]) == []


# --- find_reference_in_public_tests ---------------------------------------------------------


def test_public_tests_asking_for_the_reference_are_found(tmp_path):
    (tmp_path / "test_a.py").write_text(
        "import pytest\n"
        "\n"
        "def test_ok(student, reference_dir, references):\n"
        "    assert 'reference' in student\n"
        "\n"
        "def test_bad(student, reference):\n"
        "    pass\n"
        "\n"
        "def test_sneaky(request):\n"
        "    request.getfixturevalue('reference')\n"
        "\n"
        "@pytest.mark.usefixtures('reference')\n"
        "def test_marked():\n"
        "    pass\n"
        "\n"
        "class TestGroup:\n"
        "    async def test_method(self, *, reference):\n"
        "        pass\n"
    )
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "conftest.py").write_text(
        "import pytest\n\n@pytest.fixture\ndef model(reference):\n    return reference\n"
    )
    (tmp_path / "sub" / "model_test.py").write_text("def test_x(request):\n    request.getfixturevalue('student')\n")
    (tmp_path / "helpers.py").write_text("def load(reference):\n    pass\n")  # not a test file
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "test_a.py").write_text("def test_c(reference):\n    pass\n")
    found = find_reference_in_public_tests(tmp_path)
    a, conftest = tmp_path / "test_a.py", tmp_path / "sub" / "conftest.py"
    assert found == [
        f"{conftest}:4: fixture `model` asks for the `reference` fixture",
        f"{a}:6: test `test_bad` asks for the `reference` fixture",
        f'{a}:10: test `test_sneaky` asks for the `reference` fixture (with getfixturevalue("reference"))',
        f'{a}:12: test `test_marked` asks for the `reference` fixture (with usefixtures("reference"))',
        f"{a}:17: test `test_method` asks for the `reference` fixture",
    ]


def test_clean_or_missing_public_tests_pass(tmp_path):
    assert find_reference_in_public_tests(tmp_path / "absent") == []
    (tmp_path / "test_ok.py").write_text("def test_ok(student):\n    pass\n")
    assert find_reference_in_public_tests(tmp_path) == []
    (tmp_path / "test_broken.py").write_text("def test_(:\n")
    [broken] = find_reference_in_public_tests(tmp_path)
    assert broken.startswith(f"{tmp_path / 'test_broken.py'}:1: does not parse")


def test_repository_public_tests_do_not_use_the_reference():
    for public in sorted((REPO / "assignments").glob("*/tests/public")):
        assert find_reference_in_public_tests(public) == []

