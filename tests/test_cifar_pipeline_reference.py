"""The cifar_pipeline reference as graded and as a student runs it: full marks part by part, the
same grade, test by test, when it is submitted as the notebook the template ships, the template
notebook in sync with the template files, and the provided code reading the synthetic CIFAR-10
layout offline (the network is cut in the scripts run here). `grader verify` grades the
template and the mutants."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.notebook import build_notebook, extract_files, folder_files
from grader.runner import packages
from grader.runner.session import grade_in_subprocess
from grader.spec import Project

ROOT = Path(__file__).resolve().parents[1]
SPEC = Project.discover(ROOT).load("cifar_pipeline")
REFERENCE = ROOT / "reference" / "cifar_pipeline"
PARTS = {"data": 15, "model": 15, "evaluate": 10, "train_loop": 20, "checkpoint": 10, "plots": 5, "seeds": 10, "training": 15}

# Loaded first by every interpreter started here: a download attempt fails loudly.
NETWORK_CUT = """
import socket

def _refuse(*args, **kwargs):
    raise RuntimeError("network access attempted")

socket.socket.connect = _refuse
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
"""


@pytest.fixture(scope="module")
def reference_result():
    return grade_in_subprocess(SPEC.spec_file, SPEC.reference_dir)


@pytest.fixture(scope="module")
def notebook_result(tmp_path_factory: pytest.TempPathFactory):
    """The reference submitted as a notebook: the template notebook's layout, the reference's code."""
    path = tmp_path_factory.mktemp("cifar-notebook") / "cifar_pipeline.ipynb"
    path.write_text(build_notebook(folder_files(REFERENCE, SPEC.files), title=SPEC.title), encoding="utf-8")
    return grade_in_subprocess(SPEC.spec_file, path)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The public synthetic set in ``data/`` and a network-cutting sitecustomize in ``site/``."""
    root = tmp_path_factory.mktemp("cifar-pipeline-run")
    packages.import_from(SPEC, "data").generate(root / "data", 0)
    (root / "site").mkdir()
    (root / "site" / "sitecustomize.py").write_text(NETWORK_CUT)
    return root


def _run(workdir: Path, args: list[str]) -> str:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(workdir / "site"), str(REFERENCE)]),
        "CIFAR_DATA": str(workdir / "data"),
        "MPLBACKEND": "Agg",
    }
    proc = subprocess.run([sys.executable, *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{args} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def test_the_spec_has_the_eight_parts() -> None:
    assert {p.name: p.points for p in SPEC.parts} == PARTS
    assert SPEC.max_score == 100


def test_reference_scores_full_marks_part_by_part(reference_result) -> None:
    result = reference_result
    assert result.errors == []
    failed = {t.name: t.message for t in result.tests if not t.passed}
    assert failed == {}
    assert {p.name: p.points for p in result.parts} == PARTS
    assert result.score == result.max_score == 100
    assert {t.visibility for t in result.tests} == {"public", "hidden"}


def test_the_reference_as_a_notebook_scores_exactly_what_the_folder_scores(reference_result, notebook_result) -> None:
    assert notebook_result.errors == []
    assert notebook_result.metadata["intake"]["kind"] == "notebook"
    assert notebook_result.score == reference_result.score == 100
    assert {p.name: p.points for p in notebook_result.parts} == {p.name: p.points for p in reference_result.parts}
    outcome = lambda result: {t.nodeid: (t.outcome, t.points) for t in result.tests}  # noqa: E731
    assert outcome(notebook_result) == outcome(reference_result)


def test_the_template_notebook_holds_the_template_files() -> None:
    notebook = SPEC.template_dir / "cifar_pipeline.ipynb"
    extracted = extract_files(json.loads(notebook.read_text(encoding="utf-8")))
    assert extracted.skipped == []
    assert set(SPEC.files) <= set(extracted.files)
    for name, text in extracted.files.items():
        assert text == (SPEC.template_dir / name).read_text(encoding="utf-8"), name
    assert "raise NotImplementedError" in extracted.files["train.py"]


def test_data_and_model_mains_read_the_synthetic_layout_offline(workdir: Path) -> None:
    out = _run(workdir, [str(REFERENCE / "data.py")])
    assert "training images per class: airplane 300" in out
    assert "train 2400, val 600, test 600" in out
    assert "one training image: (3, 32, 32) torch.float32" in out
    assert (workdir / "class_samples.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (workdir / "class_histogram.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    out = _run(workdir, [str(REFERENCE / "model.py")])
    assert "MyNet: 541094 learnable parameters" in out and "MyNetRegularized: 540696 learnable parameters" in out


def test_the_loaders_augment_training_images_only(workdir: Path) -> None:
    code = (
        "import torch, data\n"
        "tr, va, te = data.make_loaders(batch_size=32)\n"
        "x, y = next(iter(tr))\n"
        "v1 = torch.cat([b for b, _ in va]); v2 = torch.cat([b for b, _ in va])\n"
        "print(tuple(x.shape), x.dtype, len(tr.dataset), len(va.dataset), len(te.dataset), torch.equal(v1, v2), sep='|')\n"
    )
    shape, dtype, n_train, n_val, n_test, same = _run(workdir, ["-c", code]).strip().split("|")
    assert (shape, dtype) == ("(32, 3, 32, 32)", "torch.float32")
    assert (n_train, n_val, n_test) == ("2400", "600", "600")
    assert same == "True"  # the validation images are never augmented
