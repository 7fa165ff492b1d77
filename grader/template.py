"""Student templates from reference solutions: solution markers stripped, TODOs in their place.

Markers are comment lines: a line whose only content is a comment that starts with the
marker, at any indentation. They are found with `tokenize`, so marker text inside a string
(a docstring, say) is never a marker.

- ``# BEGIN SOLUTION`` … ``# END SOLUTION``: the lines from marker to marker are removed.

  * A function (or method) whose body is left with no statement (its docstring and comments
    do not count) gets ``# TODO: implement <qualname>`` and
    ``raise NotImplementedError("<qualname>: TODO")`` where the block was, after the
    docstring. ``<qualname>`` is the dotted path of classes and functions (``Net.forward``).
  * A block removed from a body that keeps other statements leaves a ``# TODO`` line.
  * A block that empties the body of a class, ``if``, ``for``, ``with``, ``try``… leaves
    ``pass  # TODO``; one that empties the module leaves ``# TODO``.
  * A block inside brackets (list items, call arguments) leaves a ``# TODO`` line.

  The TODO lines take the indentation of the block's first line of code (of its BEGIN
  marker when the block holds no code). When one body loses several blocks and has no
  statement left, only the first block gets the ``raise``/``pass``.
- ``# BEGIN PROMPT`` … ``# END PROMPT``: allowed only directly after an ``# END SOLUTION``
  (blank lines between are fine), and may hold only comment and blank lines. The markers go;
  the lines inside are kept as they are, in place of the ``# TODO`` (or
  ``# TODO: implement …``) line of that block. The ``raise``/``pass`` a body needs stays.
- ``target = value  # SOLUTION`` (a one-line assignment, annotated or not): everything after
  the first top-level ``=`` becomes ``None  # TODO``, e.g. ``patience = None  # TODO``.
  Unpacking targets and non-assignments are a `MarkerError`.

Unbalanced or nested markers raise `MarkerError` with the file and line, and so does a
result that does not parse. A file with no markers comes back unchanged; everything outside
the markers is kept byte for byte.

`build_assignment` writes (or, with ``check``, compares) a whole template folder, and the
template notebook when the assignment sets ``notebook:`` (grader/notebook.py);
`check_template_imports` proves a built template imports; `find_reference_in_public_tests`
finds public tests that ask for the ``reference`` fixture (they ship to students).
"""

from __future__ import annotations

import ast
import io
import json
import re
import subprocess
import sys
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_MARKER = re.compile(r"#\s*(BEGIN|END)\s+(SOLUTION|PROMPT)\b")
_INLINE = re.compile(r"#\s*SOLUTION\s*$")
_PLACEHOLDER = "pass  # __grader_solution_block__"
_SKIP_DIRS = {"__pycache__", ".pytest_cache", ".hypothesis", ".ipynb_checkpoints"}
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


class MarkerError(ValueError):
    """A malformed solution marker (or a stripped file that does not parse), with its place."""

    def __init__(self, filename: str, line: int, message: str) -> None:
        self.filename, self.line, self.message = filename, line, message
        super().__init__(f"{filename}:{line}: {message}")


# --- scanning -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Comment:
    col: int
    text: str
    depth: int  # bracket depth where the comment is
    alone: bool  # nothing but whitespace before it on its line


def _comments(lines: list[str], filename: str) -> dict[int, _Comment]:
    """Line number → the comment token on that line (with the bracket depth there)."""
    out: dict[int, _Comment] = {}
    depth = 0
    try:
        for tok in tokenize.generate_tokens(iter(lines).__next__):
            if tok.type == tokenize.OP and tok.string in "([{":
                depth += 1
            elif tok.type == tokenize.OP and tok.string in ")]}":
                depth -= 1
            elif tok.type == tokenize.COMMENT:
                alone = lines[tok.start[0] - 1][: tok.start[1]].strip() == ""
                out[tok.start[0]] = _Comment(tok.start[1], tok.string, depth, alone)
    except (tokenize.TokenError, SyntaxError) as exc:
        line = getattr(exc, "lineno", None) or (exc.args[1][0] if len(exc.args) > 1 else 1)
        raise MarkerError(filename, line, f"cannot tokenize: {exc.args[0]}") from None
    return out


