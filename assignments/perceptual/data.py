"""Synthetic stand-in for Oxford Flowers 102, in torchvision's ``Flowers102`` layout.

``generate(out_dir, seed)`` writes::

    out_dir/flowers-102/jpg/image_00001.jpg ...   # RGB JPEGs, one side 500 px, the other 500..750
    out_dir/flowers-102/imagelabels.mat           # "labels": 1 × N uint8, the class (1..102) of image i
    out_dir/flowers-102/setid.mat                 # "trnid", "valid", "tstid": 1 × n uint16 image ids

``size="small"`` (grading): 3 images per class, one per split (306 images, a few seconds);
``size="full"``: 20 per class (10 train, 5 val, 5 test). Each image is a flower (petals around
a centre) whose petal count and colours depend on its class, on a textured background, at a
resolution drawn like the real photographs' (500 × 500..750, landscape or portrait, common
sizes repeated). Nothing trains on these images in this assignment; they exist so that the
real loading and summarising code runs on the real layout.

Determinism: every image comes from a ``numpy.random.Generator`` seeded from ``(seed, id)``;
JPEGs are written by Pillow at a fixed quality without EXIF or timestamps; the ``.mat`` files
are written by ``scipy.io.savemat`` with the creation date in their 116-byte text header
replaced by a fixed text. The same seed gives byte-identical files.

torchvision's ``Flowers102`` checks the MD5s of the original ``imagelabels.mat`` and
``setid.mat`` in its constructor (also with ``download=False``) and raises "Dataset not found
or corrupted" for any other content, so it cannot load these (or any non-original) files as
such. ``SyntheticFlowers102`` is the honest stand-in: ``Flowers102`` itself with those two
MD5s replaced by ``None`` (torchvision's ``check_integrity`` then checks only that each file
exists); the reading is torchvision's own code. The handout's ``data_summary.flowers102`` does
the same for students.

Below the generator are the helpers the grader's tests use in the trusted process: the layout
as bytes for arbitrary labels and sizes (`flowers_files`), JPEGs whose header is intact but
whose pixel data is cut off (`header_only_jpeg`), and the expected summary (`expected_summary`).
"""

from __future__ import annotations

import functools
import importlib.util
import io
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

BASE_FOLDER = "flowers-102"
NUM_CLASSES = 102
SHORT_SIDE = 500
LONG_SIDES = (500, 750)  # the other side, inclusive
COMMON_LONG_SIDES = (500, 541, 625, 667, 689, 750)  # drawn half of the time, so sizes repeat
JPEG_QUALITY = 75
SPLIT_KEYS = ("trnid", "valid", "tstid")  # setid.mat's keys: train, val, test

# per class: {size: (train, val, test)}
SIZES: dict[str, tuple[int, int, int]] = {"small": (1, 1, 1), "full": (10, 5, 5)}

_MAT_HEADER = b"MATLAB 5.0 MAT-file, written by the grader's synthetic Flowers102 (deterministic header)"


@dataclass(frozen=True)
class Flower:
    """One image of the plan: its id (1-based), class (1..102), size and split key."""

    image_id: int
    label: int
    width: int
    height: int
    split: str


def image_name(image_id: int) -> str:
    """The file name of image `image_id` (1-based), as in the real data set."""
    return f"image_{image_id:05d}.jpg"


