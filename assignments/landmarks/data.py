"""Synthetic stand-in for the `landmarks` assignment's photos, in the real on-disk layout.

``generate(out_dir, seed)`` writes ``out_dir/landmarks.csv`` (columns
``filename,semantic_label,partition,numeric_label,task``) and the 64×64 RGB PNG images in
``out_dir/images/<filename>``, so the assignment's own loading code is what runs.

How the classes are made fair:

- A class is a *shape*: a landmark silhouette (a tapered lighthouse, a wide colosseum with
  rows of arches, a pyramid, a dome …) drawn at a random position and scale.
- Every image draws its foreground and background colours independently from the *same*
  distribution whatever its class, then gets the same lighting jitter and pixel noise. The
  expected per-image mean colour is therefore identical for every class, and a classifier on
  mean colour alone stays at chance. The two target classes are also drawn with matching
  silhouette areas (one is roughly the other turned on its side), so even the spread of the
  mean colour carries almost no class information.
- The *target* task's test partition is drawn with a deliberate shift (a sky gradient with a
  ground strip, clutter in the background, darker low-contrast lighting with a colour cast),
  so that, as with the real photos, test scores fall below validation scores.

Everything comes from a ``numpy.random.Generator`` seeded per image from ``(seed, task,
index)``, and PNGs are written by Pillow without timestamps, so the same seed gives
byte-identical files.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

IMAGE_SIZE = 64
_SS = 2  # shapes are drawn at 2× and box-filtered down (anti-aliasing)
_CANVAS = IMAGE_SIZE * _SS

CSV_NAME = "landmarks.csv"
IMAGE_DIR = "images"
COLUMNS = ("filename", "semantic_label", "partition", "numeric_label", "task")
PARTITIONS = ("train", "val", "test")

SOURCE_CLASSES = (
    "triumphal_arch",
    "eiffel_tower",
    "capitol_dome",
    "great_pyramid",
    "obelisk",
    "arch_bridge",
    "parthenon",
    "pagoda",
)
TARGET_CLASSES = ("lighthouse", "colosseum")

# images per class for each partition: {size: {task: (train, val, test)}}
SIZES: dict[str, dict[str, tuple[int, int, int]]] = {
    "small": {"target": (100, 30, 30), "source": (40, 10, 10)},
    "full": {"target": (600, 150, 150), "source": (300, 75, 75)},
}

_TASK_ID = {"source": 1, "target": 2}

Polygon = list[tuple[float, float]]
Draw = Callable[[ImageDraw.ImageDraw, np.random.Generator], None]


# --------------------------------------------------------------------------- shapes
# Each drawer paints a silhouette (fill 255) onto an "L" canvas of _CANVAS × _CANVAS and
# may punch holes (fill 0). Sizes are fractions of the canvas; the placement is random.


def _place(rng: np.random.Generator, w: float, h: float) -> tuple[float, float]:
    """A random top-left corner such that a w×h box (in canvas pixels) fits with a margin."""
    m = 2.0 * _SS
    x0 = rng.uniform(m, max(m, _CANVAS - m - w))
    y0 = rng.uniform(m, max(m, _CANVAS - m - h))
    return x0, y0


def _arch_hole(d: ImageDraw.ImageDraw, cx: float, bottom: float, w: float, h: float) -> None:
    """An arch-shaped opening (rectangle topped by a half-disc), `w` wide, `h` tall."""
    r = w / 2
    d.rectangle([cx - r, bottom - h + r, cx + r, bottom], fill=0)
    d.pieslice([cx - r, bottom - h, cx + r, bottom - h + 2 * r], 180, 360, fill=0)


def _lighthouse(d: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    s = _CANVAS
    h = rng.uniform(0.58, 0.86) * s
    w = rng.uniform(0.20, 0.30) * s
    x0, y0 = _place(rng, w, h)
    cx = x0 + w / 2
    lamp_h = 0.16 * h
    roof_h = 0.10 * h
    body_top = y0 + lamp_h + roof_h
    # tapered tower
    d.polygon(
        [(x0, y0 + h), (x0 + w, y0 + h), (cx + 0.3 * w, body_top), (cx - 0.3 * w, body_top)],
        fill=255,
    )
    # gallery, lantern and roof
    d.rectangle([cx - 0.45 * w, body_top - 0.04 * h, cx + 0.45 * w, body_top + 0.02 * h], fill=255)
    d.rectangle([cx - 0.22 * w, y0 + roof_h, cx + 0.22 * w, body_top], fill=255)
    d.polygon([(cx - 0.3 * w, y0 + roof_h), (cx + 0.3 * w, y0 + roof_h), (cx, y0)], fill=255)
    # a few small windows up the shaft
    for k in range(int(rng.integers(2, 4))):
        wy = body_top + (k + 1) * (y0 + h - body_top) / 4.5
        d.rectangle([cx - 0.06 * w, wy, cx + 0.06 * w, wy + 0.05 * h], fill=0)


def _colosseum(d: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    s = _CANVAS
    w = rng.uniform(0.62, 0.90) * s
    h = rng.uniform(0.26, 0.38) * s
    x0, y0 = _place(rng, w, h)
    # slightly rounded ends, like the oval seen from the side
    d.rounded_rectangle([x0, y0, x0 + w, y0 + h], radius=0.18 * h, fill=255)
    tiers = int(rng.integers(2, 4))
    n = int(rng.integers(5, 9))
    tier_h = h / (tiers + 0.4)
    aw = w / (n * 1.9)
    for t in range(tiers):
        bottom = y0 + 0.25 * tier_h + (t + 1) * tier_h - 0.08 * tier_h
        for k in range(n):
            cx = x0 + (k + 0.5) * w / n
            _arch_hole(d, cx, bottom, aw, 0.62 * tier_h)


def _triumphal_arch(d: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    s = _CANVAS
    w = rng.uniform(0.40, 0.65) * s
    h = w * rng.uniform(0.85, 1.1)
    x0, y0 = _place(rng, w, h)
    d.rectangle([x0, y0, x0 + w, y0 + h], fill=255)
    _arch_hole(d, x0 + w / 2, y0 + h, 0.38 * w, 0.62 * h)


def _eiffel_tower(d: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    s = _CANVAS
    h = rng.uniform(0.65, 0.9) * s
    w = h * rng.uniform(0.5, 0.65)
    x0, y0 = _place(rng, w, h)
    cx = x0 + w / 2
    d.polygon([(x0, y0 + h), (x0 + w, y0 + h), (cx + 0.04 * w, y0), (cx - 0.04 * w, y0)], fill=255)
    # the big arch between the legs and a platform
    _arch_hole(d, cx, y0 + h, 0.5 * w, 0.3 * h)
    d.polygon(
        [(cx - 0.17 * w, y0 + 0.62 * h), (cx + 0.17 * w, y0 + 0.62 * h), (cx, y0 + 0.4 * h)],
        fill=0,
    )


def _capitol_dome(d: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    s = _CANVAS
    w = rng.uniform(0.45, 0.75) * s
    base_h = w * rng.uniform(0.25, 0.35)
    dome_r = w * rng.uniform(0.3, 0.38)
    h = base_h + dome_r + 0.2 * dome_r
    x0, y0 = _place(rng, w, h)
    cx = x0 + w / 2
    top = y0 + 0.2 * dome_r
    d.rectangle([x0, top + dome_r, x0 + w, y0 + h], fill=255)
    d.pieslice([cx - dome_r, top, cx + dome_r, top + 2 * dome_r], 180, 360, fill=255)
    d.rectangle([cx - 0.06 * dome_r, y0, cx + 0.06 * dome_r, top + 1], fill=255)


def _great_pyramid(d: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    s = _CANVAS
    w = rng.uniform(0.55, 0.9) * s
    h = w * rng.uniform(0.5, 0.65)
    x0, y0 = _place(rng, w, h)
    d.polygon([(x0, y0 + h), (x0 + w, y0 + h), (x0 + w / 2, y0)], fill=255)


def _obelisk(d: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    s = _CANVAS
    h = rng.uniform(0.6, 0.9) * s
    w = h * rng.uniform(0.12, 0.18)
    x0, y0 = _place(rng, w, h)
    cx = x0 + w / 2
    tip = 0.12 * h
    d.polygon(
        [
            (x0, y0 + h),
            (x0 + w, y0 + h),
            (cx + 0.35 * w, y0 + tip),
            (cx, y0),
            (cx - 0.35 * w, y0 + tip),
        ],
        fill=255,
    )


def _arch_bridge(d: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    s = _CANVAS
    w = rng.uniform(0.7, 0.92) * s
    h = w * rng.uniform(0.3, 0.42)
    x0, y0 = _place(rng, w, h)
    d.rectangle([x0, y0, x0 + w, y0 + h], fill=255)
    n = int(rng.integers(2, 4))
    for k in range(n):
        cx = x0 + (k + 0.5) * w / n
        r = 0.36 * w / n
        d.rectangle([cx - r, y0 + h - 0.3 * h, cx + r, y0 + h], fill=0)
        d.ellipse([cx - r, y0 + h - 0.3 * h - r, cx + r, y0 + h - 0.3 * h + r], fill=0)


def _parthenon(d: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    s = _CANVAS
    w = rng.uniform(0.55, 0.85) * s
    h = w * rng.uniform(0.55, 0.7)
    x0, y0 = _place(rng, w, h)
    roof = 0.25 * h
    d.polygon([(x0, y0 + roof), (x0 + w, y0 + roof), (x0 + w / 2, y0)], fill=255)
    d.rectangle([x0, y0 + roof, x0 + w, y0 + roof + 0.1 * h], fill=255)
    d.rectangle([x0, y0 + h - 0.1 * h, x0 + w, y0 + h], fill=255)
    n = int(rng.integers(4, 7))
    cw = w / (2 * n)
    for k in range(n):
        cx = x0 + (k + 0.5) * w / n
        d.rectangle([cx - cw / 2, y0 + roof, cx + cw / 2, y0 + h], fill=255)


def _pagoda(d: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    s = _CANVAS
    w = rng.uniform(0.45, 0.7) * s
    h = w * rng.uniform(1.1, 1.35)
    x0, y0 = _place(rng, w, h)
    cx = x0 + w / 2
    tiers = int(rng.integers(3, 6))
    th = h / (tiers + 0.5)
    d.rectangle([cx - 0.02 * w, y0, cx + 0.02 * w, y0 + 0.5 * th], fill=255)
    for t in range(tiers):
        frac = 0.45 + 0.55 * (t + 1) / tiers
        top = y0 + 0.5 * th + t * th
        ew = w * frac / 2  # eave half-width
        bw = 0.6 * ew  # body half-width
        d.polygon([(cx - ew, top + 0.45 * th), (cx + ew, top + 0.45 * th), (cx, top)], fill=255)
        d.rectangle([cx - bw, top + 0.4 * th, cx + bw, top + th], fill=255)


_SOURCE_DRAW: tuple[Draw, ...] = (
    _triumphal_arch,
    _eiffel_tower,
    _capitol_dome,
    _great_pyramid,
    _obelisk,
    _arch_bridge,
    _parthenon,
    _pagoda,
)
_TARGET_DRAW: tuple[Draw, ...] = (_lighthouse, _colosseum)


# --------------------------------------------------------------------------- rendering


def _random_colour(rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(0.0, 255.0, size=3)


def _colour_pair(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Foreground and background colours, i.i.d., with enough luminance contrast to see."""
    lum = np.array([0.299, 0.587, 0.114])
    while True:
        a, b = _random_colour(rng), _random_colour(rng)
        if abs(float(lum @ a) - float(lum @ b)) >= 40.0:
            return a, b


