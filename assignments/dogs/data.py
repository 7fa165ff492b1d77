"""Synthetic stand-in for the `dogs` assignment's photos, in the real on-disk layout.

``generate(out_dir, seed)`` writes two torchvision ``ImageFolder`` trees of RGB JPEGs, so the
assignment's own loading code is what runs:

- ``out_dir/dogs/{train,val}/<breed>/NNNNN.jpg``: five breeds, 224×224, balanced
  (``size="small"``: 120 train + 40 val per breed, 800 images; ``size="full"``: three times
  that);
- ``out_dir/dogcat/{train,val}/{cat,dog}/NNNNN.jpg``: 200 cats / 10 dogs for training,
  100 cats / 10 dogs for validation (both sizes), each image's width and height drawn
  independently from 160..300 pixels, so some sides are below 224.

How the classes are made fair:

- Every animal is the same kind of silhouette (body ellipse, head, muzzle, four legs, tail,
  ears) at a random position, scale and left/right flip, whatever its class. Its fur is two
  colours, and a *pattern* decides which colour goes where; the pattern is the class. For the
  breeds: spots (dalmatian), horizontal bands (husky), vertical bands (corgi), a checker of
  curls (poodle), a two-tone saddle (beagle), each covering half of the fur, with a period of
  about a fifth of the image, so that it survives the ``Resize((32, 32))`` before the network
  (6–8 pixels per period at 32×32).
- The two fur colours and the background colour are drawn independently from the *same*
  distribution for every class, then the same lighting jitter and pixel noise are applied.
  Every pattern covers (about) half of the fur, so the expected per-image mean colour, and its
  spread, are the same for every class: a classifier on mean colour stays near chance.
- Everything is drawn in coordinates relative to the image's width and height, so an image
  of any size looks the same once resized to 32×32.
- Cats and dogs differ by their pose (sitting or standing), ears (pointed or floppy), tail
  (up or down) and fur (stripes or spots), each cue the other class's in 3% of the images;
  both are drawn in the same natural palette (a dark and a light coat on a greenish
  background) near the middle of the image. With only 10 training dogs an unweighted loss
  predicts "cat" almost always, and weighting the dogs 20× raises their recall (the network
  still memorises its 10 dogs within a few epochs, so the recall stays well below 1).

Everything comes from a ``numpy.random.Generator`` seeded per image from ``(seed, set, split,
class, index)``, and JPEGs are written by Pillow at a fixed quality without EXIF or
timestamps, so the same seed gives byte-identical files.

Below the generator are the trusted loaders the grader's tests use (numpy, Pillow, torch).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

IMAGE_SIZE = 224  # the breeds' images are IMAGE_SIZE × IMAGE_SIZE
DOGCAT_SIDES = (160, 300)  # dog/cat image width and height, each uniform in this range
JPEG_QUALITY = 90
NET_SIZE = 32  # the network's input side: every loader resizes to NET_SIZE × NET_SIZE

BREEDS = ("beagle", "corgi", "dalmatian", "husky", "poodle")  # sorted: class index order
CLASSES: dict[str, tuple[str, ...]] = {"dogs": BREEDS, "dogcat": ("cat", "dog")}
SPLITS = ("train", "val")

# images per class: {size: {set: {split: {class: n}}}}
SIZES: dict[str, dict[str, dict[str, dict[str, int]]]] = {
    size: {
        "dogs": {
            "train": dict.fromkeys(BREEDS, 120 * k),
            "val": dict.fromkeys(BREEDS, 40 * k),
        },
        "dogcat": {"train": {"cat": 200, "dog": 10}, "val": {"cat": 100, "dog": 10}},
    }
    for size, k in (("small", 1), ("full", 3))
}

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")

_SET_ID = {"dogs": 1, "dogcat": 2}
_SPLIT_ID = {"train": 1, "val": 2}

Pattern = Callable[[np.ndarray, np.ndarray, np.ndarray, np.random.Generator], np.ndarray]


# --------------------------------------------------------------------------- silhouettes
# Drawn in relative coordinates (u across, v down, both in [0, 1]) onto an "L" canvas of the
# image's size; a circle in (u, v) is a circle once the image is resized to a square.


class _Pen:
    """Draws shapes given in relative coordinates, mirrored about `axis` when `flip`."""

    def __init__(self, w: int, h: int, flip: bool, axis: float) -> None:
        self.canvas = Image.new("L", (w, h), 0)
        self.draw = ImageDraw.Draw(self.canvas)
        self.w, self.h, self.flip, self.axis = w, h, flip, axis

    def _pt(self, u: float, v: float) -> tuple[float, float]:
        if self.flip:
            u = 2.0 * self.axis - u
        return u * self.w, v * self.h

    def ellipse(self, cu: float, cv: float, ru: float, rv: float) -> None:
        """An axis-aligned ellipse centred at (cu, cv) with radii (ru, rv)."""
        (x0, y0), (x1, y1) = self._pt(cu - ru, cv - rv), self._pt(cu + ru, cv + rv)
        self.draw.ellipse([min(x0, x1), y0, max(x0, x1), y1], fill=255)

    def polygon(self, pts: list[tuple[float, float]]) -> None:
        """A filled polygon."""
        self.draw.polygon([self._pt(u, v) for u, v in pts], fill=255)

    def mask(self) -> np.ndarray:
        """The silhouette as an H×W float32 map in [0, 1]."""
        return np.asarray(self.canvas, dtype=np.float32) / 255.0


def _head(pen: _Pen, hu: float, hv: float, r: float, ears: str) -> None:
    """Head of radius `r` centred at (hu, hv), facing right, with a muzzle and `ears`."""
    pen.ellipse(hu, hv, r, r)
    pen.ellipse(hu + 0.9 * r, hv + 0.35 * r, 0.75 * r, 0.45 * r)
    if ears == "pointed":
        for du in (-0.55, 0.25):
            eu = hu + du * r
            pen.polygon(
                [
                    (eu - 0.1 * r, hv - 0.6 * r),
                    (eu + 0.55 * r, hv - 0.6 * r),
                    (eu + 0.15 * r, hv - 1.8 * r),
                ]
            )
    else:
        eu = hu - 0.45 * r
        pen.polygon(
            [
                (eu - 0.1 * r, hv - 0.9 * r),
                (eu + 0.45 * r, hv - 0.85 * r),
                (eu + 0.25 * r, hv + 0.9 * r),
                (eu - 0.35 * r, hv + 0.8 * r),
            ]
        )


def _bar(pen: _Pen, u0: float, v0: float, u1: float, v1: float, half_w: float) -> None:
    """A straight limb or tail from (u0, v0) to (u1, v1), `half_w` wide on each side."""
    du, dv = u1 - u0, v1 - v0
    n = max(float(np.hypot(du, dv)), 1e-9)
    ou, ov = -dv / n * half_w, du / n * half_w
    pen.polygon([(u0 + ou, v0 + ov), (u1 + ou, v1 + ov), (u1 - ou, v1 - ov), (u0 - ou, v0 - ov)])


def _centre(
    rng: np.random.Generator, left: float, top: float, right: float, bottom: float, spread: float
) -> tuple[float, float]:
    """A random centre such that the box (centre + offsets) fits in the image with a margin.

    `spread` is the fraction of the free room (around its middle) the centre is drawn from.
    """
    m = 0.03
    lo_u, hi_u = m - left, max(m - left, 1.0 - m - right)
    lo_v, hi_v = m - top, max(m - top, 1.0 - m - bottom)
    t = 0.5 + spread * (rng.uniform(size=2) - 0.5)
    return lo_u + t[0] * (hi_u - lo_u), lo_v + t[1] * (hi_v - lo_v)


def _silhouette(
    w: int, h: int, rng: np.random.Generator, *, ears: str, tail: str, pose: str, spread: float
) -> np.ndarray:
    """An animal facing right (or left, flipped), as an H×W mask in [0, 1].

    `ears` is "pointed" or "floppy"; `tail` "up" or "down"; `pose` "standing" (a long body
    on four legs) or "sitting" (an upright body, two front legs, the tail on the ground);
    `spread` how far from the middle of the image the animal may be (see `_centre`).
    """
    s = rng.uniform(0.74, 0.94)  # overall length, as a fraction of the image width
    head_r = rng.uniform(0.12, 0.15) * s
    flip = bool(rng.integers(0, 2))
    if pose == "sitting":
        body_w, body_h = rng.uniform(0.36, 0.44) * s, rng.uniform(0.56, 0.66) * s
        cu, cv = _centre(
            rng,
            -body_w / 2 - 0.25 * s,
            -body_h / 2 - 2.6 * head_r,
            body_w / 2 + 1.8 * head_r,
            body_h / 2,
            spread,
        )
        pen = _Pen(w, h, flip, cu)
        pen.ellipse(cu, cv, body_w / 2, body_h / 2)
        for frac in (0.12, 0.3):
            lu = cu + frac * body_w
            _bar(pen, lu, cv - 0.1 * body_h, lu + 0.02 * s, cv + body_h / 2, 0.035 * s)
        _head(pen, cu + 0.3 * body_w, cv - body_h / 2 - 0.7 * head_r, head_r, ears)
        tv = cv + body_h / 2 - 0.04 * s
        end = (cu - body_w / 2 - 0.22 * s, tv - (0.2 * s if tail == "up" else 0.0))
        _bar(pen, cu - 0.3 * body_w, tv, *end, 0.03 * s)
        return pen.mask()
    body_l, body_h = 0.62 * s, rng.uniform(0.30, 0.38) * s
    leg_l, leg_w = rng.uniform(0.18, 0.24) * s, 0.07 * s
    cu, cv = _centre(
        rng,
        -body_l / 2 - 0.12 * s,
        -body_h / 2 - 2.9 * head_r,
        body_l / 2 + 1.7 * head_r,
        body_h / 2 + leg_l,
        spread,
    )
    pen = _Pen(w, h, flip, cu)
    pen.ellipse(cu, cv, body_l / 2, body_h / 2)
    for k, frac in enumerate((-0.36, -0.2, 0.22, 0.38)):
        lu = cu + frac * body_l + rng.uniform(-0.01, 0.01)
        lift = 0.0 if k % 2 == 0 else rng.uniform(0.0, 0.25) * leg_l
        _bar(pen, lu, cv, lu, cv + body_h / 2 + leg_l - lift, leg_w / 2)
    # neck, head
    hu, hv = cu + body_l / 2 + 0.3 * head_r, cv - body_h / 2 - 0.2 * head_r
    pen.polygon(
        [
            (cu + 0.25 * body_l, cv - 0.1 * body_h),
            (cu + 0.42 * body_l, cv + 0.2 * body_h),
            (hu + 0.3 * head_r, hv),
            (hu - 0.5 * head_r, hv - 0.3 * head_r),
        ]
    )
    _head(pen, hu, hv, head_r, ears)
    tu, tv = cu - body_l / 2 + 0.04 * s, cv - 0.2 * body_h
    end_v = tv - 0.22 * s if tail == "up" else tv + 0.2 * s
    _bar(pen, tu, tv, tu - 0.11 * s, end_v, 0.03 * s)
    return pen.mask()


# --------------------------------------------------------------------------- fur patterns
# Each returns an H×W map in [0, 1] (1: the second fur colour) covering half of the plane (or,
# for the saddle, half of the silhouette), from the relative coordinates uu, vv.


def _period(rng: np.random.Generator) -> float:
    return float(rng.uniform(0.22, 0.28))


def _bands(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    f = _period(rng)
    return (np.mod(x / f + rng.uniform(), 1.0) < 0.5).astype(np.float32)


def _horizontal(
    uu: np.ndarray, vv: np.ndarray, m: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    return _bands(vv, rng)


def _vertical(
    uu: np.ndarray, vv: np.ndarray, m: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    return _bands(uu, rng)


def _checker(uu: np.ndarray, vv: np.ndarray, m: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    f = 0.5 * _period(rng)  # a cell is half a period: 3.5–4.5 px at 32×32
    a = np.floor(uu / f + rng.uniform()) + np.floor(vv / f + rng.uniform())
    return np.mod(a, 2.0).astype(np.float32)


def _spots(uu: np.ndarray, vv: np.ndarray, m: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Disks of radius 0.4·period on a jittered grid: π·0.4² ≈ 0.50 of the plane."""
    f = _period(rng)
    n = int(np.ceil(1.0 / f)) + 2
    jitter = rng.uniform(-0.08, 0.08, size=(2, n, n)).astype(np.float32)
    pu, pv = uu / f + rng.uniform(), vv / f + rng.uniform()
    iu, iv = np.floor(pu).astype(np.int64), np.floor(pv).astype(np.int64)
    du = pu - iu - 0.5 - jitter[0][iv % n, iu % n]
    dv = pv - iv - 0.5 - jitter[1][iv % n, iu % n]
    return (du * du + dv * dv < 0.4**2).astype(np.float32)


