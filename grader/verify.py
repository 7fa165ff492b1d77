"""`grader verify`: prove an assignment's grading is valid.

Reference = full marks; template = zero without a grader crash; each mutant loses points in
its own part and nowhere else; a second run of the reference gives identical results. When
the assignment sets `notebook:`, the reference and one mutant are graded in notebook form
too, and must be graded exactly as their folder forms.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.mutants import Mutant, build_mutant, check_part, load_mutants
from grader.results import GradeResult
from grader.runner.pool import grade_in_workers


@dataclass
class VerifyRow:
    """One graded submission of a verify run and whether it behaved as required."""

    submission: str
    kind: str  # reference | template | mutant | rerun | notebook | notebook-mutant
    expectation: str
    ok: bool
    score: float = 0.0
    max_score: float = 0.0
    detail: str = ""
    duration: float = 0.0


@dataclass
class VerifyReport:
    """All rows of a verify run."""

    assignment: str
    rows: list[VerifyRow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every row met its expectation."""
        return bool(self.rows) and all(r.ok for r in self.rows)


def _lost_parts(result: GradeResult) -> list[str]:
    return [p.name for p in result.parts if p.points < p.max_points]


def check_reference(result: GradeResult) -> tuple[bool, str]:
    """Full marks and no grader error."""
    if result.errors:
        return False, "grader errors: " + "; ".join(result.errors)
    if result.score < result.max_score:
        failed = [t.name for t in result.tests if not t.passed]
        return False, f"lost points in {', '.join(_lost_parts(result))} (failed: {', '.join(failed[:6])})"
    return True, "full marks"


def check_template(result: GradeResult) -> tuple[bool, str]:
    """Zero points and no grader error."""
    if result.errors:
        return False, "grader errors: " + "; ".join(result.errors)
    if result.score > 0:
        passed = [t.name for t in result.tests if t.passed]
        return False, f"template earns {result.score:g} points (passed: {', '.join(passed[:6])})"
    return True, "zero, no crash"


def check_mutant(result: GradeResult, mutant: Mutant) -> tuple[bool, str]:
    """Points lost in the mutant's part and in no other part."""
    if result.errors:
        return False, "grader errors: " + "; ".join(result.errors)
    lost = _lost_parts(result)
    if mutant.part not in lost:
        return False, f"loses nothing in {mutant.part}" + (f" (loses in {', '.join(lost)})" if lost else "")
    others = [p for p in lost if p != mutant.part]
    if others:
        return False, f"also loses points in {', '.join(others)}"
    part = result.part(mutant.part)
    return True, f"{mutant.part} {part.points:g}/{part.max_points:g}"


def check_rerun(first: GradeResult, second: GradeResult) -> tuple[bool, str]:
    """Identical results, timings aside."""
    a, b = first.to_dict(timings=False), second.to_dict(timings=False)
    a.pop("submission"), b.pop("submission")  # the two runs are labelled differently
    if a != b:
        keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        return False, f"results differ between two runs (in {', '.join(keys)})"
    return True, "identical to the first run"


