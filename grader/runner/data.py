"""Where a grading run finds its data set: a real folder, or a cached synthetic one."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any


def cache_root() -> Path:
    """The folder holding generated data sets (`$GRADER_CACHE`, else ~/.cache/grader)."""
    env = os.environ.get("GRADER_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "grader"


def generate_cached(generator: str, seed: int, *, size: str = "small") -> Path:
    """The synthetic data set `generator` for `seed`, generated once and then reused."""
    from grader.data import GENERATORS

    if generator not in GENERATORS:
        known = ", ".join(sorted(GENERATORS)) or "none"
        raise KeyError(f"unknown data generator {generator!r} (known: {known})")
    target = cache_root() / "data" / f"{generator}-{size}-seed{seed}"
    if (target / ".complete").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{generator}-", dir=target.parent))
    try:
        GENERATORS[generator](tmp, seed, size=size)
        (tmp / ".complete").write_text("ok\n")
        tmp.chmod(0o755)  # mkdtemp's 0700 would keep a sandbox slot uid from reading it
        try:
            tmp.rename(target)
        except OSError:  # another process finished first
            if not (target / ".complete").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def resolve_data_dir(spec: Any, override: Path | None = None) -> Path | None:
    """`override`, else the spec's real data path, else its generated data set, else None."""
    if override is not None:
        path = Path(override).resolve()
        if not path.is_dir():
            raise FileNotFoundError(f"data folder {path} does not exist")
        return path
    if spec.data.path is not None:
        return Path(spec.data.path).resolve()
    if spec.data.generator:
        return generate_cached(spec.data.generator, spec.data.seed)
    return None
