"""A synthetic CIFAR-10, written in torchvision's exact ``cifar-10-batches-py`` layout.

``generate_cifar(root, seed, train_per_class=..., test_per_class=...)`` draws 32×32 RGB
images of ten classes (named as CIFAR-10's) and writes them as the real data set's pickle
batches (``data_batch_1`` … ``data_batch_5``, ``test_batch``, ``batches.meta``), so the
assignment's own loading code is what runs.

How the classes are made fair:

- A class is a *shape*: a plus (airplane), a ring (automobile), a triangle (bird), a pair of
  bars (cat), a diamond (deer), a disc of diagonal stripes (dog), a square checker (frog), a
  T (horse), an L (ship), an arrow (truck), drawn at a random position, scale, aspect and a
  small rotation, anti-aliased (2×2 supersampling).
- The foreground and background colours are drawn independently from the *same*
  distribution whatever the class (uniform RGB, with a minimum luminance contrast that is
  symmetric in the two), then the same lighting gradient, gain and pixel noise are applied.
  The expected per-image mean colour is therefore the same for every class.
- The shape's *area* is drawn from the same distribution for every class (its scale is
  solved from it), so the spread of the colours within an image says (almost) nothing about
  the class either: a classifier on per-image colour mean and std stays near chance, while a
  small CNN learns the shapes in a few epochs on the CPU.

Everything comes from a ``numpy.random.Generator`` seeded per image from ``(seed, split,
class, index)``; the order of the images in the batches is a permutation seeded from
``(seed, split)``; the pickles are written by a fixed pickler, so the same seed gives
byte-identical files.

Why the pickles are written the way they are: the real files were written by Python 2, whose
``str`` keys and values (``"data"``, ``"labels"``, the file names, the label names) unpickle
as ``str`` under ``encoding="latin1"`` (what torchvision's ``CIFAR10`` uses, indexing
``entry["data"]``) and as ``bytes`` under ``encoding="bytes"`` (what the CIFAR web page's
``unpickle`` snippet uses, indexing ``d[b"data"]``). Python 3's ``pickle.dump`` of ``bytes``
(protocol 2) always unpickles as ``bytes``, which torchvision cannot index, so `write_batches`
uses a protocol-2 pickler that writes ``bytes`` as Python 2 strings (``SHORT_BINSTRING`` /
``BINSTRING``), exactly like the real files; both readers then work.

torchvision's ``CIFAR10`` checks the MD5 of every real file in its constructor (also with
``download=False``) and raises "Dataset not found or corrupted" for any other content, so it
cannot load these (or any non-original) files as such. `SyntheticCIFAR10` is the honest
stand-in: ``CIFAR10`` itself, with the per-file MD5s replaced by ``None`` (torchvision's
``check_integrity`` then checks only that each file exists); everything else, the reading
included, is torchvision's own code.

Below the generator is the trusted loader the grader's tests use (`load_batches`).
"""

from __future__ import annotations

import functools
import io
import pickle
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
IMAGE_SIZE = 32
BASE_FOLDER = "cifar-10-batches-py"
TRAIN_FILES = tuple(f"data_batch_{k}" for k in range(1, 6))
TEST_FILE = "test_batch"
META_FILE = "batches.meta"
SPLITS = ("train", "test")

_SS = 2  # supersampling factor (anti-aliasing)
_AREA = (0.10, 0.20)  # the shape's area, as a fraction of the image, uniform in this range
_ASPECT = 0.15  # x and y scales each jittered by a factor in 1 ± this
_ROTATION = np.deg2rad(15.0)  # uniform in ± this
_CONTRAST = 60.0  # minimum |luminance(fg) - luminance(bg)|
_SPLIT_ID = {"train": 1, "test": 2}

Glyph = Callable[[np.ndarray, np.ndarray, np.random.Generator], np.ndarray]


# --------------------------------------------------------------------------- glyphs
# Each maps local coordinates (x right, y down; the shape spans about [-1, 1]²) to a boolean
# mask. A glyph may draw a phase from `rng` (the textures do).


