"""Where a grading run finds its data sets: a real folder, or cached synthetic ones.

Two data sets per assignment with a generator:

- the *public* one (`resolve_data_dir`), from `data.seed`: the child may read it (tests
  hand its path to student code), and students can regenerate it with the same generator and seed;
- the *held-out* one (`heldout_data_dir`), from the grading seed that students do not have:
  its validation partition decides training thresholds. It lives in a 0700 folder of the cache
  whose name is a hash, outside every path the sandboxed child may read, and the seed never
  reaches the child.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

GRADING_SEED_ENV = "GRADER_GRADING_SEED"
GRADING_SEED_FILE = "grading_seed"  # in the assignment folder, unless data.grading_seed_file
SMALL = "small"


class HeldOutError(Exception):
    """The held-out data set cannot be made safely (a bad grading seed, a readable cache)."""


def cache_root() -> Path:
    """The folder holding generated data sets (`$GRADER_CACHE`, else ~/.cache/grader)."""
    env = os.environ.get("GRADER_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "grader"


def generator_of(spec: Any) -> Callable[..., Any]:
    """The assignment's data generator: `data.generator` ("module:function") of its folder."""
    from grader.runner import packages

    if not spec.data.generator:
        raise KeyError(f"{spec.name} has no data generator (assignment.yaml: data.generator)")
    return packages.import_from(spec, spec.data.generator)


def generator_key(spec: Any) -> str:
    """The assignment's name and a digest of its generator's file: a new file, new data."""
    if not spec.data.generator:
        raise KeyError(f"{spec.name} has no data generator (assignment.yaml: data.generator)")
    module = spec.data.generator.partition(":")[0]
    source = Path(spec.root) / (module.replace(".", "/") + ".py")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:12]
    return f"{spec.name}-{digest}"


def cached_path(spec: Any, seed: int, *, size: str = SMALL) -> Path:
    """Where `generate_cached` keeps `spec`'s public data set for `seed`."""
    return cache_root() / "data" / f"{generator_key(spec)}-{size}-seed{seed}"


def _generate_once(target: Path, spec: Any, seed: int, size: str, mode: int) -> Path:
    """Generate into `target` atomically (a temporary sibling renamed), unless it is complete."""
    if (target / ".complete").exists():
        return target
    generate = generator_of(spec)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{spec.name}-", dir=target.parent))
    try:
        generate(tmp, seed, size=size)
        (tmp / ".complete").write_text("ok\n")
        tmp.chmod(mode)
        try:
            tmp.rename(target)
        except OSError:  # another process finished first
            if not (target / ".complete").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def generate_cached(spec: Any, seed: int | None = None, *, size: str = SMALL) -> Path:
    """`spec`'s synthetic data set for `seed` (default `data.seed`), generated once, then reused."""
    seed = spec.data.seed if seed is None else seed
    # 0755: mkdtemp's 0700 would keep a sandbox slot uid from reading it.
    return _generate_once(cached_path(spec, seed, size=size), spec, seed, size, 0o755)


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
        return generate_cached(spec)
    return None


# --------------------------------------------------------------------------- the grading seed


def _parse_seed(text: str, where: str) -> int:
    """The integer in `text`; lines starting with '#' are comments."""
    lines = [ln.strip() for ln in text.splitlines()]
    values = [ln for ln in lines if ln and not ln.startswith("#")]
    try:
        if len(values) != 1:
            raise ValueError
        seed = int(values[0])
    except ValueError:
        raise HeldOutError(f"the grading seed in {where} is not an integer") from None
    if seed < 0:
        raise HeldOutError(f"the grading seed in {where} is negative")
    return seed


def machine_seed_file() -> Path:
    """This machine's grading-seed secret: `grading_seed` in the cache, mode 0600."""
    return cache_root() / GRADING_SEED_FILE


