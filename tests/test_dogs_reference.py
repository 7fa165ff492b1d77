"""The dogs reference solution as a student runs it: every `main()` works offline on data in the
real layout, checkpoints resume, and no code path tries the network (it is cut here)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reference" / "dogs"
BREEDS = ("beagle", "corgi", "dalmatian", "husky", "poodle")

# Loaded first by every interpreter started here: opening a connection or resolving a host
# name is an error, so a download attempt fails loudly instead of succeeding or hanging.
NETWORK_CUT = """
import socket

def _refuse(*args, **kwargs):
    raise RuntimeError("network access attempted")

socket.socket.connect = _refuse
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
"""


def _image(rng: np.random.Generator, h: int, w: int) -> Image.Image:
    return Image.fromarray(rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8), mode="RGB")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a tiny data set in the course's layout and a network-cutting sitecustomize."""
    root = tmp_path_factory.mktemp("dogs-run")
    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        for breed in BREEDS:
            for i in range(2):
                path = root / "data" / "dogs" / split / breed / f"{i}.jpg"
                path.parent.mkdir(parents=True, exist_ok=True)
                _image(rng, 40, 48).save(path)
        for cls, n in (("cat", 3), ("dog", 1)):
            for i in range(n):
                path = root / "data" / "dogcat" / split / cls / f"{i}.jpg"
                path.parent.mkdir(parents=True, exist_ok=True)
                _image(rng, int(rng.integers(150, 300)), int(rng.integers(150, 300))).save(path)
    (root / "site").mkdir()
    (root / "site" / "sitecustomize.py").write_text(NETWORK_CUT)
    return root


def _run(workdir: Path, script: str, *, epochs: int = 1, torch_home: Path | None = None) -> str:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(workdir / "site"), str(REFERENCE)]),
        "DOGS_DATA": str(workdir / "data"),
        "DOGS_EPOCHS": str(epochs),
        "TORCH_HOME": str(torch_home or workdir / "torch-empty"),
        "MPLBACKEND": "Agg",
    }
    proc = subprocess.run(
        [sys.executable, str(REFERENCE / script)], cwd=workdir, env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def test_the_network_is_cut_in_these_runs(workdir: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(workdir / "site")}
    code = "import urllib.request; urllib.request.urlopen('http://example.com', timeout=5)"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "network access attempted" in proc.stderr


def test_dataset_and_model_mains(workdir: Path) -> None:
    out = _run(workdir, "dataset.py")
    assert "dogs/train: beagle 2" in out and "dogcat/train: cat 3, dog 1" in out
    assert "303397 learnable parameters" in _run(workdir, "model.py")


def test_train_main_saves_checkpoints_and_resumes(workdir: Path) -> None:
    out = _run(workdir, "train.py", epochs=1)
    assert "epoch   1" in out and (workdir / "dogs_training.png").stat().st_size > 0
    assert (workdir / "checkpoints" / "net" / "epoch=1.checkpoint.pth.tar").is_file()
    out = _run(workdir, "train.py", epochs=2)
    assert "resuming after epoch 1" in out and "epoch   2" in out and "epoch   1:" not in out


def test_transfer_and_imbalance_mains_run_offline_without_weights(workdir: Path) -> None:
    out = _run(workdir, "transfer.py")
    assert "not cached; random initialisation" in out and "val accuracy after 1 epochs" in out
    out = _run(workdir, "imbalance.py")
    assert "unweighted: cat acc" in out and "weighted: cat acc" in out


def test_cached_weights_are_loaded_without_the_network(workdir: Path, tmp_path: Path) -> None:
    import torch
    from torchvision.models import resnet18

    torch.manual_seed(3)
    weights = resnet18(weights=None).state_dict()
    cache = tmp_path / "torch" / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    torch.save(weights, cache / "resnet18-f37072fd.pth")
    code = (
        "import torch, transfer; m = transfer.load_pretrained(3); "
        "print(transfer.local_weights() is not None, tuple(m.fc.weight.shape), float(m.conv1.weight.sum()), sep='|')"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(workdir / "site"), str(REFERENCE)]), "TORCH_HOME": str(tmp_path / "torch")}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    cached, fc_shape, conv_sum = proc.stdout.strip().split("|")
    assert (cached, fc_shape) == ("True", "(3, 512)")
    assert float(conv_sum) == pytest.approx(float(weights["conv1.weight"].sum()), rel=1e-6)