def _saddle(uu: np.ndarray, vv: np.ndarray, m: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The upper half of the silhouette (by area), its edge gently tilted and waved."""
    tilt, wave = rng.uniform(-0.15, 0.15), rng.uniform(0.0, 0.02)
    level = vv + tilt * uu + wave * np.sin(uu * rng.uniform(15.0, 25.0))
    inside = level[m > 0.5]
    cut = float(np.median(inside)) if inside.size else 0.5
    return (level < cut).astype(np.float32)


_BREED_PATTERN: dict[str, Pattern] = {
    "beagle": _saddle,
    "corgi": _vertical,
    "dalmatian": _spots,
    "husky": _horizontal,
    "poodle": _checker,
}


# --------------------------------------------------------------------------- rendering

_LUM = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _colours(rng: np.random.Generator, contrast: float) -> tuple[np.ndarray, ...]:
    """Background and two fur colours, i.i.d., with fur/fur and fur/background contrast.

    ``contrast=0`` selects the dog/cat palette instead: a grass-and-wall background and a
    dark and a light coat (in random order), the same for both classes.
    """
    if contrast == 0.0:
        bg = np.array([105.0, 130.0, 100.0]) + rng.normal(0.0, 20.0, size=3)
        dark = np.array([75.0, 60.0, 50.0]) + rng.normal(0.0, 15.0, size=3)
        light = np.array([205.0, 190.0, 165.0]) + rng.normal(0.0, 15.0, size=3)
        a, b = (dark, light) if rng.uniform() < 0.5 else (light, dark)
        return bg.astype(np.float32), a.astype(np.float32), b.astype(np.float32)
    while True:
        bg, a, b = (rng.uniform(0.0, 255.0, size=3).astype(np.float32) for _ in range(3))
        la, lb, lbg = float(_LUM @ a), float(_LUM @ b), float(_LUM @ bg)
        if abs(la - lb) >= contrast and abs((la + lb) / 2 - lbg) >= 30.0:
            return bg, a, b


def _grid(w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    u = (np.arange(w, dtype=np.float32) + 0.5) / w
    v = (np.arange(h, dtype=np.float32) + 0.5) / h
    return np.broadcast_to(u[None, :], (h, w)), np.broadcast_to(v[:, None], (h, w))


def _render(
    w: int,
    h: int,
    rng: np.random.Generator,
    pattern: Pattern,
    *,
    ears: str,
    tail: str,
    contrast: float,
    pose: str = "standing",
    spread: float = 1.0,
) -> np.ndarray:
    """One H×W×3 uint8 image: an animal with fur `pattern` on a plain, lit background."""
    bg, fur_a, fur_b = _colours(rng, contrast)
    uu, vv = _grid(w, h)
    mask = _silhouette(w, h, rng, ears=ears, tail=tail, pose=pose, spread=spread)
    p = pattern(uu, vv, mask, rng)[..., None]
    fur = fur_a * (1.0 - p) + fur_b * p
    g = rng.normal(0.0, 12.0, size=(2, 3)).astype(np.float32)
    back = bg + (vv[..., None] - 0.5) * g[0] + (uu[..., None] - 0.5) * g[1]
    m = mask[..., None]
    img = back * (1.0 - m) + fur * m
    gain = np.float32(rng.uniform(0.8, 1.2))
    img = (img - 128.0) * gain + 128.0 + np.float32(rng.normal(0.0, 10.0))
    img += rng.standard_normal(img.shape, dtype=np.float32) * np.float32(8.0)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def render_breed(breed: str, rng: np.random.Generator) -> np.ndarray:
    """One 224×224×3 uint8 image of `breed`."""
    ears = "pointed" if rng.uniform() < 0.5 else "floppy"
    tail = "up" if rng.uniform() < 0.5 else "down"
    return _render(
        IMAGE_SIZE, IMAGE_SIZE, rng, _BREED_PATTERN[breed], ears=ears, tail=tail, contrast=110.0
    )


# the dog/cat cues, each true with this probability (and otherwise the other class's)
_DOGCAT_CUE = 0.97
_DOGCAT_SPREAD = 0.3  # animals stay near the middle of the image


def render_dogcat(label: str, rng: np.random.Generator) -> np.ndarray:
    """One H×W×3 uint8 image of a "cat" or a "dog", H and W drawn from `DOGCAT_SIDES`."""
    w, h = (int(rng.integers(DOGCAT_SIDES[0], DOGCAT_SIDES[1] + 1)) for _ in range(2))
    dog = label == "dog"
    cue = [bool(rng.uniform() < _DOGCAT_CUE) == dog for _ in range(4)]  # True: the dog's cue
    pose = "standing" if cue[0] else "sitting"
    ears = "floppy" if cue[1] else "pointed"
    tail = "down" if cue[2] else "up"
    if cue[3]:
        pattern: Pattern = _spots
    else:
        pattern = _horizontal if rng.uniform() < 0.5 else _vertical
    return _render(
        w, h, rng, pattern, ears=ears, tail=tail, contrast=0.0, pose=pose, spread=_DOGCAT_SPREAD
    )


# --------------------------------------------------------------------------- writing


_RENDER: dict[str, Callable[[str, np.random.Generator], np.ndarray]] = {
    "dogs": render_breed,
    "dogcat": render_dogcat,
}


def _write_jpeg(img: np.ndarray, path: Path) -> None:
    Image.fromarray(img, mode="RGB").save(
        path, format="JPEG", quality=JPEG_QUALITY, subsampling=2, optimize=False
    )


def generate(out_dir: Path | str, seed: int = 0, *, size: str = "small") -> Path:
    """Write the synthetic dogs and dog/cat data sets for `seed` into `out_dir`; return it.

    ``size="small"`` (CPU checks): 120 train + 40 val images per breed; ``size="full"``: 360 +
    120. The dog/cat set is 200/10 (train) and 100/10 (val) cats/dogs for both sizes. The
    same seed gives byte-identical files; stale ``*.jpg`` files in the class folders go.
    """
    if size not in SIZES:
        raise ValueError(f"size must be one of {sorted(SIZES)}, got {size!r}")
    out = Path(out_dir)
    for set_name, splits in SIZES[size].items():
        names = CLASSES[set_name]
        for split, counts in splits.items():
            for label, cls in enumerate(names):
                folder = out / set_name / split / cls
                folder.mkdir(parents=True, exist_ok=True)
                written: set[str] = set()
                for i in range(counts[cls]):
                    rng = np.random.default_rng(
                        [int(seed), _SET_ID[set_name], _SPLIT_ID[split], label, i]
                    )
                    img = _RENDER[set_name](cls, rng)
                    name = f"{i:05d}.jpg"
                    _write_jpeg(img, folder / name)
                    written.add(name)
                for stale in folder.glob("*.jpg"):
                    if stale.name not in written:
                        stale.unlink()
    return out


# --------------------------------------------------------------------------- trusted loading
# Used by the grader's tests in the trusted process (never in the child): the same folders,
# read back the way torchvision's ImageFolder + Resize((32, 32)) + ToTensor() read them.


def image_files(root: Path | str) -> list[tuple[Path, int]]:
    """(path, label) of every image under `root`, in torchvision ``ImageFolder`` order.

    Classes are the sorted sub-folder names; files are walked as ImageFolder walks them
    (``sorted(os.walk(...))``, sorted file names, image extensions only).
    """
    root = Path(root)
    classes = sorted(e.name for e in os.scandir(root) if e.is_dir())
    items: list[tuple[Path, int]] = []
    for label, cls in enumerate(classes):
        for dirpath, _, fnames in sorted(os.walk(root / cls, followlinks=True)):
            for fname in sorted(fnames):
                if fname.lower().endswith(IMG_EXTENSIONS):
                    items.append((Path(dirpath) / fname, label))
    return items


def load_images(root: Path | str, *, size: int | None = NET_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """Images (N×size×size×3 uint8) and labels (N int64) of an ImageFolder tree `root`.

    Each image is converted to RGB and resized with ``img.resize((size, size),
    Image.BILINEAR)``, which is what torchvision's ``Resize((size, size))`` does to a PIL image.
    With ``size=None`` images keep their own size and must all be the same size.
    """
    images, labels = [], []
    for path, label in image_files(root):
        with Image.open(path) as im:
            im = im.convert("RGB")
            if size is not None:
                im = im.resize((size, size), Image.Resampling.BILINEAR)
            images.append(np.asarray(im, dtype=np.uint8))
        labels.append(label)
    if not images:
        raise FileNotFoundError(f"no images under {root}")
    return np.stack(images), np.array(labels, dtype=np.int64)


def train_statistics(data_dir: Path | str) -> tuple[list[float], list[float]]:
    """Per-channel mean and std of the breeds' training images, as `compute_train_statistics`.

    Over every pixel of every image of ``data_dir/dogs/train``, after resizing to 32×32 (as
    ``Resize((32, 32))``) and scaling to [0, 1]. The std is the population std (``ddof=0``,
    the square root of the mean squared deviation from the mean); with ~600 000 pixels per
    channel the sample std (``ddof=1``) differs from it by under 1e-6 relative.
    """
    from grader.checks.training import channel_statistics

    x, _ = load_images(Path(data_dir) / "dogs" / "train")
    mean, std = channel_statistics(x)
    return [float(v) for v in mean], [float(v) for v in std]


def breeds_training_data(data_dir: Path | str, heldout_dir: Path | str) -> Any:
    """The training check's data for the breeds (`grader.checks.training.TrainingData`).

    Training: ``data_dir/dogs/train``; the stopping rule's statistics: ``data_dir/dogs/val``
    (whose labels the child could read anyway); the threshold: ``heldout_dir/dogs/val``
    (generated from the grading seed). All resized to 32×32, scaled to [0, 1] and normalised
    with the training statistics computed here (`train_statistics`), so that a statistics bug
    costs points in its own part only.
    """
    from grader.checks.training import TrainingData

    return TrainingData.from_images(
        load_images(Path(data_dir) / "dogs" / "train"),
        load_images(Path(data_dir) / "dogs" / "val"),
        load_images(Path(heldout_dir) / "dogs" / "val"),
    )


def dogcat_training_data(data_dir: Path | str, heldout_dir: Path | str) -> Any:
    """The training check's data for the imbalanced cats/dogs (`TrainingData`).

    Training: ``data_dir/dogcat/train`` (200 cats, 10 dogs); stopping statistics:
    ``data_dir/dogcat/val``; the metrics: ``heldout_dir/dogcat/train`` and ``.../val``
    together (300 cats, 20 dogs, for a steadier dog recall), or only ``val`` when the held-out
    folder is the data folder (a real data set). All resized to 32×32, scaled to
    [0, 1] and normalised with the ImageNet mean and std. Labels: cat 0, dog 1.
    """
    from grader.checks.training import TrainingData

    # With a real data set the held-out folder is the data folder itself: its training images
    # were trained on, so only its validation partition may decide the metric.
    real = Path(heldout_dir).resolve() == Path(data_dir).resolve()
    parts = [load_images(Path(heldout_dir) / "dogcat" / s) for s in (("val",) if real else SPLITS)]
    heldout = (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
    return TrainingData.from_images(
        load_images(Path(data_dir) / "dogcat" / "train"),
        load_images(Path(data_dir) / "dogcat" / "val"),
        heldout,
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
    )