def _mask(draw: Draw, rng: np.random.Generator) -> np.ndarray:
    canvas = Image.new("L", (_CANVAS, _CANVAS), 0)
    draw(ImageDraw.Draw(canvas), rng)
    small = canvas.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float64)[..., None] / 255.0


def _yy_xx() -> tuple[np.ndarray, np.ndarray]:
    ax = np.linspace(-1.0, 1.0, IMAGE_SIZE)
    yy, xx = np.meshgrid(ax, ax, indexing="ij")
    return yy[..., None], xx[..., None]


def _render(draw: Draw, rng: np.random.Generator, shifted: bool) -> np.ndarray:
    """One H×W×3 uint8 image of the silhouette `draw`."""
    fg, bg = _colour_pair(rng)
    yy, xx = _yy_xx()
    if not shifted:
        # a flat background with a gentle random gradient
        g = rng.normal(0.0, 10.0, size=(2, 3))
        back = bg + yy * g[0] + xx * g[1]
    else:
        # outdoors: a sky gradient, a ground strip, clutter (trees, bushes)
        sky_top, sky_bottom = _random_colour(rng), bg
        t = (yy + 1.0) / 2.0
        back = sky_top * (1 - t) + sky_bottom * t
        ground_y = int(rng.integers(44, 58))
        back = np.broadcast_to(back, (IMAGE_SIZE, IMAGE_SIZE, 3)).copy()
        back[ground_y:] = _random_colour(rng)
        clutter = Image.new("L", (IMAGE_SIZE, IMAGE_SIZE), 0)
        cd = ImageDraw.Draw(clutter)
        for _ in range(int(rng.integers(4, 9))):
            cx, cy = rng.uniform(0, IMAGE_SIZE), rng.uniform(20, IMAGE_SIZE)
            r = rng.uniform(2.5, 6.0)
            cd.ellipse([cx - r, cy - r, cx + r, cy + r], fill=255)
        cm = np.asarray(clutter, dtype=np.float64)[..., None] / 255.0
        back = back * (1 - cm) + _random_colour(rng) * cm
    m = _mask(draw, rng)
    img = back * (1.0 - m) + fg * m
    # lighting
    if not shifted:
        gain = rng.uniform(0.85, 1.15)
        img = (img - 128.0) * gain + 128.0 + rng.normal(0.0, 8.0)
        noise = 6.0
    else:
        gain = rng.uniform(0.45, 0.65)
        cast = rng.normal(0.0, 18.0, size=3)
        img = (img - 128.0) * gain + 90.0 + cast
        img = img * (1.0 - 0.35 * (xx * rng.uniform(-1, 1)) ** 2)  # vignetting
        noise = 10.0
    img = img + rng.normal(0.0, noise, size=img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def render(task: str, label: int, rng: np.random.Generator, *, shifted: bool = False) -> np.ndarray:
    """One 64×64×3 uint8 image of class `label` of `task` ("source" or "target")."""
    drawers = _SOURCE_DRAW if task == "source" else _TARGET_DRAW
    return _render(drawers[label], rng, shifted)


# --------------------------------------------------------------------------- writing


def _rows(seed: int, size: str) -> list[tuple[str, int, str, bool, np.random.Generator]]:
    """(task, label, partition, shifted, rng) for every image, in file order."""
    per_class = SIZES[size]
    items: list[tuple[str, int, str, bool, np.random.Generator]] = []
    for task in ("source", "target"):
        names = SOURCE_CLASSES if task == "source" else TARGET_CLASSES
        index = 0
        for part, n in zip(PARTITIONS, per_class[task], strict=True):
            for label in range(len(names)):
                for _ in range(n):
                    rng = np.random.default_rng([seed, _TASK_ID[task], index])
                    shifted = task == "target" and part == "test"
                    items.append((task, label, part, shifted, rng))
                    index += 1
    order = np.random.default_rng([seed, 0]).permutation(len(items))
    return [items[i] for i in order]


def _semantic(task: str, label: int) -> str:
    return (SOURCE_CLASSES if task == "source" else TARGET_CLASSES)[label]


def generate(out_dir: Path | str, seed: int = 0, *, size: str = "small") -> Path:
    """Write the synthetic landmarks data set for `seed` into `out_dir`; return `out_dir`.

    ``size="small"`` (CPU checks): target 100/30/30 images per class for train/val/test,
    source 40/10/10 per class. ``size="full"``: target 600/150/150, source 300/75/75.
    """
    if size not in SIZES:
        raise ValueError(f"size must be one of {sorted(SIZES)}, got {size!r}")
    out = Path(out_dir)
    images = out / IMAGE_DIR
    images.mkdir(parents=True, exist_ok=True)
    rows = _rows(int(seed), size)
    width = max(5, len(str(len(rows))))
    names: set[str] = set()
    records: list[Sequence[object]] = []
    for i, (task, label, part, shifted, rng) in enumerate(rows):
        name = f"{i:0{width}d}.png"
        names.add(name)
        img = render(task, label, rng, shifted=shifted)
        Image.fromarray(img).save(images / name, format="PNG", compress_level=6)
        records.append((name, _semantic(task, label), part, label, task))
    for stale in images.glob("*.png"):
        if stale.name not in names:
            stale.unlink()
    with open(out / CSV_NAME, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(records)
    return out


# --------------------------------------------------------------------------- trusted loading
# Used by the grader's tests in the trusted process (never in the child): the same layout,
# read back.


def load_partition(data_dir: Path, task: str, partition: str) -> tuple[np.ndarray, np.ndarray]:
    """Images (N×H×W×3 uint8) and labels of one partition of one task."""
    with open(Path(data_dir) / CSV_NAME, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["task"] == task and r["partition"] == partition]
    images = []
    for r in rows:
        with Image.open(Path(data_dir) / IMAGE_DIR / r["filename"]) as im:
            images.append(np.asarray(im.convert("RGB"), dtype=np.uint8))
    return np.stack(images), np.array([int(r["numeric_label"]) for r in rows], dtype=np.int64)


def standardized(data_dir: Path, heldout_dir: Path, task: str = "target") -> Any:
    """The training check's data (`grader.checks.training.TrainingData`), standardised here.

    Training: `data_dir`'s train partition. The early-stopping statistics come from
    `data_dir`'s val partition, whose labels the child could read anyway. The threshold is
    decided on `heldout_dir`'s val partition (generated from the grading seed). All are
    standardised with the training partition's per-channel statistics, computed here, so that
    a standardisation bug costs points in its own part only.
    """
    import torch

    from grader.checks.training import TrainingData

    x_tr, y_tr = load_partition(data_dir, task, "train")
    x_st, y_st = load_partition(data_dir, task, "val")
    x_va, y_va = load_partition(heldout_dir, task, "val")
    mean = x_tr.astype(np.float64).mean(axis=(0, 1, 2))
    std = x_tr.astype(np.float64).std(axis=(0, 1, 2))

    def prep(x: np.ndarray) -> torch.Tensor:
        z = ((x.astype(np.float64) - mean) / std).astype(np.float32)
        return torch.from_numpy(np.ascontiguousarray(z.transpose(0, 3, 1, 2)))

    return TrainingData(
        x_train=prep(x_tr),
        y_train=torch.from_numpy(y_tr),
        x_stop=prep(x_st),
        y_stop=y_st,
        x_heldout=prep(x_va),
        y_heldout=y_va,
    )