def _plus(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    ax, ay = np.abs(x), np.abs(y)
    return ((ax <= 0.28) & (ay <= 1.0)) | ((ay <= 0.28) & (ax <= 1.0))


def _ring(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    r2 = x * x + y * y
    return (r2 <= 1.0) & (r2 >= 0.55**2)


def _triangle(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Pointing up: apex at (0, -1), base at y = 0.8, half as wide as it is tall."""
    return (y <= 0.8) & (np.abs(x) <= (y + 1.0) / 1.8)


def _bar_pair(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    ay = np.abs(y)
    return (np.abs(x) <= 1.0) & (ay >= 0.3) & (ay <= 0.85)


def _diamond(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.abs(x) + np.abs(y) <= 1.0


def _stripes(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A disc of stripes at 45° (down to the right), period 0.6, random phase."""
    t = (x - y) * (1.0 / (0.6 * np.sqrt(2.0))) + rng.uniform()
    return (x * x + y * y <= 1.0) & (t - np.floor(t) < 0.5)


def _checker(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A square of 4×4 cells (cell 0.45), aligned with the square."""
    a = np.floor((x + 0.9) / 0.45) + np.floor((y + 0.9) / 0.45)
    return (np.abs(x) <= 0.9) & (np.abs(y) <= 0.9) & (np.mod(a, 2.0) == 0.0)


def _tee(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    ax, ay = np.abs(x), np.abs(y)
    return ((ax <= 1.0) & (np.abs(y + 0.75) <= 0.25)) | ((ax <= 0.27) & (ay <= 1.0))


def _ell(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    ax, ay = np.abs(x), np.abs(y)
    return ((np.abs(x + 0.73) <= 0.27) & (ay <= 1.0)) | ((np.abs(y - 0.73) <= 0.27) & (ax <= 1.0))


def _arrow(x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Pointing right: a shaft from x = -1 and a head from x = 0.05 to the tip at x = 1."""
    ay = np.abs(y)
    shaft = (x >= -1.0) & (x <= 0.1) & (ay <= 0.22)
    head = (x >= 0.05) & (ay <= (1.0 - x) * (0.8 / 0.95))
    return shaft | head


GLYPHS: tuple[Glyph, ...] = (
    _plus,
    _ring,
    _triangle,
    _bar_pair,
    _diamond,
    _stripes,
    _checker,
    _tee,
    _ell,
    _arrow,
)


@functools.cache
def _unit_geometry() -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Each glyph's area and bounding radius at unit scale (textures: averaged over phases)."""
    n = 400
    c = (np.arange(n) + 0.5) / n * 3.0 - 1.5
    x, y = np.meshgrid(c, c)
    cell = (3.0 / n) ** 2
    rng = np.random.default_rng(0)
    areas, radii = [], []
    for glyph in GLYPHS:
        masks = [glyph(x, y, rng) for _ in range(8)]
        areas.append(float(np.mean([m.sum() for m in masks])) * cell)
        on = np.logical_or.reduce(masks)
        radii.append(float(np.sqrt((x[on] ** 2 + y[on] ** 2).max())))
    return tuple(areas), tuple(radii)


# --------------------------------------------------------------------------- rendering

_LUM = np.array([0.299, 0.587, 0.114])
_SUB = (np.arange(IMAGE_SIZE * _SS) + 0.5) / _SS  # supersample centres, in pixels
_SUB_X, _SUB_Y = np.meshgrid(_SUB, _SUB)
_PIX = (np.arange(IMAGE_SIZE) + 0.5) / IMAGE_SIZE - 0.5  # pixel centres, relative, ±0.5


def _colours(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Background and foreground colours, i.i.d. uniform RGB, with a luminance contrast."""
    while True:
        bg, fg = rng.uniform(0.0, 255.0, size=(2, 3))
        if abs(float(_LUM @ (fg - bg))) >= _CONTRAST:
            return bg, fg


def render(label: int, rng: np.random.Generator) -> np.ndarray:
    """One 32×32×3 uint8 image of class `label` (an index into `CLASSES`)."""
    areas, radii = _unit_geometry()
    glyph = GLYPHS[label]
    bg, fg = _colours(rng)
    area = rng.uniform(*_AREA) * IMAGE_SIZE * IMAGE_SIZE
    sx, sy = rng.uniform(1.0 - _ASPECT, 1.0 + _ASPECT, size=2)
    s = np.sqrt(area / (areas[label] * sx * sy))  # pixels per unit
    theta = rng.uniform(-_ROTATION, _ROTATION)
    reach = radii[label] * s * max(sx, sy)
    lo, hi = reach, IMAGE_SIZE - reach
    cx, cy = (rng.uniform(lo, hi) if hi > lo else IMAGE_SIZE / 2 for _ in range(2))
    dx, dy = _SUB_X - cx, _SUB_Y - cy
    cos, sin = np.cos(theta), np.sin(theta)
    x = (cos * dx + sin * dy) / (s * sx)
    y = (cos * dy - sin * dx) / (s * sy)
    sub = glyph(x, y, rng).astype(np.float32)
    m = sub.reshape(IMAGE_SIZE, _SS, IMAGE_SIZE, _SS).mean(axis=(1, 3))[..., None]
    g = rng.normal(0.0, 12.0, size=(2, 3))
    back = bg + _PIX[:, None, None] * g[0] + _PIX[None, :, None] * g[1]
    img = back * (1.0 - m) + fg * m
    gain = rng.uniform(0.8, 1.2)
    img = (img - 128.0) * gain + 128.0 + rng.normal(0.0, 10.0)
    img += rng.standard_normal(img.shape) * 8.0
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def draw(seed: int, split: str, per_class: int) -> tuple[np.ndarray, np.ndarray]:
    """`per_class` images of every class for `split`, shuffled: N×32×32×3 uint8, N int64."""
    sid = _SPLIT_ID[split]
    images = np.empty((per_class * len(CLASSES), IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    labels = np.repeat(np.arange(len(CLASSES), dtype=np.int64), per_class)
    for k, label in enumerate(labels):
        rng = np.random.default_rng([int(seed), sid, int(label), k % per_class])
        images[k] = render(int(label), rng)
    order = np.random.default_rng([int(seed), sid]).permutation(len(labels))
    return images[order], labels[order]


# --------------------------------------------------------------------------- writing


class _Py2Pickler(pickle._Pickler):  # the pure-Python pickler: its dispatch table is a dict
    """Protocol 2, writing ``bytes`` as Python 2 ``str`` (as the real CIFAR files hold them)."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2_str(self, obj: bytes) -> None:
        n = len(obj)
        if n < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([n]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", n) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str


def _dump(obj: dict[bytes, Any], path: Path) -> None:
    buf = io.BytesIO()
    _Py2Pickler(buf, protocol=2).dump(obj)
    path.write_bytes(buf.getvalue())


def _batch(label: str, images: np.ndarray, labels: np.ndarray, first: int) -> dict[bytes, Any]:
    data = np.ascontiguousarray(images.transpose(0, 3, 1, 2)).reshape(len(images), -1)
    names = [f"{CLASSES[int(c)]}_s_{first + i:06d}.png".encode() for i, c in enumerate(labels)]
    return {
        b"batch_label": label.encode(),
        b"labels": [int(c) for c in labels],
        b"data": data,
        b"filenames": names,
    }


def write_batches(
    root: Path | str,
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray],
) -> Path:
    """Write `train` and `test` (N×32×32×3 uint8 images, N labels) as CIFAR-10's batches.

    Files: ``root/cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}``; the
    training images are split, in order, into five equal batches. Each batch is a dict with
    ``batch_label``, ``labels`` (list of int), ``data`` (N×3072 uint8, rows channel-major: the
    R plane, then G, then B, each row-major) and ``filenames``; the meta file has
    ``label_names``, ``num_cases_per_batch`` and ``num_vis``. Returns ``root``.
    """
    root = Path(root)
    folder = root / BASE_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    for name, (x, y) in (("train", train), ("test", test)):
        if x.dtype != np.uint8 or x.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE, 3) or len(x) != len(y):
            raise ValueError(f"{name}: expected N×32×32×3 uint8 images and N labels")
    x_tr, y_tr = train
    if len(x_tr) % len(TRAIN_FILES):
        raise ValueError(f"the training set ({len(x_tr)}) must split into 5 equal batches")
    per = len(x_tr) // len(TRAIN_FILES)
    for k, fname in enumerate(TRAIN_FILES):
        part = slice(k * per, (k + 1) * per)
        label = f"training batch {k + 1} of {len(TRAIN_FILES)}"
        _dump(_batch(label, x_tr[part], y_tr[part], k * per), folder / fname)
    x_te, y_te = test
    _dump(_batch("testing batch 1 of 1", x_te, y_te, 0), folder / TEST_FILE)
    meta = {
        b"num_cases_per_batch": per,
        b"label_names": [c.encode() for c in CLASSES],
        b"num_vis": IMAGE_SIZE * IMAGE_SIZE * 3,
    }
    _dump(meta, folder / META_FILE)
    return root


def generate_cifar(
    root: Path | str, seed: int, *, train_per_class: int, test_per_class: int
) -> Path:
    """Draw the synthetic CIFAR-10 for `seed` and write it under `root` (see `write_batches`).

    The training set must split into five equal batches (10 · `train_per_class` divisible by
    5, always true). The same seed gives byte-identical files. Returns ``root``.
    """
    train = draw(seed, "train", train_per_class)
    test = draw(seed, "test", test_per_class)
    return write_batches(root, train, test)


# --------------------------------------------------------------------------- trusted loading


def load_batches(root: Path | str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Images (N×32×32×3 uint8, HWC) and labels (N int64) of `split` ("train" or "test").

    Reads ``root/cifar-10-batches-py`` as written by `write_batches`, in torchvision's order
    (``data_batch_1`` … ``data_batch_5`` for "train").
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    files = TRAIN_FILES if split == "train" else (TEST_FILE,)
    images, labels = [], []
    for fname in files:
        # Unpickling runs code named in the file, so it is safe only on trusted files: these
        # are the ones the grader itself wrote (`generate_cifar`) into its own data folder.
        # Never call this on files a submission wrote or could have changed.
        with open(Path(root) / BASE_FOLDER / fname, "rb") as f:
            entry = pickle.load(f, encoding="bytes")  # noqa: S301 - trusted files only
        images.append(np.asarray(entry[b"data"], dtype=np.uint8))
        labels.extend(entry[b"labels"])
    x = np.concatenate(images).reshape(-1, 3, IMAGE_SIZE, IMAGE_SIZE).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(x), np.asarray(labels, dtype=np.int64)


# --------------------------------------------------------------------------- torchvision


@functools.cache
def _synthetic_cifar10_class() -> type:
    from torchvision.datasets import CIFAR10

    class SyntheticCIFAR10(CIFAR10):
        """torchvision's ``CIFAR10`` without the MD5 checks of the original files.

        ``check_integrity(path, None)`` checks that the file exists; the reading is
        ``CIFAR10``'s own. ``download=True`` is refused (it would fetch the real data).
        """

        train_list = [[name, None] for name, _ in CIFAR10.train_list]
        test_list = [[name, None] for name, _ in CIFAR10.test_list]
        meta = {**CIFAR10.meta, "md5": None}

        def download(self) -> None:
            if not self._check_integrity():
                raise RuntimeError("synthetic CIFAR-10 not found; it is generated, not downloaded")

    SyntheticCIFAR10.__module__ = __name__
    SyntheticCIFAR10.__qualname__ = "SyntheticCIFAR10"
    return SyntheticCIFAR10


def __getattr__(name: str) -> Any:
    # `SyntheticCIFAR10` is built on first use, so importing this module does not import torch.
    if name == "SyntheticCIFAR10":
        return _synthetic_cifar10_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
