"""Which files of a submission each part's result depends on (for `grader check --watch`).

Everything here runs in the trusted process and never imports or runs the submission:

- `analyse` reads every file of a submission folder: a digest per file and, for each `.py`
  file, parsed with `ast`, the submission files its `import` statements may load and whether it
  loads code in a way no import statement shows (`importlib`, `exec`, `sys.path`, pickle…).
- `LoadRecorder` listens, during one grading, to what the trusted process asks the student's
  child to load (`student.<module>`, `student.ship(file)`; grader.sandbox.host.client's
  `LOAD_OBSERVERS`), and notes where each part's last test finished.
- `part_dependencies` turns both into a set of files per part: the static import closure of
  every load made in the child up to that part's last test. Cumulative on purpose: code run by
  an earlier test (of any part) can leave state in the child (a patched library, a module
  global) that a later test sees, so a part depends on everything loaded before it finished.

`EVERYTHING` (None) stands for "depends on every file": the conservative answer wherever a
load cannot be attributed to files.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import os
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.sandbox.host import client

EVERYTHING = None
Deps = frozenset[str] | None  # a set of files (relative, '/'-separated), or EVERYTHING

SKIP = {"__pycache__", ".git", ".ipynb_checkpoints", ".pytest_cache", ".hypothesis", ".mypy_cache"}
MAX_FILES = 10_000
HASH_LIMIT = 64 * 1024 * 1024  # bigger files are told apart by size and modification time only

# Modules whose use means code may be loaded by name or from a file's text.
UNSAFE_MODULES = frozenset({
    "importlib", "imp", "runpy", "pkgutil", "zipimport", "inspect", "linecache", "builtins",
    "pickle", "_pickle", "cPickle", "dill", "cloudpickle", "joblib", "marshal", "shelve",
    "code", "codeop",
})  # fmt: skip
# Builtins and module attributes that load code, or find files to read.
UNSAFE_NAMES = frozenset({
    "__import__", "exec", "eval", "compile", "__builtins__", "__file__", "__spec__",
    "__loader__", "__path__", "execfile",
})  # fmt: skip
UNSAFE_ATTRIBUTES = frozenset({
    "import_module", "reload", "exec_module", "load_module", "spec_from_file_location",
    "module_from_spec", "run_path", "run_module", "getsource", "getsourcefile", "getfile",
    "meta_path", "path_hooks", "path_importer_cache", "__file__", "__spec__", "__loader__",
    "__path__", "__import__", "__builtins__", "__code__",
})  # fmt: skip
SYS_UNSAFE = frozenset({"modules", "path", "meta_path", "path_hooks", "path_importer_cache"})
LOADERS = frozenset({"torch", "pickle", "dill", "joblib", "cloudpickle"})
# A string that is a Python file's name or path ("model.py", "/src/x.py"), not a sentence naming one.
_PY_FILE = re.compile(r"^[\w.\\/-]*\.py[cwi]?$")


@dataclass(frozen=True)
class SubmissionGraph:
    """A submission folder read statically: digests, import edges, unsafe files."""

    digests: dict[str, str]  # every file -> a digest of its content
    imports: dict[str, frozenset[str]]  # .py file -> the submission files it may import
    unsafe: dict[str, str]  # .py file -> why its loads cannot be known statically
    shadowing: tuple[str, ...] = ()  # top-level names that hide a library of the same name
    complete: bool = True  # False when the folder had more files than we read

    @property
    def files(self) -> frozenset[str]:
        """Every file of the submission."""
        return frozenset(self.digests)


@dataclass
class LoadRecorder:
    """What one grading asked the student's child to load, test by test.

    Use as a context manager around the grading, and pass it as the grading's progress
    listener (it forwards to `inner`), so that it sees every test end. With `isolate`, the
    student's child is stopped when the first test of a test file (one whose predecessor is of
    another file) asks for code, so every file's tests run in a fresh child (from the zygote)
    and no test sees state that code run by another file's tests left there: a test then
    depends only on its own loads and those of the tests before it in its file (module-scoped
    fixtures, test-module globals and the child they share). Without it, a test depends on
    every load made before it ended.
    """

    inner: Any = None
    isolate: bool = False
    loads: list[tuple[str, str]] = field(default_factory=list)  # ("module", name) / ("ship", source)
    # (nodeid, part, first load, end of loads) of every test, in the order they ended
    tests: list[tuple[str, str, int, int]] = field(default_factory=list)
    _student: Any = None
    # The node ids of the whole selection in run order, where this grading runs only some of
    # them: a test's predecessor is then taken from here, so that the tests of a file start in a
    # fresh child at the same places as when every test runs.
    full_order: list[str] | None = None
    _current: str | None = None  # the test that asked for code last

    def __enter__(self) -> LoadRecorder:
        client.LOAD_OBSERVERS.append(self._observe)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._observe in client.LOAD_OBSERVERS:
            client.LOAD_OBSERVERS.remove(self._observe)

    def _observe(self, sandbox: Any, op: str, fields: dict[str, Any]) -> None:
        if getattr(sandbox, "fixture_name", None) == "reference":
            return  # the reference is no part of the submission
        self._student = sandbox
        # pytest names the test running now (setup, call or teardown) in PYTEST_CURRENT_TEST.
        current = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
        if self.isolate and current and current != self._current:
            self._current = current
            before = self._before(current)
            if before is not None and test_file(before) != test_file(current):
                sandbox.stop()  # the first test of a file starts in a fresh child (on its next request)
        if op == "import":
            if fields.get("_harness"):
                return  # the grader's own helpers (grader/sandbox/child/harness.py)
            self.loads.append(("module", str(fields.get("_module", ""))))
            return
        try:
            source = Path(str(fields.get("_path", ""))).read_text(encoding="utf-8")
        except (OSError, ValueError):
            source = "exec('?')"  # unreadable here: count it as loading anything
        self.loads.append(("ship", source))

    # --- grader.progress.Listener -----------------------------------------------------
    def started(self, per_part: dict[str, int]) -> None:
        """Forwarded to the inner listener."""
        if self.inner is not None:
            self.inner.started(per_part)

    def finished(self, nodeid: str, part: str, passed: bool, points: float) -> None:
        """A test ended (its teardown included): note its loads; with `isolate`, end its child."""
        start = self.tests[-1][3] if self.tests else 0
        self.tests.append((nodeid, part, start, len(self.loads)))
        if self.inner is not None:
            self.inner.finished(nodeid, part, passed, points)

    def close(self) -> None:
        """Forwarded to the inner listener."""
        if self.inner is not None:
            self.inner.close()

    def reached(self, part: str) -> list[tuple[str, str]]:
        """The loads `part`'s results may depend on (all of them if none of its tests ended)."""
        mine = [i for i, t in enumerate(self.tests) if t[1] == part]
        if not mine:
            return list(self.loads)
        if not self.isolate:
            return self.loads[: self.tests[mine[-1]][3]]
        found: list[tuple[str, str]] = []
        for i in mine:
            file = test_file(self.tests[i][0])
            for nodeid, _, start, end in self.tests[: i + 1]:
                if test_file(nodeid) == file:
                    found.extend(self.loads[start:end])
        return found

    def _before(self, nodeid: str) -> str | None:
        """The test that runs just before `nodeid` when the whole selection runs."""
        if self.full_order is None:
            return self.tests[-1][0] if self.tests else None
        if nodeid in self.full_order:
            i = self.full_order.index(nodeid)
            return self.full_order[i - 1] if i > 0 else None
        return self.tests[-1][0] if self.tests else ""  # not seen before: a fresh child

    def order(self) -> list[tuple[str, str]]:
        """(node id, part) of every test, in the order they ended."""
        return [(nodeid, part) for nodeid, part, _, _ in self.tests]


