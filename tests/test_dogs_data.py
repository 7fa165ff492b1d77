"""The synthetic dogs data set: the real ImageFolder layout, deterministic, and fair.

Fair means: a classifier on per-image colour statistics stays near chance, while the
reference `Net`, trained a few epochs on the CPU, separates the breeds; and on the imbalanced
cats and dogs the weighted loss recalls dogs that plain cross-entropy misses.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from grader.runner import packages
from grader.spec import Project

ROOT = Path(__file__).resolve().parents[1]
SPEC = Project.discover(ROOT).load("dogs")
gen = packages.import_from(SPEC, "data")  # assignments/dogs/data.py


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return gen.generate(tmp_path_factory.mktemp("dogs") / "data", seed=0)


@pytest.fixture(scope="module")
def heldout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return gen.generate(tmp_path_factory.mktemp("dogs-heldout") / "data", seed=1)


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def _reference_net(num_classes: int = 5) -> torch.nn.Module:
    spec = importlib.util.spec_from_file_location("dogs_reference_model", ROOT / "reference" / "dogs" / "model.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    net = module.Net()
    if num_classes != 5:
        net.fc2 = torch.nn.Linear(64, num_classes)
    return net


def _train(data, net: torch.nn.Module, *, epochs: int, weight: list[float] | None = None, seed: int = 0) -> list[np.ndarray]:
    """SGD (lr 0.01, momentum 0.9, batches of 32); the held-out predictions after each epoch."""
    torch.manual_seed(seed)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    crit = torch.nn.CrossEntropyLoss(weight=None if weight is None else torch.tensor(weight))
    out = []
    for _ in range(epochs):
        net.train()
        perm = torch.randperm(len(data.y_train))
        for i in range(0, len(perm), 32):
            b = perm[i : i + 32]
            opt.zero_grad()
            crit(net(data.x_train[b]), data.y_train[b]).backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            out.append(net(data.x_heldout).argmax(1).numpy())
    return out


def test_the_layout_is_torchvisions_imagefolder(public: Path) -> None:
    from torchvision.datasets import ImageFolder

    train = ImageFolder(public / "dogs" / "train")
    assert tuple(train.classes) == gen.BREEDS == tuple(sorted(gen.BREEDS))
    assert np.bincount(train.targets).tolist() == [120] * 5
    assert np.bincount(ImageFolder(public / "dogs" / "val").targets).tolist() == [40] * 5
    assert {im.size for im, _ in (train[i] for i in range(0, len(train), 50))} == {(224, 224)}
    for split, counts in (("train", [200, 10]), ("val", [100, 10])):
        ds = ImageFolder(public / "dogcat" / split)
        assert ds.classes == ["cat", "dog"] and np.bincount(ds.targets).tolist() == counts
    sizes = [ImageFolder(public / "dogcat" / "train")[i][0].size for i in range(0, 210, 7)]
    assert min(min(s) for s in sizes) < 224 < max(max(s) for s in sizes)  # around 224, some below
    assert not list(public.rglob("*.tmp")) and all(p.suffix == ".jpg" for p in public.rglob("*") if p.is_file())


def test_the_same_seed_gives_the_same_bytes(public: Path, heldout: Path, tmp_path: Path) -> None:
    again = gen.generate(tmp_path / "again", seed=0)
    assert _digest(again) == _digest(public)
    assert _digest(heldout) != _digest(public)


def test_loading_matches_torchvisions_resize_and_the_statistics_definition(public: Path) -> None:
    from torchvision import transforms
    from torchvision.datasets import ImageFolder

    pipeline = transforms.Compose([transforms.Resize((32, 32)), transforms.ToTensor()])
    ds = ImageFolder(public / "dogs" / "train", transform=pipeline)
    want = torch.stack([ds[i][0] for i in range(len(ds))])
    x, y = gen.load_images(public / "dogs" / "train")
    assert torch.equal(torch.from_numpy(x).permute(0, 3, 1, 2).float() / 255, want)
    assert y.tolist() == ds.targets
    mean, std = gen.train_statistics(public)
    assert np.allclose(mean, want.mean(dim=(0, 2, 3)).numpy(), atol=1e-6)
    assert np.allclose(std, want.transpose(0, 1).reshape(3, -1).std(dim=1, unbiased=False).numpy(), atol=1e-6)


def test_colour_statistics_alone_stay_near_chance(public: Path, heldout: Path) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    def features(root: Path) -> tuple[np.ndarray, np.ndarray]:
        x, y = gen.load_images(root, size=None)
        x = x.astype(np.float64)
        return np.concatenate([x.mean(axis=(1, 2)), x.std(axis=(1, 2))], axis=1), y

    (a, ya), (b, yb) = features(public / "dogs" / "train"), features(heldout / "dogs" / "val")
    scale = StandardScaler().fit(a)
    clf = LogisticRegression(max_iter=2000).fit(scale.transform(a), ya)
    assert clf.score(scale.transform(b), yb) < 0.35  # chance is 0.2


def test_the_reference_net_learns_the_breeds_in_seconds(public: Path, heldout: Path) -> None:
    data = gen.breeds_training_data(public, heldout)
    assert data.x_train.shape == (600, 3, 32, 32) and data.x_heldout.shape == (200, 3, 32, 32)
    accuracy = [float((p == data.y_heldout).mean()) for p in _train(data, _reference_net(), epochs=10)]
    assert max(accuracy) >= 0.8, accuracy


def test_the_weighted_loss_recalls_the_rare_dogs(public: Path, heldout: Path) -> None:
    data = gen.dogcat_training_data(public, heldout)
    assert np.bincount(data.y_heldout).tolist() == [300, 20]

    def recall(weight: list[float] | None) -> float:
        runs = _train(data, _reference_net(2), epochs=6, weight=weight)
        return float(np.mean([(p[data.y_heldout == 1] == 1).mean() for p in runs]))

    assert recall([1.0, 20.0]) > recall(None) + 0.1


def test_with_a_real_data_set_only_its_validation_images_decide(public: Path) -> None:
    data = gen.dogcat_training_data(public, public)  # a real set: held-out folder = data folder
    assert np.bincount(data.y_heldout).tolist() == [100, 10]
    assert torch.equal(data.x_heldout, data.x_stop)