def verify_assignment(
    spec: Any,
    *,
    jobs: int = 2,
    extended: bool = False,
    on_row: Callable[[VerifyRow], None] | None = None,
    on_start: Callable[[int], None] | None = None,
    slots: threading.Semaphore | None = None,
    on_drained: Callable[[], None] | None = None,
) -> VerifyReport:
    """Grade reference, template, mutants and a reference rerun; return the report.

    `on_start(n)` hears how many gradings there will be; `on_row(row)` each one's verdict.
    With `extended`, the mutants of `mutants_dir/extended/` are graded too (`extended_mutants`).
    `slots` and `on_drained`: see `grade_in_workers` (several assignments verified at once).
    """
    report = VerifyReport(spec.name)
    mutants = load_mutants(spec.mutants_dir) + (extended_mutants(spec) if extended else [])
    for m in mutants:
        check_part(m, spec.part_names)
    with tempfile.TemporaryDirectory(prefix="grader-verify-") as tmp:
        jobs_list: list[tuple[str, str, Path, Any]] = [
            ("reference", "reference", spec.reference_dir, None),
            ("template", "template", spec.template_dir, None),
        ]
        for m in mutants:
            folder = build_mutant(spec.reference_dir, m, Path(tmp) / m.name)
            jobs_list.append((m.name, "mutant", folder, m))
        if getattr(spec, "notebook", None):
            jobs_list.extend(_notebook_jobs(spec, mutants, jobs_list, Path(tmp)))
        jobs_list.append(("reference (again)", "rerun", spec.reference_dir, None))
        if on_start:
            on_start(len(jobs_list))

        results: dict[str, GradeResult] = {}
        finished: set[str] = set()
        waiting: dict[str, list[tuple[int, GradeResult | Exception]]] = {}  # by the result they need
        lock = threading.Lock()

        def live_row(index: int, res: GradeResult | Exception) -> VerifyRow:
            name, kind, _folder, mutant = jobs_list[index]
            return _row(name, kind, mutant, res, results)

        def done(index: int, res: GradeResult | Exception) -> None:
            # A row compared with another (the rerun with the first run, a notebook with its
            # folder form) is told once that one is in: the rerun may well finish first.
            name, kind, _folder, mutant = jobs_list[index]
            rows = []
            with lock:
                need = _compared_with(kind, mutant)
                if need is not None and need not in finished:
                    waiting.setdefault(need, []).append((index, res))
                else:
                    rows.append(live_row(index, res))
                key = name if kind == "mutant" else kind
                finished.add(key)
                rows.extend(live_row(i, r) for i, r in waiting.pop(key, []))
            if on_row:
                for row in rows:
                    on_row(row)

        submissions = [(name, folder) for name, _kind, folder, _m in jobs_list]
        # Shrinking finds the smallest failing example for a student's message; every verdict
        # here (points per part, pass or fail per test) is the same without it, and mutants
        # fail property tests by design, so verify does not pay for it.
        graded = grade_in_workers(
            spec, submissions, jobs=jobs, on_result=done, shrink=False, slots=slots, on_drained=on_drained,
            share_reference_runs=True, share_zygote=True,
        )
        # The rows in their order, each decided once every result is in (a rerun against the
        # reference's first run, whichever finished first).
        for (name, kind, _folder, mutant), res in zip(jobs_list, graded, strict=True):
            report.rows.append(_row(name, kind, mutant, res, results))
    return report


def verify_overlapped(
    specs: list[Any],
    *,
    jobs: int = 2,
    extended: bool = False,
    progress: Callable[[Any], dict[str, Any]] | None = None,
) -> Iterator[tuple[Any, VerifyReport]]:
    """Verify several assignments, yielding `(spec, report)` in their order as each is done.

    All of them share `jobs` grading slots. The next assignment starts once the one before
    has handed out its last submission, so its worker processes start and grade while the
    last gradings of that one finish, instead of leaving a core idle at every boundary.
    `progress(spec)` gives each one's `on_start`/`on_row` callbacks.
    """
    slots = threading.BoundedSemaphore(max(1, jobs))
    outcomes: list[VerifyReport | BaseException | None] = [None] * len(specs)
    finished = [threading.Event() for _ in specs]

    def run(i: int, drained: threading.Event) -> None:
        try:
            outcomes[i] = verify_assignment(
                specs[i], jobs=jobs, extended=extended, slots=slots, on_drained=drained.set,
                **(progress(specs[i]) if progress else {}),
            )  # fmt: skip
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
            outcomes[i] = exc
        finally:
            drained.set()
            finished[i].set()

    def start_in_turn() -> None:
        for i in range(len(specs)):
            drained = threading.Event()
            threading.Thread(target=run, args=(i, drained), daemon=True).start()
            drained.wait()

    threading.Thread(target=start_in_turn, daemon=True).start()
    for i, spec in enumerate(specs):
        finished[i].wait()
        outcome = outcomes[i]
        if isinstance(outcome, BaseException):
            raise outcome
        assert outcome is not None
        yield spec, outcome


def extended_mutants(spec: Any) -> list[Mutant]:
    """The assignment's extended mutants: `mutants_dir/extended/*.yaml` ([] when there is none).

    More one-bug submissions than the core set in `mutants_dir`, each checked when it was
    written; `grader verify --extended` grades them, CI's verify only the core set (time).
    """
    return load_mutants(Path(spec.mutants_dir) / "extended")


