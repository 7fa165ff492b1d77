"""The synthetic Flowers102 of the `perceptual` assignment: torchvision's layout, deterministic,
sizes like the real photographs', and loadable by torchvision's own `Flowers102` code."""

from __future__ import annotations

import hashlib
import importlib.util
import io
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from grader.runner import packages
from grader.spec import Project

ROOT = Path(__file__).resolve().parents[1]
SPEC = Project.discover(ROOT).load("perceptual")
gen = packages.import_from(SPEC, "data")  # assignments/perceptual/data.py


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return gen.generate(tmp_path_factory.mktemp("flowers") / "data", seed=0)


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def _mat(path: Path) -> dict:
    from scipy.io import loadmat

    return loadmat(path, squeeze_me=True)


def test_the_layout_is_flowers102s(public: Path) -> None:
    base = public / "flowers-102"
    files = sorted(p.name for p in (base / "jpg").iterdir())
    n = 3 * 102
    assert files == [f"image_{i:05d}.jpg" for i in range(1, n + 1)]
    assert sorted(p.name for p in base.iterdir()) == ["imagelabels.mat", "jpg", "setid.mat"]
    labels = _mat(base / "imagelabels.mat")["labels"]
    assert labels.shape == (n,) and labels.dtype == np.uint8
    assert Counter(labels.tolist()) == dict.fromkeys(range(1, 103), 3)
    assert not np.array_equal(labels, np.sort(labels))  # ids are not grouped by class
    setid = _mat(base / "setid.mat")
    splits = {k: setid[k].tolist() for k in ("trnid", "valid", "tstid")}
    assert sorted(sum(splits.values(), [])) == list(range(1, n + 1))  # a partition of the ids
    for ids in splits.values():  # one image of each class per split
        assert sorted(labels[np.asarray(ids) - 1].tolist()) == list(range(1, 103))
    with open(base / "setid.mat", "rb") as f:
        assert f.read(116).startswith(b"MATLAB 5.0 MAT-file")


def test_resolutions_are_like_the_real_photographs(public: Path) -> None:
    sizes = []
    for path in sorted((public / "flowers-102" / "jpg").glob("*.jpg")):
        with Image.open(path) as img:
            assert img.format == "JPEG" and img.mode == "RGB"
            sizes.append(img.size)
    assert all(min(s) == 500 and 500 <= max(s) <= 750 for s in sizes)
    assert any(w > h for w, h in sizes) and any(h > w for w, h in sizes)  # landscape and portrait
    counts = Counter(sizes)
    assert len(counts) >= 20 and counts.most_common(1)[0][1] >= 5  # varied, with repeated sizes
    assert sizes == [(f.width, f.height) for f in gen.plan(0)]
    assert gen.read_summary(public) == gen.expected_summary([f.label for f in gen.plan(0)], sizes)


def test_the_same_seed_gives_the_same_bytes(public: Path, tmp_path: Path) -> None:
    assert _digest(gen.generate(tmp_path / "again", seed=0)) == _digest(public)
    other = gen.generate(tmp_path / "other", seed=1)
    assert _digest(other) != _digest(public)
    assert gen.plan(1) != gen.plan(0)
    (tmp_path / "again" / "flowers-102" / "jpg" / "image_99999.jpg").write_bytes(b"stale")
    assert _digest(gen.generate(tmp_path / "again", seed=0)) == _digest(public)  # stale files go


def test_torchvision_reads_it_with_the_md5_checks_off(public: Path, tmp_path: Path) -> None:
    from torchvision.datasets import Flowers102

    # torchvision checks the original .mat files' MD5s even with download=False
    with pytest.raises(RuntimeError, match="not found or corrupted"):
        Flowers102(public, download=False)
    labels = _mat(public / "flowers-102" / "imagelabels.mat")["labels"]
    setid = _mat(public / "flowers-102" / "setid.mat")
    plan = gen.plan(0)
    for split, key in (("train", "trnid"), ("val", "valid"), ("test", "tstid")):
        ds = gen.SyntheticFlowers102(public, split=split, download=False)
        assert isinstance(ds, Flowers102) and len(ds) == 102
        for k in (0, 51, 101):
            image_id = int(setid[key][k])
            img, label = ds[k]
            assert label == int(labels[image_id - 1]) - 1  # torchvision's labels are 0-based
            assert img.size == (plan[image_id - 1].width, plan[image_id - 1].height)
    with pytest.raises(RuntimeError, match="not found"):
        gen.SyntheticFlowers102(tmp_path / "elsewhere", download=True)


def test_the_handouts_loader_and_summary_read_it(public: Path) -> None:
    spec = importlib.util.spec_from_file_location("perceptual_reference_summary", ROOT / "reference" / "perceptual" / "data_summary.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert len(module.flowers102(public, "val")) == 102
    got = module.summarize(public)
    assert got == gen.read_summary(public) and got["n_images"] == 306 and got["n_classes"] == 102


def test_header_only_jpegs_have_a_size_but_no_pixels() -> None:
    data = gen.header_only_jpeg(667, 500)
    assert len(data) < 1500
    with Image.open(io.BytesIO(data)) as img:
        assert img.size == (667, 500)
        with pytest.raises(OSError, match="truncated"):
            img.load()


def test_flowers_files_and_sizes() -> None:
    files = gen.flowers_files([gen.jpeg_bytes(np.zeros((4, 6, 3), np.uint8))] * 2, [7, 9], {"trnid": [1], "tstid": [2]})
    assert sorted(files) == ["flowers-102/imagelabels.mat", "flowers-102/jpg/image_00001.jpg", "flowers-102/jpg/image_00002.jpg", "flowers-102/setid.mat"]
    assert gen.mat_bytes({"a": np.ones((1, 2))}) == gen.mat_bytes({"a": np.ones((1, 2))})
    with pytest.raises(ValueError, match="labels"):
        gen.flowers_files([b""], [1, 2], {})
    with pytest.raises(ValueError, match="size"):
        gen.plan(0, "huge")
    assert len(gen.plan(0, "full")) == 20 * 102