def _split_lines(source: str) -> list[str]:
    """Lines with their endings, split only at ``\\n`` (as tokenize counts lines)."""
    return io.StringIO(source).readlines()


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


# --- the marker state machine ---------------------------------------------------------------


@dataclass
class _Block:
    """One removed SOLUTION block, rendered once the enclosing body is known."""

    begin: int  # line of its BEGIN marker
    indent: str
    bracketed: bool  # inside brackets: always a comment line, never a statement
    depth: int  # bracket depth of its BEGIN marker
    prompt: list[str] | None = None  # the PROMPT lines that replace its TODO comment
    has_code: bool = False  # indent is that of its first line of code


@dataclass
class _Stripper:
    filename: str
    comments: dict[int, _Comment]
    out: list[tuple[int, str | _Block]] = field(default_factory=list)  # (reference line, piece)
    state: str = "code"  # code | solution | prompt
    block: _Block | None = None  # the open block, or the last closed one a PROMPT may follow
    prompt_begin: int = 0
    saw_marker: bool = False
    blanks: list[tuple[int, str]] = field(default_factory=list)  # held while a PROMPT may come

    def error(self, line: int, message: str) -> MarkerError:
        return MarkerError(self.filename, line, message)

    def marker(self, lineno: int) -> tuple[str, str] | None:
        comment = self.comments.get(lineno)
        if comment is None or not comment.alone:
            return None
        m = _MARKER.match(comment.text)
        return (m.group(1), m.group(2)) if m else None

    def is_comment_line(self, lineno: int) -> bool:
        comment = self.comments.get(lineno)
        return comment is not None and comment.alone

    def inline(self, lineno: int) -> _Comment | None:
        comment = self.comments.get(lineno)
        return comment if comment is not None and _INLINE.search(comment.text) else None

    def feed(self, lineno: int, line: str) -> None:
        marker = self.marker(lineno)
        self.saw_marker = self.saw_marker or marker is not None
        handler = {"code": self.in_code, "solution": self.in_solution, "prompt": self.in_prompt}
        handler[self.state](lineno, line, marker)

    def in_code(self, lineno: int, line: str, marker: tuple[str, str] | None) -> None:
        if marker == ("BEGIN", "SOLUTION"):
            self.flush_blanks()
            depth = self.comments[lineno].depth
            self.block = _Block(lineno, _indent(line), depth > 0, depth)
            self.state = "solution"
        elif marker == ("BEGIN", "PROMPT"):
            if self.block is None:
                raise self.error(lineno, "# BEGIN PROMPT must follow an # END SOLUTION")
            self.block.prompt, self.prompt_begin, self.state = [], lineno, "prompt"
            self.blanks = []  # blank lines between END SOLUTION and BEGIN PROMPT go too
        elif marker is not None:
            raise self.error(lineno, f"# END {marker[1]} without a matching BEGIN")
        elif self.block is not None and not line.strip():
            self.blanks.append((lineno, line))
        else:
            self.flush_blanks()
            comment = self.inline(lineno)
            if comment is not None:
                self.saw_marker = True
                line = _blank_assignment(line, comment.col, self.filename, lineno)
            self.out.append((lineno, line))

    def in_solution(self, lineno: int, line: str, marker: tuple[str, str] | None) -> None:
        assert self.block is not None
        begin = self.block.begin
        if marker == ("END", "SOLUTION"):
            if self.comments[lineno].depth != self.block.depth:
                message = f"brackets opened in the SOLUTION block of line {begin} close outside it"
                raise self.error(lineno, message)
            self.out.append((self.block.begin, self.block))
            self.state = "code"
        elif marker is not None:
            message = f"# {' '.join(marker)} inside the SOLUTION block opened on line {begin}"
            raise self.error(lineno, message)
        elif self.inline(lineno) is not None:
            raise self.error(lineno, f"# SOLUTION inside the SOLUTION block opened on line {begin}")
        elif line.strip() and not self.block.has_code and not self.is_comment_line(lineno):
            self.block.indent, self.block.has_code = _indent(line), True

    def in_prompt(self, lineno: int, line: str, marker: tuple[str, str] | None) -> None:
        assert self.block is not None and self.block.prompt is not None
        if marker == ("END", "PROMPT"):
            self.state, self.block = "code", None
        elif marker is not None:
            message = f"# {' '.join(marker)} inside the PROMPT block opened on line {self.prompt_begin}"
            raise self.error(lineno, message)
        elif line.strip() and not self.is_comment_line(lineno):
            raise self.error(lineno, "a PROMPT block may hold only comment lines")
        elif self.inline(lineno) is not None:
            raise self.error(lineno, "a PROMPT line may not end in # SOLUTION")
        else:
            self.block.prompt.append(line)

    def flush_blanks(self) -> None:
        """Keep the blank lines held after an END SOLUTION: no PROMPT follows it."""
        self.out.extend(self.blanks)
        self.blanks, self.block = [], None

    def finish(self) -> None:
        if self.state == "code":
            self.flush_blanks()
        elif self.state == "solution":
            assert self.block is not None
            raise self.error(self.block.begin, "# BEGIN SOLUTION is never closed")
        else:
            raise self.error(self.prompt_begin, "# BEGIN PROMPT is never closed")


