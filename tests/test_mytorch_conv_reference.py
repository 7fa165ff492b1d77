"""The mytorch_conv reference as students get it: the tester notebook the template ships
(generated with nbformat from `assignments/mytorch_conv/notebook.py`, committed in sync,
runnable against the reference) and the training script on the synthetic CIFAR layout."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reference" / "mytorch_conv"


def _generator():
    spec = importlib.util.spec_from_file_location("mytorch_conv_notebook", ROOT / "assignments" / "mytorch_conv" / "notebook.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_notebook_is_the_generated_one(tmp_path: Path) -> None:
    fresh = _generator().write(tmp_path)
    committed = REFERENCE / "tester.ipynb"
    assert committed.read_text(encoding="utf-8") == fresh.read_text(encoding="utf-8"), (
        "reference/mytorch_conv/tester.ipynb is out of date: regenerate it with notebook.write()"
    )
    nbformat.validate(nbformat.read(committed, as_version=4))
    template = ROOT / "student_template" / "mytorch_conv" / "tester.ipynb"
    assert template.read_bytes() == committed.read_bytes()  # `grader build` copies it


def test_the_notebook_runs_against_the_reference(monkeypatch) -> None:
    cells = [c for c in json.loads((REFERENCE / "tester.ipynb").read_text())["cells"] if c["cell_type"] == "code"]
    code = ["".join(c["source"]) for c in cells if not "".join(c["source"]).lstrip("# \n").startswith("!")]
    code = [src for src in code if "!grader" not in src]  # the shell cell runs the grader itself
    monkeypatch.syspath_prepend(str(REFERENCE))
    monkeypatch.chdir(REFERENCE)
    for name in [m for m in sys.modules if m == "mytorch" or m.startswith("mytorch.")]:
        monkeypatch.delitem(sys.modules, name)
    out = io.StringIO()
    namespace: dict = {}
    import torch

    dtype = torch.get_default_dtype()
    try:
        with contextlib.redirect_stdout(out):
            for src in code:
                exec(compile(src, "tester.ipynb", "exec"), namespace)  # the reference's own notebook, trusted
    finally:
        torch.set_default_dtype(dtype)
    lines = out.getvalue().splitlines()
    diffs = [float(ln.rsplit(" ", 1)[1]) for ln in lines if ln.startswith("forward  (")]
    assert len(diffs) == 4 and max(diffs) < 1e-9, lines
    assert sum(ln.startswith("backward (") for ln in lines) == 4
    assert any(ln.startswith("yours ") and "ratio" in ln for ln in lines), lines
    assert os.path.basename(os.getcwd()) == "mytorch_conv"


def test_the_training_script_reads_the_synthetic_layout_with_torchvision(tmp_path: Path) -> None:
    import subprocess

    from grader.runner import packages
    from grader.spec import Project

    spec = Project.discover(ROOT).load("mytorch_conv")
    packages.import_from(spec, "data").generate(tmp_path / "data", seed=0)
    env = {**os.environ, "PYTHONPATH": str(REFERENCE), "CIFAR_EPOCHS": "1", "CIFAR_DATA": str(tmp_path / "data"), "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, str(REFERENCE / "train.py"), "lenet"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert "epoch 1: val accuracy" in proc.stdout
    assert (tmp_path / "filters.png").stat().st_size > 0 and (tmp_path / "maps_conv1.png").stat().st_size > 0
