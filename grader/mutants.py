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
    """A mutant file that is malformed or does not apply to the reference; `str()` is one line,
    `file:line: what is wrong` where the line is known."""


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
    # The 1-based line of each key of the file (`part`, `replace[0]`, `files.extra.py`).
    lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def where(self, key: str) -> str:
        """`file:line` of `key` in the mutant file (the file alone when the line is unknown)."""
        line = self.lines.get(key)
        return f"{self.path}:{line}" if line is not None else str(self.path)


def key_lines(text: str) -> dict[str, int]:
    """The 1-based line of each key path of a YAML text (`part`, `replace[0]`, `replace[0].old`)."""
    lines: dict[str, int] = {}

    def walk(node: yaml.Node, path: str) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    sub = f"{path}.{key.value}" if path else str(key.value)
                    lines.setdefault(sub, key.start_mark.line + 1)
                    walk(value, sub)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                lines.setdefault(f"{path}[{i}]", item.start_mark.line + 1)
                walk(item, f"{path}[{i}]")

    top = yaml.compose(text, Loader=yaml.SafeLoader)
    if top is not None:
        walk(top, "")
    return lines


def _yaml_problem(path: Path, exc: yaml.YAMLError) -> MutantError:
    """A YAML syntax error in one line: `file:line: not valid YAML: problem`."""
    mark = getattr(exc, "problem_mark", None)
    where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return MutantError(f"{where}: not valid YAML: {problem}")


def load_mutant(path: Path) -> Mutant:
    """Read a mutant YAML file (see docs/writing-tests.md); MutantError says what is wrong, where."""
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
        lines = key_lines(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise MutantError(f"{path}: cannot read mutant: {exc}") from None
    except yaml.YAMLError as exc:
        raise _yaml_problem(path, exc) from None

    def at(key: str) -> str:
        line = lines.get(key)
        return f"{path}:{line}" if line is not None else str(path)

    if not isinstance(data, dict):
        raise MutantError(f"{path}:1: expected a mapping (part:, description:, replace: ...)")
    known = {"part", "description", "replace", "files", "links", "fifos", "expect_score", "expect_message"}
    unknown = sorted(str(k) for k in set(data) - known)
    if unknown:
        raise MutantError(
            f"{at(unknown[0])}: unknown key(s) {', '.join(unknown)}; expected {', '.join(sorted(known))}"
        )
    replace = data.get("replace") or []
    if not isinstance(replace, list):
        raise MutantError(f"{at('replace')}: replace must be a list of file/old/new entries")
    reps = []
    for i, r in enumerate(replace):
        if not isinstance(r, dict) or not {"file", "old", "new"} <= set(r) or not all(
            isinstance(r[k], str) for k in ("file", "old", "new")
        ):
            raise MutantError(f"{at(f'replace[{i}]')}: replace[{i}] needs string keys file, old, new")
        reps.append(Replacement(r["file"], r["old"], r["new"]))
    files = data.get("files") or {}
    if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        raise MutantError(f"{at('files')}: files must map relative paths to file contents")
    links = data.get("links") or {}
    if not isinstance(links, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in links.items()):
        raise MutantError(f"{at('links')}: links must map relative paths to link targets")
    fifos = data.get("fifos") or []
    if not isinstance(fifos, list) or not all(isinstance(f, str) for f in fifos):
        raise MutantError(f"{at('fifos')}: fifos must be a list of relative paths")
    if not reps and not files and not links and not fifos:
        raise MutantError(f"{path}: a mutant needs `replace`, `files`, `links` or `fifos`")
    part = data.get("part")
    if part is not None and not isinstance(part, str):
        raise MutantError(f"{at('part')}: part must be a string")
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
        lines=lines,
    )


def check_part(mutant: Mutant, part_names: tuple[str, ...] | list[str]) -> None:
    """Raise MutantError unless the mutant names one of `part_names` (the part it must lose)."""
    parts = ", ".join(part_names)
    if mutant.part is None:
        raise MutantError(f"{mutant.path}: names no part; add `part: NAME`, one of: {parts}")
    if mutant.part not in part_names:
        raise MutantError(f"{mutant.where('part')}: part {mutant.part!r} is not a part of the assignment ({parts})")


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
    for i, rep in enumerate(mutant.replace):
        where = mutant.where(f"replace[{i}]")
        target = _inside(root, rep.file, mutant)
        if not target.is_file():
            raise MutantError(f"{where}: {rep.file} is not a file of the reference")
        text = target.read_text()
        count = text.count(rep.old)
        if count != 1:
            raise MutantError(
                f"{where}: {rep.old!r} occurs {count} times in {rep.file}; it must occur exactly once"
            )
        target.write_text(text.replace(rep.old, rep.new))
    key, made = "", ""  # the entry being made (its key in the file, its path), for errors
    try:
        for rel, content in mutant.files.items():
            key, made = f"files.{rel}", rel
            target = _inside(root, rel, mutant)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
        for rel, link_target in mutant.links.items():
            key, made = f"links.{rel}", rel
            for name, value in (fill or {}).items():
                link_target = link_target.replace(name, value)
            _make(root, rel, mutant, lambda p, t=link_target: os.symlink(t, p))
        for i, rel in enumerate(mutant.fifos):
            key, made = f"fifos[{i}]", rel
            _make(root, rel, mutant, os.mkfifo)
    except OSError as exc:  # e.g. a file or link where the reference has a folder, or under a file
        raise MutantError(f"{mutant.where(key)}: cannot create {made}: {exc.strerror or exc}") from None
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
