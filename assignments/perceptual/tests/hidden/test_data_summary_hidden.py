"""Hidden tests of `data_summary.summarize`: the course's data set, classes counted as distinct
labels, width before height, and speed: on 1,000 whole photos it must cost a small fraction of
the CPU time that decoding them takes (measured here, on the same files, in the same run)."""

from __future__ import annotations

import functools
import io
import time
from collections import Counter

import numpy as np
from PIL import Image

from assignments.perceptual import childside
from assignments.perceptual.data import (
    BASE_FOLDER,
    flowers_files,
    image_name,
    jpeg_bytes,
    label_files,
    read_summary,
    render,
)
from grader.testing import assert_equal, points

from ..public.test_data_summary import (
    PHOTO_SIZES,
    check_summary,
    random_splits,
    small_jpeg,
    summary_of,
)

N_FAST = 1000
MAX_CPU_SHARE = 0.25  # of the time decoding every image takes; reading headers takes ~1/20


@functools.cache
def photo_jpeg(width: int, height: int) -> bytes:
    """A whole width × height flower photo (decodable), seeded by its size."""
    rng = np.random.default_rng([7, width, height])
    return jpeg_bytes(render(int(rng.integers(1, 103)), width, height, rng))


def decode_seconds(blobs: list[bytes], repeats: int = 3) -> float:
    """CPU seconds per image that decoding `blobs` takes here (Pillow, converted to RGB)."""
    start = time.process_time()
    for _ in range(repeats):
        for data in blobs:
            with Image.open(io.BytesIO(data)) as img:
                img.convert("RGB")
    return (time.process_time() - start) / (repeats * len(blobs))


@points(2, part="data_summary")
def test_summary_of_the_course_data_set(student, data_dir):
    """summarize on the course's Flowers102 folder: its images, classes and resolutions."""
    want = read_summary(data_dir)
    got = summary_of(student, str(data_dir), "summarize")
    assert_equal(got["n_images"], want["n_images"], what="n_images of the data set")
    assert_equal(got["n_classes"], want["n_classes"], what="n_classes of the data set")
    assert_equal(dict(got["resolutions"]), dict(want["resolutions"]), what="resolutions of the data set")


@points(2, part="data_summary")
def test_fast_on_1000_whole_photos(student, timings):
    """summarize on 1,000 decodable photos of 500×(500–750) costs under a quarter of the CPU time decoding them would (it reads headers only)."""
    rng = np.random.default_rng(2000)
    sizes = [PHOTO_SIZES[int(k)] for k in rng.integers(0, len(PHOTO_SIZES), size=N_FAST)]
    labels = [int(v) for v in rng.integers(1, 103, size=N_FAST)]
    distinct = sorted(set(sizes))
    first = {s: sizes.index(s) + 1 for s in distinct}  # the id of the first image of each size
    files = {f"{BASE_FOLDER}/jpg/{image_name(i)}": photo_jpeg(*s) for s, i in first.items()}
    files.update({f"{BASE_FOLDER}/{k}": v for k, v in label_files(labels, random_splits(list(range(1, N_FAST + 1)), rng)).items()})
    copies = {f"{BASE_FOLDER}/jpg/{image_name(i)}": f"{BASE_FOLDER}/jpg/{image_name(first[s])}"
              for i, s in enumerate(sizes, start=1) if first[s] != i}  # fmt: skip
    helper = student.ship(childside)
    root = helper.write_tree(files, copies)
    # a first call on a small folder: imports and first-use costs are not what is measured
    summary_of(student, helper.write_tree(flowers_files([small_jpeg(8, 8)], [1], {"trnid": [1]})), "summarize")
    before = student.sandbox.cpu_seconds()
    got = summary_of(student, root, "summarize")
    spent = student.sandbox.cpu_seconds() - before
    budget = MAX_CPU_SHARE * N_FAST * decode_seconds([photo_jpeg(*s) for s in distinct])
    timings["student_summarize_cpu_s"] = round(spent, 3)
    timings["decode_all_cpu_s"] = round(budget / MAX_CPU_SHARE, 3)
    assert_equal(dict(got["resolutions"]), dict(Counter(sizes)), what="resolutions of 1,000 photos")
    assert spent <= budget, (
        f"summarize took {spent:.2f} CPU seconds on 1,000 photos; decoding them takes about "
        f"{budget / MAX_CPU_SHARE:.2f} s here, and reading their headers about a twentieth of that: "
        f"at most {budget:.2f} s is allowed (are the pixels decoded?)"
    )


@points(1, part="data_summary")
def test_classes_are_the_distinct_labels(student):
    """n_classes counts the distinct labels of imagelabels.mat (here 3 classes: 5, 17 and 102), not the largest label or the number of images."""
    labels = [5, 17, 102, 17, 5, 5, 102, 17, 17]
    sizes = [(24, 16)] * len(labels)
    rng = np.random.default_rng(3)
    files = flowers_files([small_jpeg(*s) for s in sizes], labels, random_splits(list(range(1, len(labels) + 1)), rng))
    check_summary(student, files, labels, sizes)


@points(1, part="data_summary")
def test_width_before_height(student):
    """resolutions keys are (width, height): a 667-wide landscape and a 667-tall portrait are counted apart."""
    sizes = [(667, 500), (667, 500), (500, 667), (500, 500), (731, 500), (500, 541), (500, 541), (500, 541)]
    labels = [1, 2, 3, 1, 2, 3, 1, 2]
    files = flowers_files([photo_jpeg(*s) for s in sizes], labels, {"trnid": [1, 2, 3], "valid": [4, 5], "tstid": [6, 7, 8]})
    check_summary(student, files, labels, sizes)
