"""The synthetic CIFAR-10: torchvision's batch layout, deterministic, loadable, and fair.

Fair means: a classifier on per-image colour statistics stays near chance, while a small CNN
trained a few epochs on the CPU separates the ten shapes.
"""

from __future__ import annotations

import hashlib
import importlib.util
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from grader.synthetic import cifar10

ROOT = Path(__file__).resolve().parents[1]
BATCH_FILES = (*cifar10.TRAIN_FILES, cifar10.TEST_FILE, cifar10.META_FILE)


def _assignment_data():  # assignments/mytorch_conv/data.py, imported by path
    spec = importlib.util.spec_from_file_location(
        "mytorch_conv_data", ROOT / "assignments" / "mytorch_conv" / "data.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


data_mod = _assignment_data()


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return data_mod.generate(tmp_path_factory.mktemp("cifar") / "data", seed=0)


@pytest.fixture(scope="module")
def heldout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return data_mod.generate(tmp_path_factory.mktemp("cifar-heldout") / "data", seed=1)


@pytest.fixture(scope="module")
def data(public: Path, heldout: Path):
    return data_mod.training_data(public, heldout)


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def _unpickle(path: Path, encoding: str) -> dict:
    with open(path, "rb") as f:  # files this test wrote itself
        return pickle.load(f, encoding=encoding)


def test_the_layout_and_keys_are_cifar10s(public: Path) -> None:
    folder = public / "cifar-10-batches-py"
    assert sorted(p.name for p in folder.iterdir()) == sorted(BATCH_FILES)
    x, y = cifar10.load_batches(public, "train")
    start = 0
    for k, name in enumerate(cifar10.TRAIN_FILES):
        batch = _unpickle(folder / name, "bytes")  # the CIFAR web page's `unpickle`
        assert set(batch) == {b"batch_label", b"labels", b"data", b"filenames"}
        assert batch[b"batch_label"] == f"training batch {k + 1} of 5".encode()
        data = batch[b"data"]
        assert data.dtype == np.uint8 and data.shape == (600, 3072)
        assert isinstance(batch[b"labels"], list) and all(type(c) is int for c in batch[b"labels"])
        assert len(batch[b"filenames"]) == 600 and all(
            isinstance(n, bytes) for n in batch[b"filenames"]
        )
        # rows are channel-major: the R plane, then G, then B
        img = x[start]
        assert np.array_equal(data[0, :1024].reshape(32, 32), img[..., 0])
        assert np.array_equal(data[0], img.transpose(2, 0, 1).ravel())
        assert batch[b"labels"] == y[start : start + 600].tolist()
        start += 600
    assert np.bincount(y).tolist() == [300] * 10
    # every batch holds a mix of classes (the images are shuffled, not sorted by class)
    assert all(len(set(y[k * 600 : (k + 1) * 600].tolist())) == 10 for k in range(5))
    test = _unpickle(folder / "test_batch", "bytes")
    assert test[b"data"].shape == (600, 3072)
    assert np.bincount(test[b"labels"]).tolist() == [60] * 10
    meta = _unpickle(folder / "batches.meta", "bytes")
    assert meta == {
        b"num_cases_per_batch": 600,
        b"label_names": [c.encode() for c in cifar10.CLASSES],
        b"num_vis": 3072,
    }
    # as in the real (Python 2) files, strings read as `str` under latin1 (torchvision's way)
    latin = _unpickle(folder / "data_batch_1", "latin1")
    assert set(latin) == {"batch_label", "labels", "data", "filenames"}
    assert isinstance(latin["filenames"][0], str)


def test_the_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    def gen(name: str, seed: int) -> Path:
        return cifar10.generate_cifar(tmp_path / name, seed, train_per_class=10, test_per_class=5)

    a, b, c = gen("a", 3), gen("b", 3), gen("c", 4)
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(c)
    for name in BATCH_FILES:
        assert (a / "cifar-10-batches-py" / name).read_bytes() == (
            b / "cifar-10-batches-py" / name
        ).read_bytes()
    # write_batches itself is deterministic for the same arrays
    x, y = cifar10.load_batches(a, "train")
    xt, yt = cifar10.load_batches(a, "test")
    d = cifar10.write_batches(tmp_path / "d", (x, y), (xt, yt))
    assert _digest(d) == _digest(a)


def test_render_is_a_function_of_the_generator() -> None:
    for label in range(10):
        one = cifar10.render(label, np.random.default_rng([7, label]))
        two = cifar10.render(label, np.random.default_rng([7, label]))
        assert one.shape == (32, 32, 3) and one.dtype == np.uint8
        assert np.array_equal(one, two)


def test_write_batches_refuses_bad_input(tmp_path: Path) -> None:
    x = np.zeros((12, 32, 32, 3), np.uint8)
    y = np.zeros(12, np.int64)
    with pytest.raises(ValueError, match="5 equal batches"):
        cifar10.write_batches(tmp_path, (x[:12], y[:12]), (x[:2], y[:2]))
    with pytest.raises(ValueError, match="uint8"):
        cifar10.write_batches(tmp_path, (x[:10].astype(np.float32), y[:10]), (x[:2], y[:2]))
    with pytest.raises(ValueError, match="size"):
        data_mod.generate(tmp_path, size="huge")
    with pytest.raises(ValueError, match="split"):
        cifar10.load_batches(tmp_path, "val")


def test_torchvision_reads_it_with_the_md5_checks_off(public: Path) -> None:
    from torchvision.datasets import CIFAR10

    # torchvision checks the original files' MD5s even with download=False
    with pytest.raises(RuntimeError, match="not found or corrupted"):
        CIFAR10(public, train=True, download=False)
    for train, split in ((True, "train"), (False, "test")):
        ds = cifar10.SyntheticCIFAR10(public, train=train, download=False)
        x, y = cifar10.load_batches(public, split)
        assert isinstance(ds, CIFAR10)
        assert np.array_equal(ds.data, x) and ds.targets == y.tolist()
        assert ds.classes == list(cifar10.CLASSES)
        img, label = ds[5]
        assert img.size == (32, 32) and np.array_equal(np.asarray(img), x[5]) and label == y[5]
    with pytest.raises(RuntimeError, match="not found"):
        cifar10.SyntheticCIFAR10(public / "elsewhere", train=True, download=True)


def test_training_data_is_normalised_by_the_training_images(data, heldout: Path) -> None:
    assert data.x_train.shape == (3000, 3, 32, 32) and data.x_train.dtype == torch.float32
    assert data.x_stop.shape == (600, 3, 32, 32) and data.x_heldout.shape == (600, 3, 32, 32)
    assert data.y_train.dtype == torch.int64 and data.y_heldout.dtype == np.int64
    assert torch.allclose(data.x_train.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-4)
    assert torch.allclose(data.x_train.std(dim=(0, 2, 3)), torch.ones(3), atol=1e-3)
    x, y = cifar10.load_batches(heldout, "test")
    assert np.array_equal(data.y_heldout, y)
    assert not np.array_equal(data.y_stop, data.y_heldout)  # another seed's shuffle


def _colour_features(x: np.ndarray) -> np.ndarray:
    z = x.astype(np.float64) / 255.0
    return np.concatenate([z.mean(axis=(1, 2)), z.std(axis=(1, 2))], axis=1)


def test_mean_colour_says_nothing_about_the_class(public: Path, heldout: Path) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = cifar10.load_batches(public, "train")
    xh, yh = cifar10.load_batches(heldout, "test")
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    clf.fit(_colour_features(x), y)
    assert clf.score(_colour_features(xh), yh) < 0.25


def test_a_small_cnn_learns_the_shapes(data) -> None:
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 16, 5),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 5),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(32 * 5 * 5, 10),
    )
    opt = torch.optim.SGD(net.parameters(), lr=0.02, momentum=0.9)
    crit = torch.nn.CrossEntropyLoss()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small batches: one thread is as fast, and fair to a busy host
    try:
        for _ in range(3):
            net.train()
            perm = torch.randperm(len(data.y_train))
            for i in range(0, len(perm), 64):
                b = perm[i : i + 64]
                opt.zero_grad()
                crit(net(data.x_train[b]), data.y_train[b]).backward()
                opt.step()
        net.eval()
        with torch.no_grad():
            pred = net(data.x_heldout).argmax(1).numpy()
    finally:
        torch.set_num_threads(threads)
    acc = float((pred == data.y_heldout).mean())
    assert acc >= 0.6, acc
    # every class is learnt, not just most of them
    per_class = [float((pred[data.y_heldout == c] == c).mean()) for c in range(10)]
    assert min(per_class) >= 0.3, per_class
