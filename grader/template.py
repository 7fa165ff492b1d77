"""Student templates from reference solutions: solution markers stripped, TODOs in their place.

Markers are real comments (found with `tokenize`, so text inside strings never counts):

- ``# BEGIN SOLUTION`` … ``# END SOLUTION``: removed. A function whose body is left with no
  statement (a docstring does not count) gets ``# TODO: implement <name>`` and
  ``raise NotImplementedError``; a block removed from a body that keeps other statements
  leaves a ``# TODO`` line; a block that leaves an ``if``/``for``/class body empty leaves
  ``pass  # TODO``.
- ``# BEGIN PROMPT`` … ``# END PROMPT`` directly after an ``# END SOLUTION`` (blank lines
  between are allowed): comment lines the student sees instead of the ``# TODO`` line.
- ``name = value  # SOLUTION`` (one line): becomes ``name = None  # TODO``.

Unbalanced or nested markers raise `MarkerError` with the file and line.
"""

from __future__ import annotations

import ast
import filecmp
import io
import re
import shutil
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

_MARKER = re.compile(r"#\s*(BEGIN|END)\s+(SOLUTION|PROMPT)\s*$")
_INLINE = re.compile(r"#\s*SOLUTION\s*$")
_PLACEHOLDER = "pass  # __grader_placeholder__"
_SKIP_DIRS = {"__pycache__", ".pytest_cache", ".hypothesis", ".ipynb_checkpoints"}


class MarkerError(ValueError):
    """A malformed solution marker, with the file and line where it is."""

    def __init__(self, filename: str, line: int, message: str) -> None:
        self.filename, self.line, self.message = filename, line, message
        super().__init__(f"{filename}:{line}: {message}")


def _comments(source: str, filename: str) -> dict[int, tuple[int, str]]:
    """Line number → (column, text) of each comment token."""
    out: dict[int, tuple[int, str]] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                out[tok.start[0]] = (tok.start[1], tok.string)
    except (tokenize.TokenError, SyntaxError) as exc:
        raise MarkerError(filename, getattr(exc, "lineno", 1) or 1, f"cannot tokenize: {exc}") from None
    return out


@dataclass
class _Block:
    line: int  # index into the output lines of the placeholder
    indent: str
    prompted: bool


def strip_solution(source: str, filename: str = "<string>") -> str:
    """The student version of one reference source file (see the module docstring)."""
    comments = _comments(source, filename)
    lines = source.splitlines(keepends=True)
    out: list[str] = []
    blocks: list[_Block] = []
    state, begin_line, indent = "code", 0, ""
    pending_prompt: _Block | None = None  # a block just closed, which a PROMPT may follow
    for lineno, line in enumerate(lines, start=1):
        comment = comments.get(lineno)
        marker = None
        if comment and line[: comment[0]].strip() == "":
            m = _MARKER.match(comment[1])
            marker = (m.group(1), m.group(2)) if m else None
        if state == "solution":
            if marker == ("END", "SOLUTION"):
                state = "code"
                pending_prompt = _Block(len(out), indent, prompted=False)
                blocks.append(pending_prompt)
                out.append(f"{indent}{_PLACEHOLDER}\n")
            elif marker is not None and marker[0] == "BEGIN":
                raise MarkerError(filename, lineno, f"# BEGIN {marker[1]} inside the SOLUTION block opened on line {begin_line}")
            elif marker is not None:
                raise MarkerError(filename, lineno, f"# END {marker[1]} inside a SOLUTION block")
            elif comment and _INLINE.match(comment[1]):
                raise MarkerError(filename, lineno, "# SOLUTION inside a SOLUTION block")
            continue
        if state == "prompt":
            if marker == ("END", "PROMPT"):
                state = "code"
            elif marker is not None:
                raise MarkerError(filename, lineno, f"{' '.join(marker)} inside the PROMPT block opened on line {begin_line}")
            elif line.strip() and not line.lstrip().startswith("#"):
                raise MarkerError(filename, lineno, "a PROMPT block may hold only comment lines")
            else:
                assert pending_prompt is not None
                out.insert(pending_prompt.line, line)
                pending_prompt.line += 1
            continue
        if marker == ("BEGIN", "SOLUTION"):
            state, begin_line = "solution", lineno
            indent = line[: len(line) - len(line.lstrip())]
            pending_prompt = None
            continue
        if marker == ("BEGIN", "PROMPT"):
            if pending_prompt is None:
                raise MarkerError(filename, lineno, "# BEGIN PROMPT must follow an # END SOLUTION")
            state, begin_line = "prompt", lineno
            pending_prompt.prompted = True
            continue
        if marker is not None:
            raise MarkerError(filename, lineno, f"# {' '.join(marker)} without a matching BEGIN")
        if line.strip():
            pending_prompt = None
        if comment and _INLINE.match(comment[1]):
            line = _blank_assignment(line, comment[0], filename, lineno)
        out.append(line)
    if state != "code":
        raise MarkerError(filename, begin_line, f"# BEGIN {state.upper()} is never closed")
    result = _resolve_placeholders(out, blocks, filename) if blocks else "".join(out)
    try:
        ast.parse(result, filename=filename)
    except SyntaxError as exc:
        raise MarkerError(filename, exc.lineno or 1, f"the stripped file does not parse: {exc.msg}") from None
    return result


