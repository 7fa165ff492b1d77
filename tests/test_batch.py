"""`grader batch`: a class graded in parallel into a gradebook that survives SIGKILL.

The class is built from the toy assignment (tests/fixtures/project, copied, its limits made
short): correct, buggy (its mutants), empty, crashing, hanging and unreadable submissions.
"""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from grader.batch.exports import discover, submission_hash
from grader.batch.gradebook import Gradebook, export_csv
from grader.batch.report import class_report, render_markdown
from grader.batch.run import run_batch
from grader.mutants import build_mutant, load_mutants
from grader.spec import Project

TOY_ROOT = Path(__file__).parent / "fixtures" / "project"
GRADER = [sys.executable, "-m", "grader"]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the toy project with short limits (a hang costs seconds, not minutes)."""
    root = tmp_path_factory.mktemp("project") / "project"
    shutil.copytree(TOY_ROOT, root)
    spec_file = root / "assignments" / "toy" / "assignment.yaml"
    data = yaml.safe_load(spec_file.read_text())
    data["limits"] = {"call_seconds": 2, "test_seconds": 6, "submission_seconds": 90, "memory_mb": 1024}
    spec_file.write_text(yaml.safe_dump(data, sort_keys=False))
    return root


def _spec(project: Path) -> Any:
    return Project(project).load("toy")


def build_class(spec: Any, out: Path) -> dict[str, str]:
    """A folder of 21 submissions; returns {id: what it is}."""
    out.mkdir(parents=True)
    ref = Path(spec.reference_dir)
    kinds: dict[str, str] = {}
    for name in ("ada", "ben", "cai", "dee", "eli", "fay"):
        shutil.copytree(ref, out / name)
        kinds[name] = "correct"
    for m in load_mutants(Path(spec.mutants_dir)):
        build_mutant(ref, m, out / f"bug_{m.name}")
        kinds[f"bug_{m.name}"] = f"buggy:{m.part}"
    for name in ("tom", "tim"):
        shutil.copytree(spec.template_dir, out / name)
        kinds[name] = "template"
    (out / "empty").mkdir()
    kinds["empty"] = "empty"
    source = (ref / "toy.py").read_text()
    crash = out / "crash_import"
    crash.mkdir()
    (crash / "toy.py").write_text("import os\nos._exit(3)\n" + source)
    kinds["crash_import"] = "crashing"
    crash = out / "crash_relu"
    crash.mkdir()
    (crash / "toy.py").write_text(source.replace("    return torch.clamp(t, min=0)\n",
                                                 "    import os, signal\n    os.kill(os.getpid(), signal.SIGSEGV)\n"))  # fmt: skip
    kinds["crash_relu"] = "crashing"
    hang = out / "hang"
    hang.mkdir()
    (hang / "toy.py").write_text(source.replace("    return a + b\n", "    while True:\n        pass\n"))
    kinds["hang"] = "hanging"
    with zipfile.ZipFile(out / "zed.zip", "w") as z:
        z.write(ref / "toy.py", "toy.py")
    kinds["zed"] = "correct"
    (out / "badzip.zip").write_bytes(b"PK\x03\x04 this is not a zip at all")
    kinds["badzip"] = "refused"
    (out / "badnb.ipynb").write_text("{ not json")
    kinds["badnb"] = "refused"
    (out / "notes.txt").write_text("not a submission")
    kinds["notes"] = "unreadable"
    return kinds


@pytest.fixture(scope="module")
def graded(project: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str], float]:
    """The class graded once, uninterrupted, with 2 jobs: (class folder, gradebook, kinds, seconds)."""
    tmp = tmp_path_factory.mktemp("batch")
    spec = _spec(project)
    kinds = build_class(spec, tmp / "class")
    t0 = time.monotonic()
    run_batch(spec, tmp / "class", tmp / "book.sqlite", jobs=2)
    return tmp / "class", tmp / "book.sqlite", kinds, time.monotonic() - t0


def test_a_mixed_class_gets_one_row_each_with_reasons(project: Path, graded: Any) -> None:
    _folder, book_path, kinds, _s = graded
    assert len(kinds) >= 20
    spec = _spec(project)
    full = float(sum(p.points for p in spec.parts))
    with Gradebook(book_path) as book:
        rows = {r.id: r for r in book.rows()}
        parts = book.parts()
    assert set(rows) == set(kinds)
    assert all(r.writes == 1 for r in rows.values())
    for sub_id, kind in kinds.items():
        row = rows[sub_id]
        if kind == "correct":
            assert (row.status, row.score) == ("graded", full), sub_id
        elif kind.startswith("buggy:"):
            lost = [p for p, (pts, top) in parts[sub_id].items() if pts < top]
            assert row.status == "graded" and lost == [kind.split(":")[1]], (sub_id, lost)
        elif kind in ("template", "empty"):
            assert (row.status, row.score) == ("graded", 0), sub_id
        elif kind in ("crashing", "hanging"):
            assert row.status == "graded" and row.score < full, sub_id
        elif kind == "refused":
            assert row.status == "refused" and row.score == 0 and row.reason, sub_id
        else:
            assert row.status == "unreadable" and "not a folder, a .zip or a .ipynb" in (row.reason or "")
    def lost(sub_id: str) -> list[str]:
        return [p for p, (pts, top) in parts[sub_id].items() if pts < top]

    # A hang or a crash costs its own part only; a crash at import costs everything.
    assert lost("hang") == ["basics"] and lost("crash_relu") == ["torch_ops"]
    assert rows["crash_import"].score == 0
    assert "zip" in (rows["badzip"].reason or "")


def test_scores_equal_grader_grade_one_by_one(project: Path, graded: Any, tmp_path: Path) -> None:
    folder, book_path, _kinds, _s = graded
    with Gradebook(book_path) as book:
        for sub_id in ("ada", "bug_relu_abs", "crash_relu", "badzip"):
            path = folder / sub_id if (folder / sub_id).exists() else folder / f"{sub_id}.zip"
            out = tmp_path / sub_id
            proc = subprocess.run([*GRADER, "--root", str(project), "grade", "toy", str(path), "--format", "json",
                                   "--out", str(out)], capture_output=True, text=True, timeout=300)  # fmt: skip
            assert proc.returncode == 0, proc.stderr
            single = json.loads((out / "results.json").read_text())
            batch = book.result(sub_id)
            assert batch is not None
            assert batch.score == single["score"], sub_id
            assert {t.nodeid: t.outcome for t in batch.tests} == {t["nodeid"]: t["outcome"] for t in single["tests"]}
            assert [(p.name, p.points) for p in batch.parts] == [(p["name"], p["points"]) for p in single["parts"]]


def test_a_rerun_skips_what_is_done_and_regrade_redoes_it(project: Path, graded: Any, tmp_path: Path) -> None:
    folder, book_path, kinds, _s = graded
    book = tmp_path / "book.sqlite"
    shutil.copy(book_path, book)
    spec = _spec(project)
    summary = run_batch(spec, folder, book, jobs=2)
    assert summary.skipped == len(kinds) and summary.ids_graded == []
    small = tmp_path / "small"
    small.mkdir()
    shutil.copytree(folder / "ada", small / "ada")
    (small / "ada" / "toy.py").write_text((folder / "ada" / "toy.py").read_text() + "\n# edited\n")
    summary = run_batch(spec, small, book, jobs=1)  # changed files: graded again
    assert summary.ids_graded == ["ada"]
    summary = run_batch(spec, small, book, jobs=1, regrade=True)
    assert summary.ids_graded == ["ada"]
    with Gradebook(book) as gb:
        assert {r.id: r.writes for r in gb.rows()}["ada"] == 3


def test_csv_export_and_class_report(graded: Any, tmp_path: Path) -> None:
    _folder, book_path, kinds, _s = graded
    with Gradebook(book_path) as book:
        assert export_csv(book, tmp_path / "grades.csv") == len(kinds)
        report = class_report(book)
    rows = list(csv.DictReader((tmp_path / "grades.csv").open()))
    assert rows[0].keys() >= {"id", "basics", "arrays", "torch_ops", "objects", "training", "total"}
    for r in rows:
        assert float(r["total"]) == pytest.approx(sum(float(r[p]) for p in ("basics", "arrays", "torch_ops", "objects", "training")))
    assert report.submissions == len(kinds) and sum(b.count for b in report.histogram) == report.graded
    worst = report.tests[0]
    assert worst.failed > 0 and worst.messages and worst.failure_rate >= report.tests[-1].failure_rate
    basics = next(p for p in report.parts if p.name == "basics")
    assert 0 < basics.mean < basics.max_points
    md = render_markdown(report)
    assert "## Score distribution" in md and "## Tests, most failed first" in md and "notes" in md


def test_cli_gradebook_export_and_report(graded: Any, tmp_path: Path) -> None:
    _folder, book_path, _kinds, _s = graded
    proc = subprocess.run([*GRADER, "gradebook", "export", str(book_path), "--csv", str(tmp_path / "g.csv"),
                           "--gradescope", str(tmp_path / "gs")], capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "g.csv").is_file() and any((tmp_path / "gs" / "ada").iterdir())
    proc = subprocess.run([*GRADER, "gradebook", "report", str(book_path), "--markdown", str(tmp_path / "r.md")],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Class report: toy" in (tmp_path / "r.md").read_text()


def _gradescope_zip(spec: Any, path: Path) -> None:
    ref = Path(spec.reference_dir) / "toy.py"
    meta = {
        ":submission_1001": {":submitters": [{":name": "Ada L", ":sid": "s1", ":email": "ada@x.edu"}], ":score": 0},
        ":submission_1002": {":submitters": [{":name": "Ben", ":sid": "s2"}, {":name": "Cai", ":sid": "s3"}]},
        ":submission_1003": {":submitters": [{":name": "Dee", ":sid": "s4"}]},
        ":../../outside": {":submitters": [{":name": "Eve", ":sid": "s5"}]},  # never read
    }
    with zipfile.ZipFile(path, "w") as z:
        top = "assignment_42_export"
        z.writestr(f"{top}/submission_metadata.yml", yaml.safe_dump(meta))
        z.write(ref, f"{top}/submission_1001/toy.py")
        z.writestr(f"{top}/submission_1002/toy.py", ref.read_text().replace("return a + b", "return a - b"))
        z.writestr(f"{top}/submission_1003/notes.txt", "forgot the file")
        z.writestr(f"{top}/../escape.txt", "outside")  # intake refuses this entry, never writes it


def test_a_gradescope_export_zip(project: Path, tmp_path: Path) -> None:
    spec = _spec(project)
    export = tmp_path / "export.zip"
    _gradescope_zip(spec, export)
    layout, subs = discover(export, tmp_path / "work")
    assert layout == "gradescope" and [s.id for s in subs] == ["s1", "s2+s3", "s4", "s5"]
    assert subs[3].path is None and "not a folder of the export" in (subs[3].problem or "")
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "work" / "escape.txt").exists()
    summary = run_batch(spec, export, tmp_path / "gs.sqlite", jobs=2)
    assert summary.layout == "gradescope" and summary.total == 4
    with Gradebook(tmp_path / "gs.sqlite") as book:
        rows = {r.id: r for r in book.rows()}
    assert rows["s1"].score == rows["s1"].max_score
    assert 0 < rows["s2+s3"].score < rows["s1"].score
    assert rows["s4"].score == 0
    assert rows["s5"].status == "unreadable"


def test_canvas_and_classroom_layouts(tmp_path: Path) -> None:
    canvas = tmp_path / "canvas"
    canvas.mkdir()
    (canvas / "jdoe_12_345_toy.py").write_text("x = 1\n")
    (canvas / "jdoe_late_12_346_toy-1.py").write_text("x = 2\n")
    (canvas / "asmith_13_347_sub.zip").write_bytes(b"PK")
    layout, subs = discover(canvas, tmp_path / "w1")
    assert layout == "canvas" and [s.id for s in subs] == ["asmith", "jdoe"]
    assert (subs[1].path / "toy.py").read_text() == "x = 2\n"  # type: ignore[operator]
    classroom = tmp_path / "classroom"
    for login in ("alice", "bob-b"):
        (classroom / f"hw1-cnn-{login}").mkdir(parents=True)
    layout, subs = discover(classroom, tmp_path / "w2")
    assert layout == "classroom" and [s.id for s in subs] == ["alice", "bob-b"]
    assert submission_hash(subs[0].path) == submission_hash(subs[1].path)


def _rows(book: Path) -> int:
    """Rows in the gradebook now (a reader beside the batch's writer: WAL)."""
    if not book.exists():
        return 0
    db = sqlite3.connect(book, timeout=30)
    try:
        return int(db.execute("SELECT count(*) FROM submissions").fetchone()[0])
    except sqlite3.OperationalError:  # the schema is not there yet
        return 0
    finally:
        db.close()


def _batch_cmd(project: Path, folder: Path, book: Path) -> list[str]:
    return [*GRADER, "--root", str(project), "batch", "toy", str(folder), "--gradebook", str(book), "--jobs", "2"]


def test_sigkill_at_random_moments_then_resume_loses_and_repeats_nothing(
    project: Path, graded: Any, tmp_path: Path
) -> None:
    folder, full_book, kinds, _s = graded
    ids = ["ada", "bug_add_subtracts", "bug_relu_abs", "crash_relu", "hang", "tom", "badzip", "notes"]
    small = tmp_path / "class"
    small.mkdir()
    for sub_id in ids:
        src = next(p for p in folder.iterdir() if p.name == sub_id or p.stem == sub_id)
        (shutil.copytree if src.is_dir() else shutil.copy)(src, small / src.name)
    book = tmp_path / "book.sqlite"
    rng = random.Random(18)
    kills = 0
    # Each kill once the gradebook holds a few more rows, then a random moment later (mid-grading).
    for target in sorted(rng.sample(range(2, len(ids) - 1), 3)):
        proc = subprocess.Popen(_batch_cmd(project, small, book), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)  # fmt: skip
        while proc.poll() is None and _rows(book) < target:
            time.sleep(0.1)
        time.sleep(rng.uniform(0.0, 1.5))
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the batch and its workers, at once
            kills += 1
        proc.wait()
    proc = subprocess.run(_batch_cmd(project, small, book), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert kills >= 2
    with Gradebook(book) as resumed, Gradebook(full_book) as full:
        rows = resumed.rows()
        assert sorted(r.id for r in rows) == sorted(ids)
        assert all(r.writes == 1 for r in rows), [(r.id, r.writes) for r in rows]  # nothing graded twice
        got, want = resumed.snapshot(), full.snapshot()
    for key in ("submissions", "parts", "tests"):
        want_rows = [r for r in want[key] if r[0] in ids]
        assert got[key] == want_rows, key