def strip_solution(source: str, filename: str = "<string>") -> str:
    """The student version of one reference source file (rules in the module docstring)."""
    if "SOLUTION" not in source and "PROMPT" not in source:
        return source
    lines = _split_lines(source)
    stripper = _Stripper(filename, _comments(lines, filename))
    for lineno, line in enumerate(lines, start=1):
        stripper.feed(lineno, line)
    stripper.finish()
    if not stripper.saw_marker:
        return source
    newline = "\r\n" if "\r\n" in source else "\n"
    return _render(stripper.out, filename, newline)


def _blank_assignment(line: str, col: int, filename: str, lineno: int) -> str:
    """``target = value  # SOLUTION`` → ``target = None  # TODO``."""
    code = line[:col].rstrip()
    text = code.lstrip()
    try:
        body = ast.parse(text).body
    except SyntaxError:
        body = []
    stmt = body[0] if len(body) == 1 else None
    if isinstance(stmt, ast.Assign):
        lhs_end: ast.expr = stmt.targets[0]
        if isinstance(lhs_end, ast.Tuple | ast.List | ast.Starred):
            raise MarkerError(filename, lineno, "# SOLUTION cannot blank an unpacking assignment")
    elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
        lhs_end = stmt.annotation
    else:
        message = "# SOLUTION must end a one-line assignment `target = value`"
        raise MarkerError(filename, lineno, message)
    end = len(text.encode()[: lhs_end.end_col_offset].decode())  # ast columns count UTF-8 bytes
    lhs = text[: text.index("=", end)].rstrip()
    ending = line[len(line.rstrip("\r\n")) :]
    return f"{_indent(code)}{lhs} = None  # TODO{ending}"


