"""Helpers the dogs tests ship into the sandboxed child (`student.ship(childside)`).

They set up what the grader chose, in the child: image files and folders written from bytes
the trusted process encoded, PIL images from pixel arrays, a torch cache with given weights
(`student.harness.offline` guards against downloads). Student code can read and patch them (they run
in its process), so nothing here is secret, and no verdict rests on what they report: the
tests decide from outputs and tensors returned by value.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image


def write_tree(files: Mapping[str, bytes]) -> str:
    """Write `files` (relative path → bytes) under a fresh temporary folder; return its path."""
    root = Path(tempfile.mkdtemp(prefix="tree-"))
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(bytes(data))
    return str(root)


def pil_image(pixels: Any) -> Image.Image:
    """An RGB PIL image from an H×W×3 uint8 array (as `Image.open` of a JPEG gives one)."""
    return Image.fromarray(np.asarray(pixels, dtype=np.uint8), mode="RGB")



def torch_home(seed: int | None) -> str:
    """Point `TORCH_HOME` at a fresh folder. With `seed`, put there, where torchvision looks for
    ResNet-18's ImageNet file, the weights of `resnet18()` initialised after
    `torch.manual_seed(seed)` (stand-in "pretrained" weights the grader can rebuild). Returns
    the folder."""
    import torch
    from torchvision.models import ResNet18_Weights, resnet18

    home = Path(tempfile.mkdtemp(prefix="torch-home-"))
    if seed is not None:
        name = os.path.basename(ResNet18_Weights.IMAGENET1K_V1.url)
        (home / "hub" / "checkpoints").mkdir(parents=True)
        torch.manual_seed(seed)
        torch.save(resnet18(weights=None).state_dict(), home / "hub" / "checkpoints" / name)
    os.environ["TORCH_HOME"] = str(home)
    return str(home)
