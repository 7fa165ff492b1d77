"""Mutants: submissions with one deliberate bug, described as edits of the reference solution."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class MutantError(ValueError):
    """A mutant file that is malformed or does not apply to the reference."""


@dataclass(frozen=True)
class Replacement:
    """Replace the one occurrence of `old` in `file` by `new`."""

    file: str
    old: str
    new: str


@dataclass(frozen=True)
class Mutant:
    """A described bug: the part that must lose points, and how to make it from the reference."""

    name: str
    path: Path
    description: str
    part: str | None = None
    replace: tuple[Replacement, ...] = ()
    files: dict[str, str] = field(default_factory=dict)
    # Symbolic links (relative path -> target, placeholders allowed) and FIFOs to create.
    links: dict[str, str] = field(default_factory=dict)
    fifos: tuple[str, ...] = ()
    # Optional expectations used by the harness's own adversarial tests.
    expect: dict[str, Any] = field(default_factory=dict)


def load_mutant(path: Path) -> Mutant:
    """Read a mutant YAML file (see docs/writing-tests.md)."""
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise MutantError(f"{path}: cannot read mutant: {exc}") from None
    if not isinstance(data, dict):
        raise MutantError(f"{path}: expected a mapping")
    known = {"part", "description", "replace", "files", "links", "fifos", "expect_score", "expect_message"}
    unknown = set(data) - known
    if unknown:
        raise MutantError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}; expected {', '.join(sorted(known))}")
    reps = []
    for i, r in enumerate(data.get("replace") or []):
        if not isinstance(r, dict) or not {"file", "old", "new"} <= set(r) or not all(
            isinstance(r[k], str) for k in ("file", "old", "new")
        ):
            raise MutantError(f"{path}: replace[{i}] needs string keys file, old, new")
        reps.append(Replacement(r["file"], r["old"], r["new"]))
    files = data.get("files") or {}
    if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        raise MutantError(f"{path}: files must map relative paths to file contents")
    links = data.get("links") or {}
    if not isinstance(links, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in links.items()):
        raise MutantError(f"{path}: links must map relative paths to link targets")
    fifos = data.get("fifos") or []
    if not isinstance(fifos, list) or not all(isinstance(f, str) for f in fifos):
        raise MutantError(f"{path}: fifos must be a list of relative paths")
    if not reps and not files and not links and not fifos:
        raise MutantError(f"{path}: a mutant needs `replace`, `files`, `links` or `fifos`")
    part = data.get("part")
    if part is not None and not isinstance(part, str):
        raise MutantError(f"{path}: part must be a string")
    expect = {k.removeprefix("expect_"): data[k] for k in ("expect_score", "expect_message") if k in data}
    return Mutant(
        name=path.stem,
        path=path,
        description=str(data.get("description", "")),
        part=part,
        replace=tuple(reps),
        files=dict(files),
        links=dict(links),
        fifos=tuple(fifos),
        expect=expect,
    )


def load_mutants(folder: Path) -> list[Mutant]:
    """Every `*.yaml` mutant in `folder`, sorted by name (none if the folder is missing)."""
    if not folder.is_dir():
        return []
    return [load_mutant(p) for p in sorted(folder.glob("*.yaml"))]


def build_mutant(
    reference_dir: Path, mutant: Mutant, out_dir: Path, *, fill: Mapping[str, str] | None = None
) -> Path:
    """Write the mutant submission into `out_dir`: a copy of the reference with the edits.

    `fill` replaces placeholders (e.g. `@@PROJECT@@`) in link targets.
    """
    shutil.copytree(
        reference_dir, out_dir, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    root = out_dir.resolve()
    for rep in mutant.replace:
        target = _inside(root, rep.file, mutant)
        if not target.is_file():
            raise MutantError(f"{mutant.path}: {rep.file} is not a file of the reference")
        text = target.read_text()
        count = text.count(rep.old)
        if count != 1:
            raise MutantError(
                f"{mutant.path}: {rep.old!r} occurs {count} times in {rep.file}; it must occur exactly once"
            )
        target.write_text(text.replace(rep.old, rep.new))
    for rel, content in mutant.files.items():
        target = _inside(root, rel, mutant)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    for rel, link_target in mutant.links.items():
        for key, value in (fill or {}).items():
            link_target = link_target.replace(key, value)
        _make(root, rel, mutant, lambda p, t=link_target: os.symlink(t, p))
    for rel in mutant.fifos:
        _make(root, rel, mutant, os.mkfifo)
    return out_dir


def _make(root: Path, rel: str, mutant: Mutant, create: Callable[[Path], None]) -> None:
    """Create a special entry at `rel` (never following a link there), replacing a file."""
    target = _inside(root, os.path.dirname(rel) or ".", mutant) / os.path.basename(rel)
    if not os.path.basename(rel) or os.path.basename(rel) in (".", ".."):
        raise MutantError(f"{mutant.path}: {rel!r} is not a file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.is_file():
        target.unlink()
    create(target)


def _inside(root: Path, rel: str, mutant: Mutant) -> Path:
    target = (root / rel).resolve()
    if not target.is_relative_to(root):
        raise MutantError(f"{mutant.path}: {rel} is outside the submission")
    return target