def check_same_grades(folder: GradeResult, notebook: GradeResult) -> tuple[bool, str]:
    """The notebook form graded exactly as the folder form: score, parts, each test's points."""
    if notebook.errors:
        return False, "grader errors: " + "; ".join(notebook.errors)
    skipped = (notebook.metadata.get("intake") or {}).get("refused")
    if skipped:
        return False, f"the notebook was refused: {skipped}"
    differ = [f"score {notebook.score:g} against {folder.score:g}"] if notebook.score != folder.score else []
    mine = {p.name: p.points for p in notebook.parts}
    differ += [f"{p.name} {mine.get(p.name, 0):g} against {p.points:g}" for p in folder.parts if mine.get(p.name) != p.points]
    outcomes = {t.nodeid: (t.outcome, t.points) for t in notebook.tests}
    tests = [t.name for t in folder.tests if outcomes.get(t.nodeid) != (t.outcome, t.points)]
    if len(outcomes) != len(folder.tests) or tests:
        differ.append(f"tests graded differently: {', '.join(tests[:6]) or 'a different set of tests'}")
    if differ:
        return False, "differs from the folder form: " + "; ".join(differ)
    return True, f"same as the folder form ({notebook.score:g}/{notebook.max_score:g})"


def _notebook_jobs(
    spec: Any, mutants: list[Mutant], jobs_list: list[tuple[str, str, Path, Any]], tmp: Path
) -> list[tuple[str, str, Path, Any]]:
    """The reference and one mutant (the first a notebook can carry) as notebook submissions."""
    from grader.notebook import build_notebook, folder_files

    def as_notebook(folder: Path, name: str) -> Path:
        path = tmp / "notebooks" / f"{name}.ipynb"
        path.parent.mkdir(exist_ok=True)
        text = build_notebook(folder_files(folder, spec.files), title=spec.title)
        path.write_text(text, encoding="utf-8")
        return path

    out = [("reference (notebook)", "notebook", as_notebook(spec.reference_dir, "reference"), None)]
    folders = {m.name: folder for _name, kind, folder, m in jobs_list if kind == "mutant" and m is not None}
    for m in mutants:
        if not m.links and not m.fifos and all(rel.endswith(".py") for rel in m.files):
            out.append((f"{m.name} (notebook)", "notebook-mutant", as_notebook(folders[m.name], m.name), m))
            break
    return out


def _compared_with(kind: str, mutant: Any) -> str | None:
    """The result a row of `kind` is compared with (its key in `_row`'s `results`), if any."""
    if kind in ("rerun", "notebook"):
        return "reference"
    if kind == "notebook-mutant":
        return mutant.name if mutant else None
    return None


def _row(name: str, kind: str, mutant: Any, res: GradeResult | Exception, results: dict[str, GradeResult]) -> VerifyRow:
    expectation = {
        "reference": "full marks",
        "template": "zero, no crash",
        "rerun": "same as first run",
        "notebook": "same grades as the folder reference",
        "notebook-mutant": f"same grades as the folder {mutant.name if mutant else '?'}",
    }.get(kind, f"loses points in {mutant.part if mutant else '?'} only")
    if isinstance(res, Exception):
        return VerifyRow(name, kind, expectation, False, detail=f"grader failed: {res}")
    results[kind if kind != "mutant" else name] = res
    if kind == "reference":
        ok, detail = check_reference(res)
    elif kind == "template":
        ok, detail = check_template(res)
    elif kind == "rerun":
        first = results.get("reference")
        ok, detail = check_rerun(first, res) if first else (False, "no first run to compare with")
    elif kind in ("notebook", "notebook-mutant"):
        folder = results.get("reference" if kind == "notebook" else mutant.name)
        ok, detail = check_same_grades(folder, res) if folder else (False, "no folder form to compare with")
        if ok:
            ok, detail = check_reference(res) if kind == "notebook" else check_mutant(res, mutant)
            detail = f"same as the folder form; {detail}"
    else:
        ok, detail = check_mutant(res, mutant)
    return VerifyRow(name, kind, expectation, ok, res.score, res.max_score, detail, res.duration)
