"""`grader lint`: static checks of an assignment's landmarks, in well under a second.

Nothing of the assignment is imported or run and no sandbox starts: `assignment.yaml` is read
by `grader.spec` (its errors, with file and line, are lint problems), the reference folder is
only looked at, and the test files are read with `ast`. Checked:

- `assignment.yaml` is valid; every `files:` entry is a file in `reference/<name>/`;
- every library the reference imports at module level is named by `imports:` (else each
  child start imports it again);
- every test pytest would collect (`test_*` functions of `test_*.py`/`*_test.py` files, and of
  `Test*` classes) carries exactly one `@points(n, part=...)`, on itself, its class or the
  module's `pytestmark`, with a positive literal `n` and a `part` that assignment.yaml defines
  (a string literal, or a module-level string constant); a function with `@points` that pytest
  would not collect is reported too;
- a test with `@pytest.mark.parametrize` (on itself, its class or `pytestmark`) says how its
  points count, `per="case"` or `per="test"` (see `grader.testing.points`);
- every part has tests, and its tests' points add up to at least the part's points (a
  `per="case"` test counts once per case when its parametrize lists are literals);
- a public test asks for no fixture of `PUBLIC_FORBIDDEN_FIXTURES` (`reference`): through its
  arguments, `@pytest.mark.usefixtures`, `request.getfixturevalue("...")`, autouse fixtures, or
  the fixtures it asks for, as defined in its own module and in the `conftest.py` files between
  it and the assignment folder, transitively.

Not covered: fixtures from imported modules or plugins, fixtures with `params=` (they
parametrize too), marks or names built at run time
(`points(*args)`, `part=PARTS[0]`, a decorator that wraps `points`), and `pytest_collect_*`
hooks that change what is collected. The grading run checks the same rules on what pytest
really collects (grader/runner/plugin.py), so anything lint cannot see still stops a grading.
"""

from __future__ import annotations

import ast
import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from grader.runner.plugin import PUBLIC_FORBIDDEN_FIXTURES
from grader.spec import AssignmentSpec, Project, SpecError, _display_path
from grader.testing import PER_CHOICES, POINTS_MARK

_TEST_FILES = ("test_*.py", "*_test.py")  # grader/pytest_grading.ini: python_files
_TEST_FUNCTIONS = "test_*"  # python_functions
_TEST_CLASSES = "Test"  # pytest's default python_classes
_SKIP_DIRS = {"__pycache__", ".pytest_cache", ".hypothesis", ".ipynb_checkpoints", "build", "dist"}