def _render(pieces: list[tuple[int, str | _Block]], filename: str, newline: str) -> str:
    """Join the kept lines, with each removed block replaced by its TODO lines."""
    draft: list[str] = []
    origin: list[int] = []
    holes: dict[int, _Block] = {}  # draft line → block
    for lineno, piece in pieces:
        if isinstance(piece, _Block) and not piece.bracketed:
            holes[len(draft) + 1] = piece
            piece = f"{piece.indent}{_PLACEHOLDER}{newline}"
        elif isinstance(piece, _Block):
            piece = "".join(_todo_comment(piece, "# TODO", newline))
        draft.append(piece)
        origin.append(lineno)
    fills = _fills(_parse("".join(draft), filename, origin), holes, newline) if holes else {}
    lines: list[str] = []
    final_origin: list[int] = []
    for n, (text, lineno) in enumerate(zip(draft, origin, strict=True), start=1):
        replaced = fills.get(n, [text.replace(_PLACEHOLDER, "pass  # TODO")]) if n in holes else [text]
        lines.extend(replaced)
        final_origin.extend([lineno] * len(replaced))
    result = "".join(lines)
    _parse(result, filename, final_origin)
    return result


def _parse(text: str, filename: str, origin: list[int]) -> ast.Module:
    """Parse stripped text; a syntax error names the reference line it comes from."""
    try:
        return ast.parse(text, filename=filename)
    except (SyntaxError, ValueError) as exc:
        at = getattr(exc, "lineno", None) or 1
        line = origin[at - 1] if 0 < at <= len(origin) else at
        message = getattr(exc, "msg", None) or str(exc)
        raise MarkerError(filename, line, f"the stripped file does not parse: {message}") from None


def _todo_comment(block: _Block, todo: str, newline: str) -> list[str]:
    """The block's PROMPT lines, or one TODO comment line when it has none."""
    return list(block.prompt) if block.prompt is not None else [f"{block.indent}{todo}{newline}"]


def _bodies(node: ast.AST, qualname: str) -> list[tuple[list[ast.stmt], ast.AST, str]]:
    """Every statement list in the tree: (body, the node owning it, qualname of its scope)."""
    found = []
    for _, value in ast.iter_fields(node):
        if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
            found.append((value, node, qualname))
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.stmt | ast.excepthandler | ast.match_case):
            inner = qualname
            if isinstance(child, _SCOPES):
                inner = f"{qualname}.{child.name}" if qualname else child.name
            found.extend(_bodies(child, inner))
    return found


def _fills(tree: ast.Module, holes: dict[int, _Block], newline: str) -> dict[int, list[str]]:
    """Draft line of each placeholder → the lines that replace it."""
    fills: dict[int, list[str]] = {}
    for body, owner, qualname in _bodies(tree, ""):
        mine = [s for s in body if isinstance(s, ast.Pass) and s.lineno in holes]
        if not mine:
            continue
        left = [s for s in body if s not in mine and not _is_docstring(s, body, owner)]
        for i, stmt in enumerate(mine):
            block = holes[stmt.lineno]
            if left or isinstance(owner, ast.Module):
                fills[stmt.lineno] = _todo_comment(block, "# TODO", newline)
            elif i > 0:
                fills[stmt.lineno] = list(block.prompt or [])
            else:
                fills[stmt.lineno] = _emptied(block, owner, qualname, newline)
    return fills


def _emptied(block: _Block, owner: ast.AST, qualname: str, newline: str) -> list[str]:
    """The lines for the first block of a body it left without a statement."""
    pad = block.indent
    if isinstance(owner, ast.FunctionDef | ast.AsyncFunctionDef):
        comment = _todo_comment(block, f"# TODO: implement {qualname}", newline)
        return [*comment, f'{pad}raise NotImplementedError("{qualname}: TODO"){newline}']
    return [*(block.prompt or []), f"{pad}pass  # TODO{newline}"]


