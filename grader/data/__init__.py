"""Synthetic data sets written in the real data sets' on-disk layouts.

``GENERATORS`` maps a generator's name (as named in ``assignment.yaml``) to a function
``generate(out_dir, seed, *, size="small") -> out_dir`` that writes the data set into
``out_dir`` deterministically for ``seed``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from grader.data import landmarks


class DataGenerator(Protocol):
    """``generate(out_dir, seed=0, *, size="small")``: write a data set, return its folder."""

    def __call__(self, out_dir: Path, seed: int = 0, *, size: str = "small") -> Path: ...


GENERATORS: dict[str, DataGenerator] = {
    "landmarks": landmarks.generate,
}

__all__ = ["GENERATORS", "DataGenerator"]