@dataclass(frozen=True)
class LintProblem:
    """One problem: `str()` is `file:line: message`."""

    file: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        where = _display_path(self.file) + (f":{self.line}" if self.line is not None else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class LintReport:
    """The problems of one assignment, and how many tests and parts were looked at."""

    assignment: str
    problems: tuple[LintProblem, ...]
    tests: int = 0
    parts: int = 0

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def summary(self) -> str:
        """`lint: NAME ok (N tests, M parts)`, or how many problems were found."""
        if self.ok:
            return f"lint: {self.assignment} ok ({self.tests} tests, {self.parts} parts)"
        n = len(self.problems)
        return f"lint: {self.assignment}: {n} problem{'s' if n != 1 else ''}"


def lint_project(*, project: Project, name: str) -> LintReport:
    """Load assignment `name` of `project` and lint it; an invalid assignment.yaml is a problem.

    Raises SpecError only when there is no assignment `name` (a usage error, not a finding).
    """
    try:
        spec = project.load(name)
    except SpecError as exc:
        if exc.file is None:
            raise
        message = f"{exc.key}: {exc.message}" if exc.key else exc.message
        return LintReport(name, (LintProblem(exc.file, exc.line, message),))
    return lint_assignment(spec=spec)


def lint_assignment(*, spec: AssignmentSpec) -> LintReport:
    """Every static problem of a loaded assignment: its files, tests and parts."""
    lines = _yaml_lines(spec.spec_file)
    problems = _reference_problems(spec, lines)
    tests: list[_Test] = []
    folders = [(spec.public_tests, True), (spec.hidden_tests, False)]
    if not any(folder.is_dir() for folder, _ in folders):
        problems.append(
            LintProblem(
                spec.spec_file,
                lines.get("tests") or 1,
                f"no test folders: neither {_display_path(spec.public_tests)} "
                f"nor {_display_path(spec.hidden_tests)} exists",
            )
        )
    conftests: dict[Path, _Module] = {}
    for folder, public in folders:
        for path in _test_files(folder):
            module, problem = _parse(path)
            if problem is not None:
                problems.append(problem)
                continue
            assert module is not None
            scope = [module, *_conftests(path.parent, spec.root, conftests, problems)]
            tests.extend(module.tests)
            problems.extend(module.problems)
            problems.extend(_mark_problems(module, spec))
            if public:
                problems.extend(_forbidden_fixtures(module, scope))
    problems.extend(_part_problems(spec, tests, lines))
    problems.extend(_import_problems(spec))
    problems.extend(_declared_import_problems(spec, lines))
    problems.extend(_undeclared_library_problems(spec))
    problems.sort(key=lambda p: (str(p.file), p.line or 0))  # stable: same line, found order
    return LintReport(spec.name, tuple(problems), tests=len(tests), parts=len(spec.parts))


# ----------------------------------------------------------------------------------------------
# assignment.yaml and the reference folder
# ----------------------------------------------------------------------------------------------


def _yaml_lines(spec_file: Path) -> dict[str, int]:
    """The 1-based line of each key path (`files`, `files[2]`, `parts[0].name`) of the yaml."""
    from grader.mutants import key_lines

    try:
        return key_lines(spec_file.read_text(encoding="utf-8"))
    except (OSError, ValueError, yaml.YAMLError):  # spec loading read it a moment ago
        return {}


def _declared_import_problems(spec: AssignmentSpec, lines: dict[str, int]) -> list[LintProblem]:
    """`imports:` names a module this Python cannot find (the child would go without it)."""
    import importlib.util

    problems = []
    for i, name in enumerate(spec.imports):
        top = name.split(".", 1)[0]
        try:
            found = importlib.util.find_spec(top) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            line = lines.get(f"imports[{i}]") or lines.get("imports") or 1
            problems.append(LintProblem(spec.spec_file, line, f"imports: no module named {top!r} is installed"))
    return problems


def _undeclared_library_problems(spec: AssignmentSpec) -> list[LintProblem]:
    """A library the reference imports at module level that `imports:` does not name.

    The zygote imports `imports:` once; anything else is imported again by every child that
    loads the module, at each start (sklearn.metrics: about 0.6 s a time, several times a
    grading). A library counts as named when it is a declared module, a package above one
    (`PIL` for `PIL.Image`) or a module below one (`torch.nn` for `torch`).
    """
    import sys

    ref = spec.reference_dir
    if not ref.is_dir():
        return []
    declared = tuple(spec.imports) + ("numpy",)  # the zygote always imports numpy
    own = {p.stem for p in ref.glob("*.py")} | {p.parent.name for p in ref.glob("*/__init__.py")}

    def named(module: str) -> bool:
        return any(
            module == d or d.startswith(module + ".") or module.startswith(d + ".") for d in declared
        )

    problems: list[LintProblem] = []
    for path in _python_files(ref):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (SyntaxError, OSError, ValueError):
            continue  # the grading's own import reports it
        for node in _module_level(tree.body):
            if isinstance(node, ast.Import):
                modules = [(alias.name, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                # `from scipy import ndimage`: what to declare is the submodule, when it is one.
                modules = [(node.module, f"{node.module}.{node.names[0].name}")]
            else:
                continue
            for module, suggestion in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top in own or top == "__future__" or named(module):
                    continue
                problems.append(
                    LintProblem(
                        path,
                        node.lineno,
                        f"imports `{module}` at module level, but assignment.yaml's `imports:` "
                        f"does not name it, so every child start imports it again: add it, or the "
                        f"module used (e.g. `{suggestion}`), to `imports:`",
                    )
                )
    return problems


def _module_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements run when a module is imported: its body, into `if`/`try`/`with` blocks
    (not `if TYPE_CHECKING:`), not into functions or classes."""
    for node in body:
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else test.attr if isinstance(test, ast.Attribute) else ""
            if name != "TYPE_CHECKING":
                yield from _module_level(node.body)
            yield from _module_level(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, *(h.body for h in node.handlers), node.orelse, node.finalbody):
                yield from _module_level(block)
        elif isinstance(node, ast.With):
            yield from _module_level(node.body)
        else:
            yield node


def _reference_problems(spec: AssignmentSpec, lines: dict[str, int]) -> list[LintProblem]:
    """`files:` entries missing from the reference folder."""
    ref = spec.reference_dir
    where = _display_path(ref)
    if not ref.is_dir():
        return [LintProblem(spec.spec_file, lines.get("files"), f"no reference folder {where}")]
    problems: list[LintProblem] = []
    for i, rel in enumerate(spec.files):
        if not (ref / rel).is_file():
            line = lines.get(f"files[{i}]") or lines.get("files")
            problems.append(
                LintProblem(spec.spec_file, line, f"files[{i}]: {rel} is not a file in {where}")
            )
    return problems


def _part_problems(
    spec: AssignmentSpec, tests: list[_Test], lines: dict[str, int]
) -> list[LintProblem]:
    """Parts that no test scores, or whose tests cannot add up to the part's points."""
    problems: list[LintProblem] = []
    for i, part in enumerate(spec.parts):
        line = lines.get(f"parts[{i}].name") or lines.get(f"parts[{i}]")
        scored = [t for t in tests if t.mark is not None and t.mark.part == part.name]
        if not scored:
            problems.append(
                LintProblem(
                    spec.spec_file,
                    line,
                    f"part {part.name!r} has no test, so it can never earn its {part.points:g} points",
                )
            )
        elif all(t.points is not None for t in scored):
            total = sum(t.points or 0.0 for t in scored)
            if total < part.points:
                problems.append(
                    LintProblem(
                        spec.spec_file,
                        line,
                        f"part {part.name!r} is worth {part.points:g} points but its tests add up to {total:g}",
                    )
                )
    return problems


# ----------------------------------------------------------------------------------------------
# Test files, read with ast
# ----------------------------------------------------------------------------------------------


@dataclass
class _Mark:
    """One `@points(n, part=...)` as written."""

    line: int
    points: float | None  # None: not a literal
    part: str | None  # None: missing or not a literal (a problem was recorded)
    per: str | None = None  # "case", "test", or None: not given (or not valid: a problem)


@dataclass
class _Fixture:
    """A fixture defined in a file: what it asks for."""

    name: str
    requests: frozenset[str]
    autouse: bool


@dataclass
class _Test:
    """A test function pytest would collect."""

    name: str
    line: int
    mark: _Mark | None  # the closest @points (function, class, module)
    requests: frozenset[str]  # fixtures asked for directly
    cases: int | None = 1  # parametrized cases; None: parametrized, count not known statically

    @property
    def points(self) -> float | None:
        """What the test is worth in all (every case), None when that is not known statically."""
        if self.mark is None or self.mark.points is None:
            return None
        if self.mark.per == "case":
            return None if self.cases is None else self.mark.points * self.cases
        return self.mark.points


@dataclass
class _Module:
    """What lint needs of one parsed file."""

    path: Path
    tests: list[_Test] = field(default_factory=list)
    fixtures: dict[str, list[_Fixture]] = field(default_factory=dict)
    problems: list[LintProblem] = field(default_factory=list)

    def problem(self, line: int, message: str) -> None:
        """Record a problem at `line` of this file."""
        self.problems.append(LintProblem(self.path, line, message))


def _test_files(folder: Path) -> Iterator[Path]:
    """The files pytest would collect under `folder`, in name order."""
    if not folder.is_dir():
        return
    for path in sorted(folder.rglob("*.py")):
        rel = path.relative_to(folder)
        if any(p in _SKIP_DIRS or p.startswith(".") for p in rel.parts[:-1]):
            continue
        if any(fnmatch.fnmatchcase(path.name, pattern) for pattern in _TEST_FILES):
            yield path


def _parse(path: Path) -> tuple[_Module | None, LintProblem | None]:
    """Read one test or conftest file."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as exc:
        return None, LintProblem(
            path, exc.lineno or 1, f"does not parse, so it cannot be checked: {exc.msg}"
        )
    except (OSError, ValueError) as exc:
        return None, LintProblem(path, 1, f"cannot be read, so it cannot be checked: {exc}")
    return _Reader(path, tree).module, None


def _conftests(
    folder: Path, root: Path, cache: dict[Path, _Module], problems: list[LintProblem]
) -> list[_Module]:
    """The conftest.py files from `folder` up to the assignment folder `root`, nearest first."""
    out: list[_Module] = []
    for here in (folder, *folder.parents):
        path = here / "conftest.py"
        if path.is_file():
            if path not in cache:
                module, problem = _parse(path)
                if problem is not None:
                    problems.append(problem)
                cache[path] = module or _Module(path)
            out.append(cache[path])
        if here == root or root not in here.parents:
            break
    return out


class _Reader:
    """Walks one module's tree: tests, their marks and fixture requests, fixtures."""

    def __init__(self, path: Path, tree: ast.Module) -> None:
        self.module = _Module(path)
        self.aliases = {"points"}  # names `grader.testing.points` is imported as
        self.constants: dict[str, str] = {}  # module-level NAME = "string"
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module == "grader.testing":
                self.aliases |= {a.asname or a.name for a in node.names if a.name == "points"}
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                value = node.value.value
                if isinstance(value, str):
                    self.constants |= {t.id: value for t in node.targets if isinstance(t, ast.Name)}
        module_marks = [v for n in tree.body for v in _pytestmark(n)]
        self.body(
            tree.body, self.marks(module_marks), _parametrizes(module_marks), "", in_class=False
        )

    # -- walking ---------------------------------------------------------------------------

    def body(
        self,
        stmts: list[ast.stmt],
        outer: list[_Mark],
        params: list[ast.Call],
        prefix: str,
        *,
        in_class: bool,
    ) -> None:
        """Record the tests and fixtures among `stmts` (a module's or a test class's body);
        `outer` and `params` are the @points and parametrize marks of the enclosing scopes."""
        for node in stmts:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                self.function(node, outer, params, prefix, in_class=in_class)
            elif isinstance(node, ast.ClassDef):
                self.klass(node, outer, params, prefix)

    def klass(
        self, node: ast.ClassDef, outer: list[_Mark], params: list[ast.Call], prefix: str
    ) -> None:
        collected = node.name.startswith(_TEST_CLASSES) and not any(
            isinstance(s, ast.FunctionDef) and s.name == "__init__" for s in node.body
        )
        exprs = [*node.decorator_list, *(v for s in node.body for v in _pytestmark(s))]
        own = self.marks(exprs)
        if collected:
            inner = [*params, *_parametrizes(exprs)]
            self.body(node.body, own or outer, inner, f"{prefix}{node.name}.", in_class=True)
        elif own or any(self.marks(f.decorator_list) for f in _functions(node.body)):
            self.module.problem(
                node.lineno,
                f"class `{prefix}{node.name}` has @points but pytest does not collect it "
                f"(a test class's name starts with {_TEST_CLASSES!r} and it has no __init__)",
            )

    def function(
        self,
        node: ast.FunctionDef | ast.AsyncFunctionDef,
        outer: list[_Mark],
        params: list[ast.Call],
        prefix: str,
        *,
        in_class: bool,
    ) -> None:
        name = f"{prefix}{node.name}"
        fixture = _fixture_decorator(node)
        if fixture is not None:
            fname, autouse = fixture
            fname = fname or node.name
            defined = _Fixture(fname, frozenset(self.requests(node, in_class=in_class)), autouse)
            self.module.fixtures.setdefault(fname, []).append(defined)
            return
        own = self.marks(node.decorator_list)
        if not fnmatch.fnmatchcase(node.name, _TEST_FUNCTIONS):
            if own:
                self.module.problem(
                    node.lineno,
                    f"`{name}` has @points but pytest does not collect it "
                    f"(a test's name must match {_TEST_FUNCTIONS!r})",
                )
            return
        if len(own) > 1:
            lines = ", ".join(str(m.line) for m in own)
            self.module.problem(
                node.lineno,
                f"test `{name}` has {len(own)} @points markers (lines {lines}); give it one",
            )
        marks = own or outer
        mark = marks[0] if marks else None
        if mark is None:
            self.module.problem(node.lineno, f"test `{name}` has no @points(n, part=...) marker")
        parametrized = [*params, *_parametrizes(node.decorator_list)]
        cases = _cases(parametrized)
        if mark is not None and parametrized and mark.per is None and mark.part is not None:
            n = "n" if mark.points is None else f"{mark.points:g}"
            self.module.problem(
                mark.line,
                f"test `{name}` is parametrized, so its @points must say how its {n} points count: "
                f'per="case" ({n} each case) or per="test" ({n} split across the cases)',
            )
        requests = frozenset(self.requests(node, in_class=in_class))
        test = _Test(name, node.lineno, mark, requests, cases if parametrized else 1)
        self.module.tests.append(test)

    # -- marks -------------------------------------------------------------------------------

    def marks(self, exprs: list[ast.expr]) -> list[_Mark]:
        """The `@points(...)` among decorators (or `pytestmark` values), each read."""
        return [self.mark(e) for e in exprs if isinstance(e, ast.Call) and self.is_points(e.func)]

    def is_points(self, func: ast.expr) -> bool:
        """`points`, an alias of it, `testing.points` or `pytest.mark.grader_points`."""
        if isinstance(func, ast.Name):
            return func.id in self.aliases
        return isinstance(func, ast.Attribute) and func.attr in ("points", POINTS_MARK)

    def mark(self, call: ast.Call) -> _Mark:
        mark = _Mark(call.lineno, None, None)
        if not call.args:
            self.module.problem(
                call.lineno, "@points needs the number of points: @points(n, part=...)"
            )
        else:
            n = _number(call.args[0])
            if n is not None and n <= 0:
                self.module.problem(
                    call.lineno, f"@points: points must be a positive number, got {n:g}"
                )
            mark.points = n
        if len(call.args) > 1:
            self.module.problem(
                call.lineno, "@points takes the part by keyword: @points(n, part=...)"
            )
        for k in call.keywords:
            if k.arg not in ("part", "per"):
                self.module.problem(
                    call.lineno,
                    f"@points has no keyword {k.arg or '**'}: it takes part=... and, for a "
                    'parametrized test, per="case" or per="test"',
                )
        per = next((k.value for k in call.keywords if k.arg == "per"), None)
        if per is not None:
            if isinstance(per, ast.Constant) and per.value in PER_CHOICES:
                mark.per = str(per.value)
            else:
                self.module.problem(
                    call.lineno, '@points: per= must be "case" or "test" (a literal)'
                )
        part = next((k.value for k in call.keywords if k.arg == "part"), None)
        if part is None:
            self.module.problem(
                call.lineno, "@points has no part=...: name a part of assignment.yaml"
            )
        elif isinstance(part, ast.Constant) and isinstance(part.value, str):
            mark.part = part.value
        elif isinstance(part, ast.Name) and part.id in self.constants:
            mark.part = self.constants[part.id]
        else:
            self.module.problem(
                call.lineno,
                "@points: part= must be a string literal (or a module-level string constant) "
                "so that it can be checked without running the file",
            )
        return mark

    # -- fixtures ----------------------------------------------------------------------------

    def requests(self, node: ast.FunctionDef | ast.AsyncFunctionDef, *, in_class: bool) -> set[str]:
        """The fixtures a test or fixture asks for: arguments (less hypothesis's and
        parametrize's), `usefixtures(...)` and `getfixturevalue("...")`."""
        args = node.args
        positional = [*args.posonlyargs, *args.args]
        if in_class and positional and not _is_staticmethod(node):
            positional = positional[1:]  # self
        with_default = (
            {a.arg for a in positional[len(positional) - len(args.defaults) :]}
            if args.defaults
            else set()
        )
        with_default |= {
            a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None
        }
        names = {a.arg for a in [*positional, *args.kwonlyargs]} - with_default
        for dec in node.decorator_list:
            if not isinstance(dec, ast.Call):
                continue
            callee = _callee_name(dec.func)
            if callee == "given":
                names -= {k.arg for k in dec.keywords if k.arg}
            elif callee == "parametrize" and dec.args:
                names -= _argnames(dec.args[0])
            elif callee == "usefixtures":
                names |= {
                    a.value
                    for a in dec.args
                    if isinstance(a, ast.Constant) and isinstance(a.value, str)
                }
        for call in ast.walk(node):
            if (
                isinstance(call, ast.Call)
                and _callee_name(call.func) == "getfixturevalue"
                and call.args
            ):
                first = call.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    names.add(first.value)
        return names


def _functions(stmts: list[ast.stmt]) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    return (s for s in stmts if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef))


def _pytestmark(node: ast.stmt) -> list[ast.expr]:
    """The marks of a `pytestmark = ...` assignment (one mark or a list of them)."""
    if not isinstance(node, ast.Assign):
        return []
    if not any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets):
        return []
    value = node.value
    return list(value.elts) if isinstance(value, ast.List | ast.Tuple) else [value]


def _parametrizes(exprs: list[ast.expr]) -> list[ast.Call]:
    """The `@pytest.mark.parametrize(...)` calls among decorators or `pytestmark` values."""
    return [e for e in exprs if isinstance(e, ast.Call) and _callee_name(e.func) == "parametrize"]


def _cases(params: list[ast.Call]) -> int | None:
    """How many cases these parametrize marks make (a product), None when a list is not literal."""
    total = 1
    for call in params:
        values = call.args[1] if len(call.args) > 1 else None
        values = next((k.value for k in call.keywords if k.arg == "argvalues"), values)
        if not isinstance(values, ast.List | ast.Tuple) or any(
            isinstance(e, ast.Starred) for e in values.elts
        ):
            return None
        total *= len(values.elts)
    return total


def _callee_name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _number(node: ast.expr) -> float | None:
    """The value of a number literal (`3`, `2.5`, `-1`), else None."""
    sign = 1.0
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
        node = node.operand
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    ):
        return sign * float(node.value)
    return None