def _is_docstring(stmt: ast.stmt, body: list[ast.stmt], owner: ast.AST) -> bool:
    return (
        isinstance(owner, (ast.Module, *_SCOPES))
        and body is getattr(owner, "body", None)
        and stmt is body[0]
        and isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


# --- building a template folder -------------------------------------------------------------


@dataclass
class BuildReport:
    """What a build did, or (in check mode) what a build would do.

    ``written``: every file the template holds after the build (empty in check mode);
    ``changed``: files that were (would be) written because they differed or were missing;
    ``removed``: files with no counterpart in the reference that were (would be) deleted.
    """

    written: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the template already matched the reference (nothing changed or removed)."""
        return not self.changed and not self.removed


def _tree_files(root: Path) -> list[str]:
    """Relative POSIX paths of the files under root, without caches and hidden things."""
    if not root.is_dir():
        return []
    files = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in _SKIP_DIRS or part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and path.suffix != ".pyc":
            files.append(rel.as_posix())
    return files


def _template_bytes(src: Path) -> bytes:
    """What the template holds for one reference file: stripped if Python, else a copy."""
    data = src.read_bytes()
    if src.suffix != ".py":
        return data
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise MarkerError(str(src), line, f"is not UTF-8 text ({exc.reason})") from None
    return strip_solution(text, str(src)).encode("utf-8")


def build_assignment(
    reference_dir: Path, template_dir: Path, *, check: bool = False, spec: Any = None
) -> BuildReport:
    """Write the template of `reference_dir` into `template_dir`; with `check`, only compare.

    When the assignment sets `notebook:` in its assignment.yaml, the template notebook (its
    files as `%%writefile` cells, grader/notebook.py) is written (compared) too. `spec` is the
    AssignmentSpec; by default the one the project layout gives: `<root>/assignments/<name>/`
    beside `<root>/reference/<name>/`.
    """
    if not reference_dir.is_dir():
        raise FileNotFoundError(f"reference folder {reference_dir} does not exist")
    report = BuildReport()
    wanted = _tree_files(reference_dir)
    built = {rel: _template_bytes(reference_dir / rel) for rel in wanted}
    spec = spec if spec is not None else _layout_spec(reference_dir)
    if spec is not None and spec.notebook:
        built[spec.notebook] = _template_notebook(spec, built)
        wanted.append(spec.notebook)
    for rel in wanted:
        data, dst = built[rel], template_dir / rel
        if not (dst.is_file() and dst.read_bytes() == data):
            report.changed.append(rel)
            if not check:
                dst.parent.mkdir(parents=True, exist_ok=True)
                dst.write_bytes(data)
        if not check:
            report.written.append(rel)
    keep = set(wanted)
    for rel in _tree_files(template_dir):
        if rel not in keep:
            report.removed.append(rel)
            if not check:
                (template_dir / rel).unlink()
    if not check:
        _prune_empty_dirs(template_dir)
    return report


def _layout_spec(reference_dir: Path) -> Any:
    """The AssignmentSpec of `<root>/reference/<name>` (None outside a project layout)."""
    from grader.spec import SPEC_FILENAME, load_spec

    ref = reference_dir.resolve()
    spec_file = ref.parent.parent / "assignments" / ref.name / SPEC_FILENAME
    if ref.parent.name != "reference" or not spec_file.is_file():
        return None
    return load_spec(spec_file, project_root=ref.parent.parent)


def _template_notebook(spec: Any, built: dict[str, bytes]) -> bytes:
    """The template notebook: the assignment's files, then the other Python files, as cells."""
    from grader.notebook import build_notebook, safe_path
    from grader.spec import SpecError

    if spec.notebook in built:
        raise SpecError(
            f"{spec.notebook} is a file of reference/{spec.name}/ already; choose another path",
            file=spec.spec_file,
            key="notebook",
        )
    order = [*spec.files, *(rel for rel in built if rel.endswith(".py"))]
    files: dict[str, str] = {}
    for rel in dict.fromkeys(order):
        if rel not in built or safe_path(rel) != rel:
            continue
        try:
            files[rel] = built[rel].decode("utf-8")
        except UnicodeDecodeError:
            continue  # a binary file cannot be a %%writefile cell
    intro = f"Assignment `{spec.name}`, version {spec.version}."
    return build_notebook(files, title=spec.title, intro=intro).encode("utf-8")


def _prune_empty_dirs(root: Path) -> None:
    """Remove folders under root left empty (by removed files)."""
    for path in sorted(root.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()


# --- checks on a built template and on the public tests -------------------------------------

_SENTINEL = "__grader_import_errors__"
_IMPORTER = f"""
import importlib, json, sys, traceback
sys.path.insert(0, sys.argv[1])
errors = []
for name in sys.argv[2:]:
    try:
        importlib.import_module(name)
    except BaseException as exc:
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" (at {{tb[-1].filename}}:{{tb[-1].lineno}})" if tb else ""
        errors.append(f"{{name}}: {{type(exc).__name__}}: {{exc}}{{where}}")
sys.stdout.flush()
print("{_SENTINEL}" + json.dumps(errors))
"""


def check_template_imports(
    template_dir: Path, modules: list[str], timeout: float = 60
) -> list[str]:
    """Import each module from template_dir in a fresh Python; one error string per failure."""
    if not modules:
        return []
    root = str(Path(template_dir).resolve())
    cmd = [sys.executable, "-I", "-B", "-c", _IMPORTER, root, *modules]
    try:
        proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return [f"importing {', '.join(modules)} took longer than {timeout:g} s"]
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(_SENTINEL):
            return list(json.loads(line[len(_SENTINEL) :]))
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return [f"importing {', '.join(modules)} ended Python (exit {proc.returncode}): {tail}"]


def _is_public_test_file(path: Path) -> bool:
    name = path.name
    if name == "conftest.py":
        return True
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


def _fixture_request(call: ast.Call) -> str | None:
    """How a call asks for the reference: ``getfixturevalue("reference")`` or ``usefixtures``."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if name not in {"getfixturevalue", "usefixtures"}:
        return None
    values = [*call.args, *(k.value for k in call.keywords)]
    if any(isinstance(v, ast.Constant) and v.value == "reference" for v in values):
        return f' (with {name}("reference"))'
    return None


def _reference_uses(tree: ast.Module) -> list[tuple[int, str, str, str]]:
    """(line, kind, name, how) of each function asking for the `reference` fixture."""
    found: list[tuple[int, str, str, str]] = []

    def visit(node: ast.AST, scope: tuple[str, str]) -> None:
        for child in ast.iter_child_nodes(node):
            inner = scope
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = (_kind(child), child.name)
                args = child.args
                params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
                if any(a.arg == "reference" for a in params):
                    found.append((child.lineno, *inner, ""))
            elif isinstance(child, ast.ClassDef):
                inner = ("class", child.name)
            elif isinstance(child, ast.Call) and (how := _fixture_request(child)):
                found.append((child.lineno, *scope, how))
            visit(child, inner)

    visit(tree, ("module", "<module>"))
    return sorted(found)


def _kind(func: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """"fixture" for a function decorated as a pytest fixture, "test" for a test, else "function"."""
    for dec in func.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        if (getattr(target, "attr", None) or getattr(target, "id", None)) == "fixture":
            return "fixture"
    return "test" if func.name.startswith("test") else "function"


def find_reference_in_public_tests(tests_dir: Path) -> list[str]:
    """Places where a public test (or fixture) asks for the `reference` fixture."""
    found: list[str] = []
    if not tests_dir.is_dir():
        return found
    for path in sorted(tests_dir.rglob("*.py")):
        rel = path.relative_to(tests_dir)
        if any(part in _SKIP_DIRS or part.startswith(".") for part in rel.parts[:-1]):
            continue
        if not _is_public_test_file(path):
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except (SyntaxError, ValueError) as exc:
            line = getattr(exc, "lineno", None) or 1
            found.append(f"{path}:{line}: does not parse, so it cannot be checked")
            continue
        for line, kind, name, how in _reference_uses(tree):
            found.append(f"{path}:{line}: {kind} `{name}` asks for the `reference` fixture{how}")
    return found
