"""`grader check --watch`: check again each time the submission's files change, warm.

The checking process stays up between checks, so the second check does not pay the
interpreter, the imports (torch…) or the zygote's start again: only the grading itself. The
folder is polled (no inotify dependency): a change is a file added, removed, or with another
size or modification time, and a check starts once the folder has been quiet for a moment
(an editor's save can write several files).

`Rechecker` makes a check after an edit rerun only the parts whose files changed, where that
can be decided safely (grader/runner/dependencies.py says which files each part depends on);
the other parts' results are kept from the last check and marked so on the card. Anything
that makes the answer unsure (a file added or removed, a changed file that is not a module,
code loaded dynamically, changed tests, a grader error, files changed during the check)
checks every part again. Only `grader check --watch` uses it: `grade`, `verify` and batch
never reuse a result.
"""

from __future__ import annotations

import copy
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.results import GradeResult, score_parts
from grader.runner.dependencies import (
    EVERYTHING,
    Deps,
    LoadRecorder,
    SubmissionGraph,
    analyse,
    changed_files,
    part_dependencies,
    test_file,
)

SKIP = {"__pycache__", ".git", ".ipynb_checkpoints", ".pytest_cache", ".hypothesis", ".mypy_cache"}
MAX_ENTRIES = 10_000

Snapshot = dict[str, tuple[int, int]]


def snapshot(folder: Path) -> Snapshot:
    """(size, mtime) of every regular file under `folder` (links not followed, caches skipped)."""
    found: Snapshot = {}
    stack = [Path(folder)]
    while stack and len(found) < MAX_ENTRIES:
        here = stack.pop()
        try:
            entries = list(os.scandir(here))
        except OSError:
            continue
        for entry in entries:
            if entry.name in SKIP or entry.name.startswith("."):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                    found[entry.path] = (st.st_size, st.st_mtime_ns)
            except OSError:
                continue
    return found


def changed(before: Snapshot, after: Snapshot) -> list[str]:
    """The paths added, removed or modified between two snapshots, sorted."""
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


def watch(
    check: Callable[[list[str]], None],
    folder: Path,
    *,
    interval: float = 0.5,
    quiet: float = 0.3,
    stop: threading.Event | None = None,
) -> int:
    """Run `check([])` now and `check(changed_files)` after every change; return the number of checks.

    Runs until `stop` is set (or KeyboardInterrupt, which ends it quietly).
    """
    stop = stop or threading.Event()
    runs = 0
    try:
        seen = snapshot(folder)
        check([])
        runs += 1
        while not stop.is_set():
            if stop.wait(interval):
                break
            now = snapshot(folder)
            if now == seen:
                continue
            while not stop.wait(quiet):  # let a save of several files finish
                later = snapshot(folder)
                if later == now:
                    break
                now = later
            if stop.is_set():
                break
            files = changed(seen, now)
            seen = now
            check([os.path.relpath(p, folder) for p in files])
            runs += 1
    except KeyboardInterrupt:
        pass
    return runs


def wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    """Poll `predicate` until it holds or `timeout` seconds pass (for callers and tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


REUSED_NOTE = "unchanged since the last check"

# grade(parts, progress): one grading of the submission with only `parts` (None: the whole
# selection), telling `progress` (a grader.progress.Listener) about each test.
Grade = Callable[[tuple[str, ...] | None, Any], GradeResult]


@dataclass
class Recheck:
    """What one check did: the result to show, the parts run and reused, and why."""

    result: GradeResult  # every part; reused ones are marked (REUSED_NOTE, metadata["reused"])
    merged: GradeResult  # the same, unmarked: what a full check gives
    rerun: list[str]  # the parts whose tests ran
    reused: list[str]  # the parts whose results were kept from the last check
    reason: str = ""  # why every part ran ("" when only some did)


@dataclass
class _Kept:
    graph: SubmissionGraph
    result: GradeResult
    deps: dict[str, Deps]
    selection: Any
    fingerprint: str
    parts: list[str] = field(default_factory=list)  # the parts that have tests, in card order
    order: list[tuple[str, str]] = field(default_factory=list)  # (node id, part) in run order


STALE = "belonged to a child process that has since been restarted"


class Rechecker:
    """Checks a submission folder again and again, rerunning only the parts whose files changed.

    `grade` grades the folder (see `Grade`); `selection` is anything that names the tests
    chosen (-k, --part, seed, data): a different one checks everything; `fingerprint()`
    digests the assignment's own files (tests, helpers, reference): a change checks everything.

    Each test file's tests run in a fresh child (`LoadRecorder(isolate=True)`), so a part's
    result depends only on the files its own tests (and those before them in the same test
    file) loaded. Where the assignment's tests share the child's objects across test files (a
    session-scoped fixture holding a handle), that fails with a stale handle: the check is done
    again without isolation, and from then on a part depends on everything loaded before it
    ended.
    """

    def __init__(
        self,
        folder: Path,
        grade: Grade,
        *,
        selection: Any = None,
        fingerprint: Callable[[], str] = lambda: "",
        isolate: bool = True,
    ) -> None:
        self.folder = Path(folder)
        self.grade = grade
        self.selection = selection
        self.fingerprint = fingerprint
        self.isolate = isolate
        self._kept: _Kept | None = None

    def forget(self) -> None:
        """Check everything next time."""
        self._kept = None

    def check(self, progress: Any = None) -> Recheck:
        """Check the folder now: the parts whose files changed since the last check, or all."""
        graph = analyse(self.folder)
        fp = self.fingerprint()
        rerun, reason = self._plan(graph, fp)
        kept = self._kept
        self._kept = None  # kept again below only if this check ends cleanly
        if rerun is not None and not rerun and kept is not None:
            self._kept = kept
            return _recheck(kept.result, [], list(kept.parts))
        fresh, recorder = self._run(rerun, progress, [n for n, _ in kept.order] if rerun and kept else None)
        if self.isolate and any(t.message and STALE in t.message for t in fresh.tests):
            self.isolate = False
            rerun, kept = None, None
            reason = "the tests share objects across test files: checked again in one child"
            fresh, recorder = self._run(None, None, None)
        after = analyse(self.folder)
        if rerun and kept is not None:
            merged = merge(kept.result, fresh, rerun)
            deps = dict(kept.deps)
            for part, files in part_dependencies(graph, recorder, rerun).items():
                # Without isolation a full check runs the other parts' code before this part's
                # tests too: what they loaded then still counts.
                deps[part] = files if self.isolate else _union(files, kept.deps.get(part, EVERYTHING))
            parts, order = kept.parts, kept.order
        else:
            merged = fresh
            parts = [p.name for p in fresh.parts if p.tests]
            deps = part_dependencies(graph, recorder, parts)
            order = recorder.order()
        clean = not fresh.errors and after.digests == graph.digests and after.complete == graph.complete
        if clean:
            self._kept = _Kept(graph, merged, deps, self.selection, fp, parts, order)
        ran = list(rerun) if rerun else list(parts)
        return _recheck(merged, ran, [p for p in parts if p not in ran], reason)

    def _run(
        self, rerun: list[str] | None, progress: Any, full_order: list[str] | None
    ) -> tuple[GradeResult, LoadRecorder]:
        with LoadRecorder(inner=progress, isolate=self.isolate, full_order=full_order) as recorder:
            fresh = self.grade(tuple(rerun) if rerun else None, recorder)
        return fresh, recorder

    def _plan(self, graph: SubmissionGraph, fp: str) -> tuple[list[str] | None, str]:
        """(the parts to run, None for all; why all) for `graph` against the last check."""
        kept = self._kept
        if kept is None:
            return None, "first check"
        if kept.selection != self.selection:
            return None, "another selection of tests"
        if kept.fingerprint != fp:
            return None, "the assignment's tests changed"
        if set(kept.deps) != set(kept.parts) or not kept.parts:
            return None, "the last check lacks a part"
        changed, why = changed_files(kept.graph, graph)
        if why:
            return None, why
        wanted = {p for p in kept.parts if _touches(kept.deps[p], changed)}
        wanted = _with_earlier_parts(wanted, kept.order)
        if len(wanted) == len(kept.parts):
            return None, "every part depends on the changed files"
        return [p for p in kept.parts if p in wanted], ""


def _with_earlier_parts(parts: set[str], order: list[tuple[str, str]]) -> set[str]:
    """`parts` and every part with a test before one of theirs in the same test file.

    A test may use what an earlier test of its file set up (a module-scoped fixture, a
    test-module global): rerun with its part, it must find the same tests before it.
    """
    wanted = set(parts)
    grew = True
    while grew:
        grew = False
        seen: dict[str, set[str]] = {}
        for nodeid, part in order:
            earlier = seen.setdefault(test_file(nodeid), set())
            if part in wanted and not earlier <= wanted:
                wanted |= earlier
                grew = True
            earlier.add(part)
    return wanted


def _union(a: Deps, b: Deps) -> Deps:
    return EVERYTHING if a is EVERYTHING or b is EVERYTHING else a | b


def _touches(deps: Deps, changed: set[str]) -> bool:
    return bool(changed) and (deps is EVERYTHING or not deps.isdisjoint(changed))


def merge(kept: GradeResult, fresh: GradeResult, rerun: Iterable[str]) -> GradeResult:
    """`kept` with the parts in `rerun` (and their tests) taken from `fresh`; totals recomputed."""
    again = set(rerun)
    merged = copy.deepcopy(kept)
    by_name = {p.name: p for p in fresh.parts}
    merged.parts = [copy.deepcopy(by_name[p.name]) if p.name in again else p for p in merged.parts]
    tests = [t for t in merged.tests if t.part not in again]
    tests += [copy.deepcopy(t) for t in fresh.tests if t.part in again]
    merged.tests = sorted(tests, key=lambda t: t.nodeid)
    merged.score = score_parts(merged.parts, merged.tests)
    merged.max_score = float(sum(p.max_points for p in merged.parts))
    metadata = copy.deepcopy(fresh.metadata)
    metadata.pop("parts", None)
    if "parts" in kept.metadata:
        metadata["parts"] = kept.metadata["parts"]  # the selection the student asked for
    merged.metadata = metadata
    merged.errors = list(fresh.errors)
    merged.duration = fresh.duration
    merged.started_at = fresh.started_at
    return merged


def _recheck(merged: GradeResult, rerun: list[str], reused: list[str], reason: str = "") -> Recheck:
    shown = copy.deepcopy(merged)
    for part in shown.parts:
        if part.name in reused:
            part.description = f"{part.description} ({REUSED_NOTE})" if part.description else REUSED_NOTE
    if reused:
        shown.metadata["reused"] = list(reused)
    return Recheck(shown, merged, rerun, reused, reason)