def machine_grading_seed() -> int:
    """This machine's secret grading seed, made once (a random 63-bit int, file mode 0600)."""
    path = machine_seed_file()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".grading_seed-", dir=path.parent)  # mode 0600
        try:
            with os.fdopen(fd, "w") as f:
                f.write(f"{secrets.randbits(63)}\n")
            with contextlib.suppress(FileExistsError):  # another process made it first
                os.link(tmp, path)  # never replaces a secret that is already there
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise HeldOutError(f"{path} is mode {mode:04o}: a grading seed must be mode 0600")
    return _parse_seed(path.read_text(), str(path))


def resolve_grading_seed(spec: Any) -> tuple[int, Path | None]:
    """The grading seed and the file it came from (None: the environment).

    In order: `$GRADER_GRADING_SEED`; the assignment's seed file (`data.grading_seed_file`,
    else `grading_seed` in the assignment folder when it exists); this machine's secret.
    """
    raw = os.environ.get(GRADING_SEED_ENV, "")
    if raw.strip():
        return _parse_seed(raw, f"${GRADING_SEED_ENV}"), None
    configured = spec.data.grading_seed_file
    path = Path(configured) if configured is not None else Path(spec.root) / GRADING_SEED_FILE
    if path.is_file():
        return _parse_seed(path.read_text(), str(path)), path
    if configured is not None:
        raise HeldOutError(f"data.grading_seed_file {path} does not exist")
    return machine_grading_seed(), machine_seed_file()


def grading_seed(spec: Any) -> int:
    """The seed of `spec`'s held-out data set (never shown to students or the child)."""
    return resolve_grading_seed(spec)[0]


# --------------------------------------------------------------------------- the held-out set


def heldout_path(spec: Any, seed: int, *, size: str = SMALL) -> Path:
    """Where the held-out data set for `seed` is cached: a hashed name that hides the seed."""
    digest = hashlib.sha256(f"grader-heldout\0{generator_key(spec)}\0{size}\0{seed}".encode()).hexdigest()
    return cache_root() / "heldout" / digest[:32]


def child_readable(path: Path, data_dir: Path | None) -> str | None:
    """The path of the sandboxed child's read allowlist that holds `path`, or None."""
    from grader.sandbox import layers

    policy = layers.Policy(workdir="/nonexistent", read_only=[str(data_dir)] if data_dir else [])
    real = os.path.realpath(path)
    for allowed in layers.read_only_paths(policy):
        base = os.path.realpath(allowed)
        if real == base or real.startswith(base.rstrip("/") + "/"):
            return allowed
    return None


def _uses_generated_data(spec: Any, data_dir: Path) -> bool:
    if spec.data.path is not None or not spec.data.generator:
        return False
    public = cached_path(spec, spec.data.seed)
    return os.path.realpath(data_dir) == os.path.realpath(public)


def heldout_data_dir(spec: Any, data_dir: Path) -> Path:
    """The data set whose validation partition decides thresholds (trusted process only).

    With generated data: the assignment's generator run with the grading seed, cached in a
    0700 folder outside the child's read allowlist. With real data (`data.path` or `--data`):
    `data_dir` itself; its validation partition is then as private as that folder.
    """
    if not _uses_generated_data(spec, data_dir):
        return data_dir

    def refuse_readable(what: str, path: Path | None) -> None:
        if path is not None and (allowed := child_readable(path, data_dir)) is not None:
            raise HeldOutError(
                f"the {what} {path} lies under {allowed}, which the sandboxed child may read; "
                "move it (for the cache: set GRADER_CACHE to a folder outside it)"
            )

    refuse_readable("grader cache", cache_root())  # before a machine secret is made there
    seed, source = resolve_grading_seed(spec)
    if seed == spec.data.seed:
        raise HeldOutError(
            f"the grading seed equals the public data.seed {spec.data.seed}: pick another one"
        )
    refuse_readable("grading seed file", source)
    target = heldout_path(spec, seed)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.parent.chmod(0o700)
    return _generate_once(target, spec, seed, SMALL, 0o700)
