"""`grader batch --ray local`: each submission a Ray task, deadlines enforced by the driver.

Runs against a local Ray instance the test starts (the `[ray]` extra: `pip install .[ray]`);
skipped with a reason where ray is not installed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from grader.batch.gradebook import Gradebook
from grader.batch.ray_backend import grade_with_ray, ray_available
from grader.batch.run import run_batch
from grader.mutants import build_mutant, load_mutants
from grader.runner.pool import GradingFailed
from grader.spec import Project

pytestmark = pytest.mark.skipif(not ray_available(), reason="ray is not installed (pip install .[ray])")

TOY_ROOT = Path(__file__).parent / "fixtures" / "project"


def test_a_class_graded_as_ray_tasks_with_a_driver_deadline(tmp_path: Path) -> None:
    root = tmp_path / "project"
    shutil.copytree(TOY_ROOT, root)
    spec_file = root / "assignments" / "toy" / "assignment.yaml"
    data = yaml.safe_load(spec_file.read_text())
    data["limits"] = {"call_seconds": 2, "test_seconds": 6, "submission_seconds": 90, "memory_mb": 1024}
    spec_file.write_text(yaml.safe_dump(data, sort_keys=False))
    spec = Project(root).load("toy")
    ref = Path(spec.reference_dir)
    subs = tmp_path / "class"
    subs.mkdir()
    shutil.copytree(ref, subs / "ada")
    mutant = next(m for m in load_mutants(Path(spec.mutants_dir)) if m.name == "relu_abs")
    build_mutant(ref, mutant, subs / "ben")
    (subs / "bad.zip").write_bytes(b"not a zip")

    summary = run_batch(spec, subs, tmp_path / "book.sqlite", jobs=2, ray="local")
    assert summary.total == 3 and summary.graded == 2
    with Gradebook(tmp_path / "book.sqlite") as book:
        rows = {r.id: r for r in book.rows()}
        parts = book.parts()
    assert rows["ada"].score == rows["ada"].max_score
    assert [p for p, (pts, top) in parts["ben"].items() if pts < top] == [mutant.part]
    assert rows["bad"].status == "refused" and "zip" in (rows["bad"].reason or "")
    assert all(r.writes == 1 for r in rows.values())

    hang = tmp_path / "hang"
    hang.mkdir()
    (hang / "toy.py").write_text((ref / "toy.py").read_text().replace("    return a + b\n", "    while True:\n        pass\n"))
    [res] = grade_with_ray(spec, [("hang", hang)], address="local", timeout=3.0)
    assert isinstance(res, GradingFailed) and "timed out" in str(res) and "cancelled" in str(res)
