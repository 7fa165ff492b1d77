"""A first look at Oxford Flowers 102: how many images, how many classes, which sizes (TODO).

The data set is in torchvision's ``Flowers102`` layout::

    root/flowers-102/jpg/image_00001.jpg ... image_08189.jpg
    root/flowers-102/imagelabels.mat      # "labels": the class (1..102) of image i at index i-1
    root/flowers-102/setid.mat            # "trnid", "valid", "tstid": the image ids of each split

``python data_summary.py [ROOT]`` prints the summary (ROOT defaults to ``$FLOWERS_DATA`` or
``./data``; ``grader data perceptual --out data`` writes a synthetic set in this layout).
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from scipy.io import loadmat

BASE_FOLDER = "flowers-102"


def summarize(root: str | os.PathLike[str]) -> dict[str, Any]:
    """Summarise the Flowers102 folder under `root` (the folder that holds ``flowers-102/``).

    Returns ``{"n_images": int, "n_classes": int, "resolutions": Counter}``: the number of
    ``.jpg`` files in ``flowers-102/jpg``, the number of distinct labels in
    ``imagelabels.mat``, and how many images have each size ``(width, height)``.

    Read only the image *headers* (``PIL.Image.open`` does not decode the pixels until they
    are used): decoding 8,189 photos to learn their sizes takes minutes.
    """
    # TODO: implement summarize
    raise NotImplementedError("summarize: TODO")


def flowers102(root: str | os.PathLike[str], split: str = "train", transform: Callable[..., Any] | None = None) -> Any:
    """torchvision's ``Flowers102`` over `root` (`split`: "train", "val" or "test"), never downloading.

    torchvision checks the MD5 of the original ``imagelabels.mat`` and ``setid.mat``; a
    synthetic set in the same layout fails that check and is read by the same torchvision code
    with the check reduced to "the file exists".
    """
    from torchvision.datasets import Flowers102

    try:
        return Flowers102(root, split=split, transform=transform, download=False)
    except RuntimeError:  # "Dataset not found or corrupted": not the original files

        class Unchecked(Flowers102):
            _file_dict = {key: (name, None) for key, (name, _md5) in Flowers102._file_dict.items()}

        return Unchecked(root, split=split, transform=transform, download=False)


def main() -> None:
    """Print the summary of the data set and the most common resolutions."""
    root = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("FLOWERS_DATA", "data")
    summary = summarize(root)
    print(f"{summary['n_images']} images of {summary['n_classes']} classes")
    for (w, h), n in summary["resolutions"].most_common(10):
        print(f"  {w}×{h}: {n}")
    print(f"{len(flowers102(root, 'train'))} training images")


if __name__ == "__main__":
    main()