def test_file(nodeid: str) -> str:
    """The test file of a pytest node id."""
    return nodeid.split("::", 1)[0]


# --- reading the submission ---------------------------------------------------------------
def walk_files(folder: Path) -> Iterator[tuple[str, Path]]:
    """(relative '/'-path, path) of every regular file under `folder`: links not followed,
    caches and dot-files skipped (what `grader.watch.snapshot` watches)."""
    stack = [Path(folder)]
    while stack:
        here = stack.pop()
        try:
            entries = sorted(os.scandir(here), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name in SKIP or entry.name.startswith("."):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False):
                    yield Path(os.path.relpath(entry.path, folder)).as_posix(), Path(entry.path)
            except OSError:
                continue


def _digest(path: Path) -> str:
    st = path.stat()
    if st.st_size > HASH_LIMIT:
        return f"size={st.st_size} mtime={st.st_mtime_ns}"
    return hashlib.sha256(path.read_bytes()).hexdigest()


def analyse(folder: Path) -> SubmissionGraph:
    """Read `folder` (never importing it): digests, import edges, unsafe files, shadowed libraries."""
    digests: dict[str, str] = {}
    sources: dict[str, bytes] = {}
    complete = True
    for rel, path in walk_files(folder):
        if len(digests) >= MAX_FILES:
            complete = False
            break
        try:
            if rel.endswith(".py"):
                data = path.read_bytes()
                sources[rel] = data
                digests[rel] = hashlib.sha256(data).hexdigest()
            else:
                digests[rel] = _digest(path)
        except OSError:
            complete = False
    files = frozenset(digests)
    imports: dict[str, frozenset[str]] = {}
    unsafe: dict[str, str] = {}
    for rel, data in sources.items():
        names, why = scan_source(data, rel)
        if why:
            unsafe[rel] = why
        imports[rel] = frozenset(f for name in names for f in module_files(name, files))
    return SubmissionGraph(digests, imports, unsafe, _shadowing(files), complete)


