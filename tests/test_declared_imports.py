"""A numpy-only assignment (`imports: [numpy]`) is graded without importing torch anywhere."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from grader.runner import plugin
from grader.spec import Project

NUMPY_PROJECT = Path(__file__).parent / "fixtures" / "numpy_project"

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the zygote is Linux-only")


def _check(tmp_path: Path, submission: Path) -> dict:
    """`grader check hw01 SUBMISSION` in a fresh process: its scorecard and what it imported."""
    script = textwrap.dedent(
        f"""
        import json, sys
        from grader.cli import main
        from grader.sandbox.host import zygote
        rc = main(["--root", {str(NUMPY_PROJECT)!r}, "check", "hw01", {str(submission)!r},
                   "--format", "json", "--out", {str(tmp_path / "out")!r}])
        z = zygote._shared.get(("numpy",))
        print(json.dumps({{
            "rc": rc,
            "trusted": sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "torchvision")),
            "zygote": z.info() if z is not None else None,
        }}))
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["card"] = json.loads((tmp_path / "out" / "results.json").read_text())
    return out


def test_the_spec_declares_numpy_only():
    assert Project(NUMPY_PROJECT).load("hw01").imports == ("numpy",)


def test_check_of_a_numpy_assignment_imports_no_torch(tmp_path):
    out = _check(tmp_path, NUMPY_PROJECT / "reference" / "hw01")
    assert out["rc"] == 0
    assert out["card"]["score"] == out["card"]["max_score"] == 9
    assert out["trusted"] == [], "the grading process imported torch"
    zygote = out["zygote"]
    assert zygote is not None, "the zygote was not used"
    assert zygote["torch_imported"] is False and "torch" not in zygote["modules"]
    assert "torch" not in out["card"]["metadata"]["machine"]


def test_a_wrong_answer_still_fails_without_torch(tmp_path):
    submission = tmp_path / "sub"
    submission.mkdir()
    source = (NUMPY_PROJECT / "reference" / "hw01" / "hw01.py").read_text()
    (submission / "hw01.py").write_text(source.replace("return np.cumsum(arr)", "return np.asarray(arr)"))
    out = _check(tmp_path, submission)
    assert out["trusted"] == []
    failed = [t["name"] for t in out["card"]["tests"] if t["outcome"] != "passed"]
    assert out["card"]["score"] == 8 and failed == ["test_q6_running_total"], failed


def test_torch_is_seeded_only_where_declared_or_imported(monkeypatch):
    seeded: list[int] = []
    fake = type(sys)("torch")
    fake.manual_seed = seeded.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torch", fake)
    plugin._seed_trusted(5, ("numpy",))
    assert seeded == [5], "torch imported by a test module is seeded"
    monkeypatch.delitem(sys.modules, "torch")
    plugin._seed_trusted(6, ("numpy",))
    assert seeded == [5] and "torch" not in sys.modules
