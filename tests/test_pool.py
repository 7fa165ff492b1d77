"""verify's and batch's warm grading processes (grader/runner/pool.py)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from grader.results import GradeResult
from grader.runner.pool import GradingFailed, grade_in_workers
from grader.spec import Project

TOY_ROOT = Path(__file__).parent / "fixtures" / "project"


def test_results_come_back_in_order_with_failures_per_submission(tmp_path: Path) -> None:
    spec = Project(TOY_ROOT).load("toy")
    seen: list[int] = []
    subs = [
        ("reference", spec.reference_dir),
        ("missing", tmp_path / "no-such-folder"),
        ("template", spec.template_dir),
        ("reference (again)", spec.reference_dir),
    ]
    results = grade_in_workers(spec, subs, jobs=2, on_result=lambda i, _r: seen.append(i))
    assert sorted(seen) == [0, 1, 2, 3]
    first, missing, template, again = results
    assert isinstance(first, GradeResult) and first.submission == "reference" and first.score == first.max_score
    assert isinstance(missing, GradingFailed) and "does not exist" in str(missing)
    assert isinstance(template, GradeResult) and template.score == 0
    assert isinstance(again, GradeResult) and again.score == first.score
    # Graded in another process than the first run, with other gradings before it there.
    assert [t.outcome for t in again.tests] == [t.outcome for t in first.tests]


def test_a_grading_process_that_dies_fails_its_submissions_with_its_error(tmp_path: Path) -> None:
    spec = SimpleNamespace(spec_file=tmp_path / "nope" / "assignment.yaml")
    results = grade_in_workers(spec, [("a", tmp_path), ("b", tmp_path)], jobs=1)
    assert all(isinstance(r, GradingFailed) and "grading process failed (exit" in str(r) for r in results)


def _toy_with_hidden_test(tmp_path: Path, name: str, source: str) -> Any:
    """A copy of the toy project with one more hidden test file; its spec."""
    import shutil

    root = tmp_path / "project"
    shutil.copytree(TOY_ROOT, root)
    (root / "assignments" / "toy" / "tests" / "hidden" / name).write_text(source)
    return Project(root).load("toy")


def test_a_worker_runs_its_own_torch_and_blas_on_one_thread_and_so_does_a_single_grading(tmp_path: Path) -> None:
    """The grading process waits on its children: spinning thread pools of its own steal their cores."""
    from grader.runner.session import run_session

    spec = _toy_with_hidden_test(
        tmp_path,
        "test_threads.py",
        "import os\n\nimport torch\n\nfrom grader.testing import points\n\n\n"
        "@points(1, part=\"basics\")\ndef test_one_thread(student):\n"
        "    assert torch.get_num_threads() == 1, torch.get_num_threads()\n\n\n"
        "@points(1, part=\"basics\")\ndef test_blas_env(student):\n"
        "    assert os.environ.get(\"OPENBLAS_NUM_THREADS\") == \"1\"\n",
    )
    pooled = grade_in_workers(spec, [("reference", spec.reference_dir)], jobs=1)[0]
    assert isinstance(pooled, GradeResult)
    assert pooled.test("test_one_thread").passed and pooled.test("test_blas_env").passed
    single = run_session(spec, spec.reference_dir, label="single", keyword="test_one_thread")
    assert single.test("test_one_thread").passed  # torch's threads, set by the plugin itself


def test_the_rerun_starts_first_in_another_process_and_shares_no_reference_runs(tmp_path: Path) -> None:
    """verify's rerun of the reference: beside the first run at the start (no idle core at the
    end), in another process, with the reference runs of its own (not the shared ones)."""
    spec = _toy_with_hidden_test(
        tmp_path,
        "test_where.py",
        "import os\n\nfrom grader.testing import points\n\n\n"
        "@points(1, part=\"basics\")\ndef test_where(student):\n"
        "    shared = os.environ.get(\"GRADER_SHARED_REFERENCE_RUNS\") is not None\n"
        "    zygote = os.environ.get(\"GRADER_ZYGOTE_SOCKET\")\n"
        "    assert False, f\"pid={os.getpid()} shared={shared} zygote={zygote}\"\n",
    )
    subs = [("reference", spec.reference_dir)] + [(f"t{i}", spec.template_dir) for i in range(3)]
    subs.append(("reference (again)", spec.reference_dir))
    began: list[int] = []
    results = grade_in_workers(
        spec, subs, jobs=2, on_begin=began.append, share_reference_runs=True, share_zygote=True
    )
    assert set(began[:2]) == {0, 4}, began  # the rerun is not left for the end
    said = {i: r.test("test_where").message for i, r in enumerate(results) if isinstance(r, GradeResult)}
    assert len(said) == 5, results
    first, again = said[0].split(), said[4].split()
    assert first[0] != again[0], (first, again)  # two processes
    assert first[1] == "shared=True" and again[1] == "shared=False"
    assert all("shared=True" in said[i] for i in (1, 2, 3))
    # Both workers forked their children from the one zygote the pool started, ended since.
    zygotes = {m.split()[2] for m in said.values()}
    assert len(zygotes) == 1 and zygotes != {"zygote=None"}, zygotes
    assert not Path(zygotes.pop().removeprefix("zygote=")).exists()
    plain = grade_in_workers(spec, subs[:2], jobs=1, last_apart=False)  # batch: nothing shared
    for r in plain:
        assert isinstance(r, GradeResult)
        assert r.test("test_where").message.split()[1:] == ["shared=False", "zygote=None"]


def test_calls_sharing_slots_never_grade_more_at_once_and_hear_when_drained(tmp_path: Path) -> None:
    """Two pools over one slot: one grading at a time in all; each says when it has handed out all."""
    import threading

    spec = Project(TOY_ROOT).load("toy")
    slots = threading.BoundedSemaphore(1)
    lock = threading.Lock()
    running, most, drained = [0], [0], []

    def begin(_i: int) -> None:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])

    def end(_i: int, _r: object) -> None:
        with lock:
            running[0] -= 1

    subs = [("reference", spec.reference_dir), ("template", spec.template_dir)]
    results: dict[str, list[object]] = {}

    def pool(name: str) -> None:
        results[name] = grade_in_workers(
            spec, subs, jobs=2, slots=slots, on_begin=begin, on_result=end, on_drained=lambda: drained.append(name)
        )

    threads = [threading.Thread(target=pool, args=(name,)) for name in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 1
    assert sorted(drained) == ["a", "b"]  # once each
    for graded in results.values():
        assert [r.score for r in graded] == [spec.max_score, 0]  # type: ignore[attr-defined]


def test_verify_overlapped_starts_the_next_when_one_is_drained_and_yields_in_order(monkeypatch) -> None:
    import threading
    import time

    import pytest

    from grader import verify

    events: list[tuple[str, str]] = []
    lock = threading.Lock()

    def fake(spec, *, jobs, extended, slots, on_drained, **_kw):  # the pool's side of the contract
        with lock:
            events.append(("start", spec))
        if spec == "broken":
            raise ValueError("a bad mutant")
        time.sleep(0.05)
        on_drained()  # handed out its last submission ...
        # ... and is still grading it: up to the next one's start (not a fixed sleep, which a
        # busy machine could outlast), or a while when there is none to wait for.
        nxt = {"a": "b", "b": "c"}.get(spec)
        deadline = time.monotonic() + (30 if nxt else 0.2)
        while time.monotonic() < deadline and not (nxt and ("start", nxt) in events):
            time.sleep(0.01)
        with lock:
            events.append(("end", spec))
        return verify.VerifyReport(spec, [verify.VerifyRow(spec, "reference", "full marks", True)])

    monkeypatch.setattr(verify, "verify_assignment", fake)
    done = verify.verify_overlapped(["a", "b", "c"], jobs=2)
    assert [(spec, report.assignment) for spec, report in done] == [("a", "a"), ("b", "b"), ("c", "c")]
    assert events.index(("start", "b")) < events.index(("end", "a"))
    assert events.index(("start", "c")) < events.index(("end", "b"))

    with pytest.raises(ValueError, match="a bad mutant"):
        list(verify.verify_overlapped(["a", "broken", "c"], jobs=2))