def scan_source(source: bytes | str, rel: str | None) -> tuple[set[str], str | None]:
    """(dotted module names the source may import, why it is unsafe or None).

    `rel` is the file's path in the submission (for relative imports); None for a file shipped
    by the grader, whose relative imports resolve to nothing of the submission. Source that does
    not parse raises SyntaxError when imported, before any of it runs: it loads nothing.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set(), None
    except Exception as exc:  # e.g. RecursionError on absurdly nested code: do not guess
        return set(), f"could not be read ({type(exc).__name__})"
    names: set[str] = set()
    why: str | None = None
    aliases = _module_aliases(tree)
    docstrings = _docstrings(tree)

    def flag(node: ast.AST, what: str) -> None:
        nonlocal why
        if why is None:
            why = f"line {getattr(node, 'lineno', '?')}: {what}"

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names.add(alias.name)
                if alias.name.split(".")[0] in UNSAFE_MODULES:
                    flag(node, f"imports {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, rel)
            if base is None:
                continue
            if base:
                names.add(base)
            for alias in node.names:
                if alias.name != "*":
                    names.add(f"{base}.{alias.name}" if base else alias.name)
            top = (node.module or "").split(".")[0] if node.level == 0 else ""
            picked = {a.name for a in node.names}
            if top in UNSAFE_MODULES:
                flag(node, f"imports from {node.module}")
            elif top == "sys" and (picked & SYS_UNSAFE or "*" in picked):
                flag(node, f"imports {', '.join(sorted(picked))} from sys")
            elif top in LOADERS and picked & {"load", "loads", "*"}:
                flag(node, f"imports a loader from {node.module}")
            elif picked & (UNSAFE_ATTRIBUTES | UNSAFE_NAMES):
                flag(node, f"imports {', '.join(sorted(picked & (UNSAFE_ATTRIBUTES | UNSAFE_NAMES)))}")
        elif isinstance(node, ast.Name) and node.id in UNSAFE_NAMES:
            flag(node, f"uses {node.id}")
        elif isinstance(node, ast.Attribute):
            owner = aliases.get(node.value.id) if isinstance(node.value, ast.Name) else None
            if node.attr in UNSAFE_ATTRIBUTES:
                flag(node, f"uses .{node.attr}")
            elif owner == "sys" and node.attr in SYS_UNSAFE:
                flag(node, f"uses sys.{node.attr}")
        elif isinstance(node, ast.Call) and _unpickles(node, aliases):
            flag(node, "unpickles (which can import modules by name)")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "setattr"):
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Name) and aliases.get(first.id) in ("sys", "builtins", "os"):
                flag(node, f"uses {node.func.id} on {aliases[first.id]}")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and _PY_FILE.search(node.value)
        ):
            flag(node, f"names a Python file ({node.value[:40]!r})")
    return names, why


def _unpickles(call: ast.Call, aliases: dict[str, str]) -> bool:
    """`torch.load(...)` without `weights_only=True`, or `pickle.load(...)` and the like."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr in ("load", "loads") and isinstance(func.value, ast.Name)):
        return False
    owner = aliases.get(func.value.id)
    if owner != "torch":
        return owner in LOADERS
    for kw in call.keywords:
        if kw.arg == "weights_only":
            return not (isinstance(kw.value, ast.Constant) and kw.value.value is True)
        if kw.arg is None:
            return True  # **options: cannot tell
    return True  # torch's default has changed between versions: do not rely on it