def _argnames(node: ast.expr) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {n.strip() for n in node.value.split(",") if n.strip()}
    if isinstance(node, ast.List | ast.Tuple):
        return {
            e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)
        }
    return set()


def _is_staticmethod(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in node.decorator_list)


def _fixture_decorator(
    node: ast.FunctionDef | ast.AsyncFunctionDef,
) -> tuple[str | None, bool] | None:
    """(name= given, autouse) when `node` is decorated as a pytest fixture, else None."""
    for dec in node.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        if _callee_name(target) != "fixture":
            continue
        name, autouse = None, False
        if isinstance(dec, ast.Call):
            for k in dec.keywords:
                if (
                    k.arg == "name"
                    and isinstance(k.value, ast.Constant)
                    and isinstance(k.value.value, str)
                ):
                    name = k.value.value
                elif k.arg == "autouse" and isinstance(k.value, ast.Constant):
                    autouse = bool(k.value.value)
        return name, autouse
    return None


# ----------------------------------------------------------------------------------------------
# Checks on the parsed tests
# ----------------------------------------------------------------------------------------------


def _mark_problems(module: _Module, spec: AssignmentSpec) -> list[LintProblem]:
    """Tests whose @points names a part that assignment.yaml does not define."""
    problems: list[LintProblem] = []
    for test in module.tests:
        mark = test.mark
        if mark is not None and mark.part is not None and mark.part not in spec.part_names:
            problems.append(
                LintProblem(
                    module.path,
                    mark.line,
                    f"test `{test.name}` names part {mark.part!r}, which assignment.yaml does not "
                    f"define (parts: {', '.join(spec.part_names)})",
                )
            )
    return problems