def _blank_assignment(line: str, comment_col: int, filename: str, lineno: int) -> str:
    code = line[:comment_col].rstrip()
    try:
        tree = ast.parse(code.strip())
    except SyntaxError:
        tree = None
    stmt = tree.body[0] if tree and len(tree.body) == 1 else None
    if not isinstance(stmt, ast.Assign | ast.AnnAssign) or stmt.value is None:
        raise MarkerError(filename, lineno, "# SOLUTION must end a one-line assignment")
    indent = code[: len(code) - len(code.lstrip())]
    lhs = code.strip()[: stmt.value.col_offset].rstrip()
    newline = "\n" if line.endswith("\n") else ""
    return f"{indent}{lhs} None  # TODO{newline}"


def _resolve_placeholders(out: list[str], blocks: list[_Block], filename: str) -> str:
    source = "".join(out)
    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as exc:
        raise MarkerError(filename, exc.lineno or 1, f"the stripped file does not parse: {exc.msg}") from None
    placeholder_lines = {b.line + 1: b for b in blocks}  # 1-based
    replacement: dict[int, list[str]] = {}

    def is_placeholder(stmt: ast.stmt) -> bool:
        return isinstance(stmt, ast.Pass) and stmt.lineno in placeholder_lines

    def visit(node: ast.AST, qualname: str) -> None:
        for name in ("body", "orelse", "finalbody"):
            body = getattr(node, name, None)
            if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
                resolve(body, node, name, qualname)
        for handler in getattr(node, "handlers", []):
            visit(handler, qualname)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                inner = qualname
                if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    inner = f"{qualname}.{child.name}" if qualname else child.name
                visit(child, inner)

    def resolve(body: list[ast.stmt], owner: ast.AST, field_name: str, qualname: str) -> None:
        holders = [s for s in body if is_placeholder(s)]
        if not holders:
            return
        real = [s for s in body if not is_placeholder(s) and not _is_docstring(s, body)]
        is_func = isinstance(owner, ast.FunctionDef | ast.AsyncFunctionDef) and field_name == "body"
        for i, stmt in enumerate(holders):
            block = placeholder_lines[stmt.lineno]
            pad = block.indent
            if real:
                replacement[stmt.lineno] = [] if block.prompted else [f"{pad}# TODO\n"]
            elif i > 0:
                replacement[stmt.lineno] = []
            elif is_func:
                todo = [] if block.prompted else [f"{pad}# TODO: implement {qualname}\n"]
                replacement[stmt.lineno] = [*todo, f'{pad}raise NotImplementedError("{qualname}: TODO")\n']
            else:
                replacement[stmt.lineno] = [f"{pad}pass  # TODO\n"]

    visit(tree, "")
    result: list[str] = []
    for lineno, line in enumerate(source.splitlines(keepends=True), start=1):
        if lineno in placeholder_lines:
            result.extend(replacement.get(lineno, [line.replace(_PLACEHOLDER, "pass  # TODO")]))
        else:
            result.append(line)
    return "".join(result)


def _is_docstring(stmt: ast.stmt, body: list[ast.stmt]) -> bool:
    return (
        stmt is body[0]
        and isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


@dataclass
class BuildReport:
    """What a build wrote, or (in check mode) what differs from what it would write."""

    written: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing differs (check mode)."""
        return not self.changed and not self.removed


def _source_files(root: Path) -> list[Path]:
    files = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in _SKIP_DIRS or part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and path.suffix != ".pyc":
            files.append(rel)
    return files


def build_assignment(reference_dir: Path, template_dir: Path, *, check: bool = False) -> BuildReport:
    """Write the template of `reference_dir` into `template_dir` (with `check`, only compare)."""
    report = BuildReport()
    wanted = _source_files(reference_dir)
    for rel in wanted:
        src, dst = reference_dir / rel, template_dir / rel
        if src.suffix == ".py":
            text = strip_solution(src.read_text(encoding="utf-8"), str(src))
            same = dst.is_file() and dst.read_text(encoding="utf-8") == text
            if not same:
                report.changed.append(str(rel))
                if not check:
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    dst.write_text(text, encoding="utf-8")
        else:
            same = dst.is_file() and filecmp.cmp(src, dst, shallow=False)
            if not same:
                report.changed.append(str(rel))
                if not check:
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(src, dst)
        report.written.append(str(rel))
    if template_dir.is_dir():
        keep = {str(r) for r in wanted}
        for rel in _source_files(template_dir):
            if str(rel) not in keep:
                report.removed.append(str(rel))
                if not check:
                    (template_dir / rel).unlink()
    if check:
        report.written = []
    return report


def find_reference_in_public_tests(tests_dir: Path) -> list[str]:
    """Places where a public test (or fixture) asks for the `reference` fixture."""
    found: list[str] = []
    if not tests_dir.is_dir():
        return found
    for path in sorted(tests_dir.rglob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except SyntaxError as exc:
            found.append(f"{path}:{exc.lineno}: does not parse")
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                args = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
                if any(a.arg == "reference" for a in args):
                    found.append(f"{path}:{node.lineno}: `{node.name}` asks for the `reference` fixture")
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "getfixturevalue"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and node.args[0].value == "reference"
            ):
                found.append(f"{path}:{node.lineno}: getfixturevalue('reference')")
    return found