def _module_aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> the top-level module it is bound to (`import sys as s` gives s -> sys)."""
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                found[alias.asname or top] = top
    return found


def _docstrings(tree: ast.Module) -> set[int]:
    """ids of the docstring constants (a module's, class's or function's first statement)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _absolute(node: ast.ImportFrom, rel: str | None) -> str | None:
    """The absolute dotted name `from ... import` reads from ('' for the root), or None."""
    if node.level == 0:
        return node.module or ""
    if rel is None:
        return None
    package = rel.split("/")[:-1]
    up = node.level - 1
    if up > len(package):
        return None
    parts = package[: len(package) - up] + (node.module.split(".") if node.module else [])
    return ".".join(parts)


def module_files(name: str, files: frozenset[str]) -> set[str]:
    """The submission files importing the dotted module `name` may run.

    `a.b.c` may run a.py or a/__init__.py, a/b.py or a/b/__init__.py, then a/b/c.py or
    a/b/c/__init__.py; a package that is reached brings every file under it (its submodules
    are loaded on first attribute access, grader/sandbox/child/server.py).
    """
    parts = [p for p in name.split(".") if p]
    found: set[str] = set()
    for i in range(1, len(parts) + 1):
        stem = "/".join(parts[:i])
        found.update(f for f in (f"{stem}.py", f"{stem}/__init__.py") if f in files)
    if parts:
        prefix = "/".join(parts) + "/"
        found.update(f for f in files if f.startswith(prefix) and f.endswith(".py"))
    return found


def top_level_names(files: Iterable[str]) -> set[str]:
    """The names a submission's modules can be imported by at its root: `x.py`, `pkg/y.py` give x, pkg."""
    names: set[str] = set()
    for f in files:
        if f.endswith(".py"):
            head, sep, _ = f.partition("/")
            names.add(head if sep else f[:-3])
    return names


@functools.cache
def _library_names() -> frozenset[str]:
    """Top-level names of the standard library and of every installed distribution."""
    from importlib import metadata

    try:
        installed = set(metadata.packages_distributions())
    except Exception:  # a broken installation's metadata: the standard library still counts
        installed = set()
    return frozenset(set(sys.stdlib_module_names) | installed | set(sys.builtin_module_names))


def _shadowing(files: frozenset[str]) -> tuple[str, ...]:
    """Top-level names of the submission that hide a library (the child puts it first on
    sys.path, so a library that imports that name later would run the student's file)."""
    return tuple(sorted(top_level_names(files) & _library_names()))


# --- dependencies -------------------------------------------------------------------------
def closure(graph: SubmissionGraph, loads: Iterable[tuple[str, str]]) -> Deps:
    """The files `loads` may run, closed over the import graph; EVERYTHING when one of them
    loads code in a way no import statement shows, or the submission hides a library."""
    if graph.shadowing or not graph.complete:
        return EVERYTHING
    todo: list[str] = []
    for kind, what in loads:
        if kind == "module":
            todo.extend(module_files(what, graph.files))
            continue
        names, why = scan_source(what, None)
        if why:
            return EVERYTHING
        for name in names:
            todo.extend(module_files(name, graph.files))
    seen: set[str] = set()
    while todo:
        f = todo.pop()
        if f in seen:
            continue
        seen.add(f)
        if f in graph.unsafe:
            return EVERYTHING
        todo.extend(graph.imports.get(f, ()))
    return frozenset(seen)


def part_dependencies(graph: SubmissionGraph, recorder: LoadRecorder, parts: Iterable[str]) -> dict[str, Deps]:
    """Each part's files: the closure of every load made before its last test ended."""
    return {part: closure(graph, recorder.reached(part)) for part in parts}


def changed_files(before: SubmissionGraph, after: SubmissionGraph) -> tuple[set[str], str | None]:
    """(the files whose content differs, why nothing can be reused or None).

    A file added or removed, or a changed file that is not a Python module, means everything
    is checked again: an import may now resolve elsewhere, code may read data files.
    """
    if not (before.complete and after.complete):
        return set(), "the submission has too many files to track"
    added = after.files - before.files
    removed = before.files - after.files
    if added or removed:
        first = sorted(added | removed)[0]
        return set(), f"{first} was {'added' if first in added else 'removed'}"
    changed = {f for f in after.files if before.digests[f] != after.digests[f]}
    other = sorted(f for f in changed if not f.endswith(".py"))
    if other:
        return changed, f"{other[0]} is not a Python module"
    return changed, None


def fingerprint(paths: Iterable[Path]) -> str:
    """A digest of the files under `paths` (names, sizes, modification times): changes when
    the assignment's tests, helpers or reference change."""
    h = hashlib.sha256()
    for root in paths:
        root = Path(root)
        if root.is_file():
            st = root.stat()
            h.update(f"{root}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
            continue
        for rel, path in walk_files(root):
            try:
                st = path.stat()
            except OSError:
                continue
            h.update(f"{root}/{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()