def _forbidden_fixtures(module: _Module, scope: list[_Module]) -> list[LintProblem]:
    """Public tests that reach a fixture of PUBLIC_FORBIDDEN_FIXTURES, directly or not."""
    autouse = {f.name for m in scope for defs in m.fixtures.values() for f in defs if f.autouse}
    problems: list[LintProblem] = []
    for test in module.tests:
        via: dict[str, str | None] = dict.fromkeys(test.requests | autouse)
        queue = list(via)
        while queue:
            name = queue.pop(0)
            for m in scope:
                for fixture in m.fixtures.get(name, ()):
                    for asked in fixture.requests - via.keys():
                        via[asked] = name
                        queue.append(asked)
        for name in sorted(PUBLIC_FORBIDDEN_FIXTURES & via.keys()):
            chain: list[str] = []
            step = via[name]
            while step is not None and step not in chain:
                chain.append(step)
                step = via[step]
            through = f" (through {' → '.join(f'`{c}`' for c in chain)})" if chain else ""
            problems.append(
                LintProblem(
                    module.path,
                    test.line,
                    f"public test `{test.name}` asks for the `{name}` fixture{through}, "
                    "which only hidden tests may use",
                )
            )
    return problems


# ----------------------------------------------------------------------------------------------
# imports: the assignment's package, and what public files may reach
# ----------------------------------------------------------------------------------------------