def plan(seed: int = 0, size: str = "small") -> list[Flower]:
    """Every image `generate(out_dir, seed, size=size)` writes, in id order (nothing is drawn)."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {sorted(SIZES)}, got {size!r}")
    per_split = SIZES[size]
    rng = np.random.default_rng([int(seed), 0])
    entries = [(label, split) for label in range(1, NUM_CLASSES + 1) for split, n in zip(SPLIT_KEYS, per_split, strict=True) for _ in range(n)]
    order = rng.permutation(len(entries))  # ids are not grouped by class, as in the real set
    flowers = []
    for image_id, k in enumerate(order, start=1):
        label, split = entries[int(k)]
        long = int(rng.choice(COMMON_LONG_SIDES)) if rng.random() < 0.5 else int(rng.integers(LONG_SIDES[0], LONG_SIDES[1] + 1))
        width, height = (long, SHORT_SIDE) if rng.random() < 0.6 else (SHORT_SIDE, long)
        flowers.append(Flower(image_id, label, width, height, split))
    return flowers


def _petal(cx: float, cy: float, angle: float, length: float, breadth: float) -> list[tuple[float, float]]:
    """A petal: an ellipse from the centre outwards along `angle`, as a 16-point polygon."""
    t = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    u, v = length / 2 * (1 + np.cos(t)), breadth / 2 * np.sin(t)
    ca, sa = np.cos(angle), np.sin(angle)
    return [(cx + a * ca - b * sa, cy + a * sa + b * ca) for a, b in zip(u, v, strict=True)]


def render(label: int, width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A height × width × 3 uint8 flower of class `label` (1..102)."""
    base = rng.uniform(40, 110, size=3) * np.array([0.7, 1.1, 0.6])  # a greenish background
    coarse = rng.normal(0, 18, size=(max(2, height // 16), max(2, width // 16), 3))
    texture = Image.fromarray(np.clip(base + coarse, 0, 255).astype(np.uint8), mode="RGB")
    img = texture.resize((width, height), Image.BILINEAR)
    draw = ImageDraw.Draw(img)
    class_rng = np.random.default_rng([NUM_CLASSES, label])  # the class's own look
    petals = 3 + label % 7
    colour = class_rng.uniform(90, 255, size=3)
    centre_colour = class_rng.uniform(0, 255, size=3)
    side = min(width, height)
    cx, cy = width * rng.uniform(0.35, 0.65), height * rng.uniform(0.35, 0.65)
    length = side * rng.uniform(0.2, 0.35)
    breadth = length * class_rng.uniform(0.25, 0.7)
    turn = rng.uniform(0, 2 * np.pi)
    shade = rng.uniform(0.8, 1.1)
    fill = tuple(int(c) for c in np.clip(colour * shade, 0, 255))
    for k in range(petals):
        draw.polygon(_petal(cx, cy, turn + 2 * np.pi * k / petals, length, breadth), fill=fill)
    r = length * 0.22
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=tuple(int(c) for c in centre_colour))
    return np.asarray(img)


def jpeg_bytes(img: np.ndarray, quality: int = JPEG_QUALITY) -> bytes:
    """`img` (H×W×3 uint8) as JPEG bytes, written by Pillow without EXIF or timestamps."""
    buf = io.BytesIO()
    Image.fromarray(np.asarray(img, dtype=np.uint8), mode="RGB").save(buf, format="JPEG", quality=quality, optimize=False)
    return buf.getvalue()


def mat_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """A MATLAB 5 ``.mat`` file holding `arrays` (scipy.io), with a fixed header text."""
    from scipy.io import savemat

    buf = io.BytesIO()
    savemat(buf, dict(arrays))
    data = bytearray(buf.getvalue())
    data[:116] = _MAT_HEADER.ljust(116, b" ")[:116]  # savemat writes the date there
    return bytes(data)


def label_files(labels: Sequence[int], splits: Mapping[str, Sequence[int]]) -> dict[str, bytes]:
    """``imagelabels.mat`` and ``setid.mat`` (relative to ``flowers-102/``) for `labels` (image i
    has class ``labels[i - 1]``) and `splits` (split key → image ids)."""
    return {
        "imagelabels.mat": mat_bytes({"labels": np.asarray(labels, dtype=np.uint8).reshape(1, -1)}),
        "setid.mat": mat_bytes({k: np.asarray(splits.get(k, []), dtype=np.uint16).reshape(1, -1) for k in SPLIT_KEYS}),
    }


def flowers_files(images: Sequence[bytes], labels: Sequence[int], splits: Mapping[str, Sequence[int]]) -> dict[str, bytes]:
    """The whole layout as relative path → bytes: ``flowers-102/jpg/image_{i:05d}.jpg`` holding
    ``images[i - 1]``, and the two ``.mat`` files."""
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    files = {f"{BASE_FOLDER}/jpg/{image_name(i)}": data for i, data in enumerate(images, start=1)}
    files.update({f"{BASE_FOLDER}/{name}": data for name, data in label_files(labels, splits).items()})
    return files


def generate(out_dir: Path | str, seed: int = 0, *, size: str = "small") -> Path:
    """Write the synthetic Flowers102 for `seed` into `out_dir` (which will hold
    ``flowers-102/``); return `out_dir`. Stale ``image_*.jpg`` files go."""
    flowers = plan(seed, size)
    out = Path(out_dir)
    jpg = out / BASE_FOLDER / "jpg"
    jpg.mkdir(parents=True, exist_ok=True)
    written = set()
    for f in flowers:
        rng = np.random.default_rng([int(seed), 1, f.image_id])
        name = image_name(f.image_id)
        (jpg / name).write_bytes(jpeg_bytes(render(f.label, f.width, f.height, rng)))
        written.add(name)
    for stale in jpg.glob("*.jpg"):
        if stale.name not in written:
            stale.unlink()
    splits = {k: [f.image_id for f in flowers if f.split == k] for k in SPLIT_KEYS}
    for name, data in label_files([f.label for f in flowers], splits).items():
        (out / BASE_FOLDER / name).write_bytes(data)
    return out


# --------------------------------------------------------------------------- trusted helpers


def header_only_jpeg(width: int, height: int, *, keep: int = 64, seed: int = 0) -> bytes:
    """A JPEG of `width` × `height` whose header (every marker up to the scan) is intact and whose
    pixel data stops `keep` bytes into the scan: its size can be read, but decoding it fails
    ("image file is truncated") or, where a reader tolerates truncation, gives grey."""
    rng = np.random.default_rng([int(seed), width, height])
    data = jpeg_bytes(render(int(rng.integers(1, NUM_CLASSES + 1)), width, height, rng))
    sos = data.index(b"\xff\xda")
    scan = sos + 2 + int.from_bytes(data[sos + 2 : sos + 4], "big")  # after the SOS segment
    return data[: scan + keep]


def expected_summary(labels: Sequence[int], sizes: Sequence[tuple[int, int]]) -> dict[str, Any]:
    """What `summarize` must return for a folder of images of `sizes` (width, height) and `labels`."""
    return {
        "n_images": len(sizes),
        "n_classes": len(set(int(v) for v in labels)),
        "resolutions": Counter((int(w), int(h)) for w, h in sizes),
    }


def read_summary(root: Path | str) -> dict[str, Any]:
    """The summary of a Flowers102 folder, read here (trusted): labels with scipy, sizes from
    each file's header with Pillow."""
    from scipy.io import loadmat

    base = Path(root) / BASE_FOLDER
    labels = np.asarray(loadmat(base / "imagelabels.mat", squeeze_me=True)["labels"]).reshape(-1)
    sizes = []
    for path in sorted((base / "jpg").glob("*.jpg")):
        with Image.open(path) as img:
            sizes.append(img.size)
    return expected_summary(labels.tolist(), sizes)


@functools.cache
def sample_photo(name: str = "china.jpg") -> np.ndarray:
    """One of the two photographs scikit-learn ships (``china.jpg``, ``flower.jpg``; 427×640×3
    uint8), read offline: the file `sklearn.datasets.load_sample_images` reads, opened here
    without importing scikit-learn (which costs a second)."""
    spec = importlib.util.find_spec("sklearn")
    path = Path(spec.origin).parent / "datasets" / "images" / name if spec and spec.origin else None
    if path is None or not path.is_file():
        from sklearn.datasets import load_sample_image

        return np.asarray(load_sample_image(name), dtype=np.uint8)
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"), dtype=np.uint8)


def _synthetic_flowers102_class() -> type:
    from torchvision.datasets import Flowers102

    class SyntheticFlowers102(Flowers102):
        """torchvision's ``Flowers102`` without the MD5 checks of the original ``.mat`` files.

        ``check_integrity(path, None)`` checks that the file exists; the reading is
        ``Flowers102``'s own. ``download=True`` is refused (it would fetch the real data).
        """

        _file_dict = {key: (name, None) for key, (name, _md5) in Flowers102._file_dict.items()}

        def download(self) -> None:
            if not self._check_integrity():
                raise RuntimeError("synthetic Flowers102 not found; it is generated, not downloaded")

    SyntheticFlowers102.__module__ = __name__
    SyntheticFlowers102.__qualname__ = "SyntheticFlowers102"
    return SyntheticFlowers102


def __getattr__(name: str) -> Any:
    # `SyntheticFlowers102` is built on first use, so importing this module does not import torch.
    if name == "SyntheticFlowers102":
        return _synthetic_flowers102_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