def _python_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if not any(p in _SKIP_DIRS or p.startswith(".") for p in rel.parts[:-1]):
            yield path


def _absolute(module: str, node: ast.ImportFrom) -> str | None:
    """The absolute module name of `from ... import` in the module `module` (None: above the top)."""
    if node.level == 0:
        return node.module
    parts = module.split(".")[:-1]  # the package of a module (test files are never packages)
    if node.level - 1 > len(parts):
        return None
    base = parts[: len(parts) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _import_problems(spec: AssignmentSpec) -> list[LintProblem]:
    """Helpers imported by a bare name (they would clash between assignments), and files that
    students get (everything but the hidden tests) importing from the hidden tests."""
    from grader.runner import packages

    problems: list[LintProblem] = []
    root = spec.root.resolve()
    hidden = spec.hidden_tests.resolve()
    prefix = packages.package_name(spec) + "."
    for path in _python_files(root):
        module = packages.module_name_for(spec, path)
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (SyntaxError, OSError, ValueError):
            continue  # reported where it matters (test files), or by the import itself
        public = not path.resolve().is_relative_to(hidden)
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                absolute = _absolute(module or "", node) if module else node.module
                if absolute is None:
                    continue
                names = [absolute] + [f"{absolute}.{alias.name}" for alias in node.names]
                # relative: inside the package, never bare; absolute: the module named
                names = [n for n in names if n.startswith(prefix)] if node.level else names[:1]
            if not names:
                continue
            for problem in _import_problem(path, node.lineno, names, root, prefix, hidden if public else None):
                problems.append(problem)
                break  # one problem per import statement
    return problems


def _import_problem(
    path: Path, line: int, names: list[str], root: Path, prefix: str, hidden: Path | None
) -> Iterator[LintProblem]:
    """The problems of one import statement naming `names` (`hidden`: None in a hidden file)."""
    for name in names:
        if not name.startswith(prefix):
            first = name.split(".")[0]
            if (path.parent / f"{first}.py").is_file() or (path.parent / first / "__init__.py").is_file():
                yield LintProblem(
                    path,
                    line,
                    f"imports the helper `{first}` by a bare name: import it from the assignment's "
                    f"package (`from . import {first}`, or `from {prefix.rstrip('.')}... import {first}`), "
                    "so that two assignments cannot share it",
                )
            continue
        target = root.joinpath(*name[len(prefix) :].split("."))
        found = [p for p in (target.with_suffix(".py"), target) if p.exists()]
        if hidden is not None and found and found[0].resolve().is_relative_to(hidden):
            yield LintProblem(
                path,
                line,
                f"imports `{name}` from the hidden tests, which students never get: move what it "
                "needs out of the hidden folder, or this file into it",
            )

