"""A class's submissions, found in what an LMS exports: one `Submission` per student.

`discover(source, work)` accepts:

- a folder with one sub-folder (or `.zip` / `.ipynb`) per student: the id is its name;
- a folder of GitHub Classroom clones (`assignment-login/`): the id is the login (the prefix
  every folder shares, up to its last `-`, is dropped);
- a Gradescope "Export Submissions" zip (or that zip unpacked): `submission_metadata.yml` and
  one `submission_<id>/` folder per submission; the id is the submitters' SIDs (or emails,
  or names), joined with `+` for a group, else `submission_<id>`;
- a Canvas bulk download (zip or folder) of files named `login[_late]_userid_subid_name`:
  the id is the login, the files of one student are gathered into one folder.

An export zip is unpacked by grader/intake.py under `work` (hostile data: no link followed,
sizes and counts bounded, nothing written outside `work`). A submission that cannot be read
is kept as a `Submission` with `problem` set, so the batch gives it a row with the reason.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.intake import IntakeError, IntakeLimits, ignored, stage_submission

# An export of a whole class is bigger than one submission; its members are still bounded.
EXPORT_LIMITS = IntakeLimits(max_bytes=4 * 2**30, max_files=500_000, max_depth=40, seconds=600.0)
# What one submission's hash reads at most (a bigger one hashes its first bytes and its size).
HASH_MAX_BYTES = 512 * 2**20
HASH_MAX_FILES = 20_000

CANVAS_NAME = re.compile(r"^(?P<login>[A-Za-z0-9.\-]+?)(?:_LATE|_late)?_(?P<user>\d+)_(?P<sub>\d+)_(?P<name>.+)$")
_CANVAS_DUPLICATE = re.compile(r"^(?P<stem>.+)-\d+(?P<suffix>\.[^.]+)$")
_SAFE_ID = re.compile(r"[^A-Za-z0-9._@+\-]+")


@dataclass
class Submission:
    """One student's submission: a stable id, its path, and why it cannot be graded (or None)."""

    id: str
    path: Path | None
    source: str  # the entry of the export it came from
    problem: str | None = None


class ExportError(Exception):
    """The export as a whole cannot be read (not a folder or zip; a zip intake refuses)."""


def discover(source: Path, work: Path) -> tuple[str, list[Submission]]:
    """The export's layout name and its submissions, sorted by id; `work` holds unpacked files."""
    source = Path(source)
    if not source.exists():
        raise ExportError(f"{source} does not exist")
    if source.is_file():
        if source.suffix.lower() != ".zip":
            raise ExportError(f"{source} is not a folder or a .zip export")
        unpacked = work / "export"
        work.mkdir(parents=True, exist_ok=True)
        try:
            stage_submission(source, unpacked, limits=EXPORT_LIMITS)
        except IntakeError as exc:
            raise ExportError(f"the export {source.name} cannot be read: {exc}") from None
        folder = _single_folder(unpacked)
    elif source.is_dir():
        folder = _single_folder(source) if _gradescope_root(source) is None else source
    else:
        raise ExportError(f"{source} is not a folder or a .zip export")
    root = _gradescope_root(folder)
    if root is not None:
        return "gradescope", _unique(_gradescope(root))
    entries = _entries(folder)
    files = [p for p in entries if p.is_file()]
    if files and all(CANVAS_NAME.match(p.name) for p in files):
        return "canvas", _unique(_canvas(folder, files, work / "canvas"))
    subs = _folder_of_submissions(entries)
    return ("classroom" if _classroom_prefix(entries) else "folder"), _unique(subs)


def _entries(folder: Path) -> list[Path]:
    """The entries of `folder` a batch looks at (no hidden names, no caches, no links)."""
    out = []
    for p in sorted(folder.iterdir(), key=lambda p: p.name):
        if p.name.startswith(".") or ignored(p.name) or p.is_symlink():
            continue
        out.append(p)
    return out


def _single_folder(folder: Path) -> Path:
    """`folder`, or the one folder inside it when that is all it holds (a zip's top folder)."""
    entries = _entries(folder)
    if len(entries) == 1 and entries[0].is_dir() and _gradescope_root(folder) is None:
        inner = entries[0]
        if _gradescope_root(inner) is not None or all(p.is_dir() or p.suffix in (".zip", ".ipynb") for p in _entries(inner)):
            return inner
    return folder


def _gradescope_root(folder: Path) -> Path | None:
    meta = folder / "submission_metadata.yml"
    return folder if meta.is_file() and not meta.is_symlink() else None


def _key(data: dict[str, Any], name: str) -> Any:
    """`data[name]`, also under the Ruby-symbol spelling Gradescope writes (`:name`)."""
    return data.get(name, data.get(f":{name}"))


def _safe(text: str) -> str:
    return _SAFE_ID.sub("_", text.strip()).strip("_") or "unnamed"


def _gradescope(root: Path) -> list[Submission]:
    import yaml

    meta_file = root / "submission_metadata.yml"
    try:
        if meta_file.stat().st_size > 64 * 2**20:
            raise ExportError("submission_metadata.yml is larger than 64 MiB")
        meta = yaml.safe_load(meta_file.read_text(errors="replace")) or {}
    except yaml.YAMLError as exc:
        raise ExportError(f"submission_metadata.yml does not parse: {exc}") from None
    if not isinstance(meta, dict):
        raise ExportError("submission_metadata.yml is not a mapping of submissions")
    subs: list[Submission] = []
    seen: set[str] = set()
    for key, info in meta.items():
        folder_name = str(key).strip(":")
        seen.add(folder_name)
        people = _key(info, "submitters") if isinstance(info, dict) else None
        names = []
        for person in people if isinstance(people, list) else []:
            if isinstance(person, dict):
                who = _key(person, "sid") or _key(person, "email") or _key(person, "name")
                if who:
                    names.append(_safe(str(who)))
        sub_id = "+".join(sorted(names)) or _safe(folder_name)
        if "/" in folder_name or "\\" in folder_name or folder_name.startswith(".") or not folder_name:
            # The metadata names a folder outside the export: never read it.
            subs.append(Submission(sub_id, None, _safe(folder_name), f"{folder_name!r}: not a folder of the export"))
            continue
        subs.append(_one(root / folder_name, sub_id, folder_name))
    for p in _entries(root):  # folders the metadata does not list still get a row
        if p.name not in seen and p.name != "submission_metadata.yml":
            subs.append(_one(p, p.name, p.name))
    return subs


def _one(path: Path, sub_id: str, source: str) -> Submission:
    """A submission at `path`, or one with the reason it cannot be graded."""
    if path.is_symlink() or not path.exists():
        return Submission(sub_id, None, source, f"{source}: missing from the export")
    if path.is_dir() or path.suffix.lower() in (".zip", ".ipynb"):
        return Submission(sub_id, path, source)
    return Submission(sub_id, None, source, f"{source}: not a folder, a .zip or a .ipynb")


def _canvas(folder: Path, files: list[Path], out: Path) -> list[Submission]:
    """Gather each login's files into `out/<login>/` under their original names."""
    groups: dict[str, list[tuple[Path, str]]] = {}
    for p in files:
        m = CANVAS_NAME.match(p.name)
        assert m is not None
        name = m["name"]
        dup = _CANVAS_DUPLICATE.match(name)  # Canvas renames a resubmitted file `name-1.py`
        if dup:
            name = dup["stem"] + dup["suffix"]
        groups.setdefault(m["login"], []).append((p, name))
    subs = []
    for login, members in sorted(groups.items()):
        sub_id = _safe(login)
        if len(members) == 1 and members[0][1].lower().endswith((".zip", ".ipynb")):
            subs.append(Submission(sub_id, members[0][0], members[0][0].name))
            continue
        dest = out / sub_id
        dest.mkdir(parents=True, exist_ok=True)
        for p, name in sorted(members, key=lambda m: m[0].name):  # a later -N wins
            if "/" in name or name in ("", ".", ".."):
                continue
            shutil.copyfile(p, dest / name, follow_symlinks=False)
        subs.append(Submission(sub_id, dest, ", ".join(m[0].name for m in members)))
    return subs


def _classroom_prefix(entries: list[Path]) -> str:
    """The `assignment-` prefix every folder shares (GitHub Classroom), or ''."""
    dirs = [p.name for p in entries if p.is_dir()]
    if len(dirs) < 2 or len(dirs) != len(entries):
        return ""
    common = os.path.commonprefix(dirs)
    cut = common.rfind("-")
    if cut <= 0 or any(len(d) <= cut + 1 for d in dirs):
        return ""
    return common[: cut + 1]


def _folder_of_submissions(entries: list[Path]) -> list[Submission]:
    prefix = _classroom_prefix(entries)
    subs = []
    for p in entries:
        stem = p.name if p.is_dir() else p.stem
        subs.append(_one(p, _safe(stem[len(prefix) :] if prefix else stem), p.name))
    return subs


def _unique(subs: list[Submission]) -> list[Submission]:
    """Ids made unique (`id`, `id~2`, …) and sorted."""
    seen: dict[str, int] = {}
    for s in sorted(subs, key=lambda s: (s.id, s.source)):
        n = seen.get(s.id, 0) + 1
        seen[s.id] = n
        if n > 1:
            s.id = f"{s.id}~{n}"
    return sorted(subs, key=lambda s: s.id)


def submission_hash(path: Path | None) -> str:
    """A sha256 of a submission's files (relative names and contents; links never followed).

    A folder is walked without following links, leaving out what intake ignores; a file is
    hashed as it is. Reading stops at `HASH_MAX_BYTES` / `HASH_MAX_FILES` (the counts go in).
    """
    h = hashlib.sha256()
    if path is None:
        return h.hexdigest()
    budget = [HASH_MAX_BYTES, HASH_MAX_FILES]

    def add_file(p: Path, rel: str) -> None:
        h.update(b"F" + rel.encode("utf-8", "surrogateescape") + b"\0")
        try:
            fd = os.open(p, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError as exc:
            h.update(f"unreadable {exc.errno}".encode())
            return
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                h.update(b"not a file")
                return
            while budget[0] > 0:
                chunk = f.read(min(1 << 20, budget[0]))
                if not chunk:
                    break
                budget[0] -= len(chunk)
                h.update(chunk)
            h.update(b"\0" + str(os.fstat(f.fileno()).st_size).encode())

    if not path.is_dir():
        add_file(path, path.name)
        return h.hexdigest()
    for dirpath, dirnames, filenames in os.walk(path, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not ignored(d))
        for name in sorted(filenames):
            if ignored(name):
                continue
            budget[1] -= 1
            if budget[1] < 0:
                h.update(b"too many files")
                return h.hexdigest()
            full = Path(dirpath) / name
            rel = full.relative_to(path).as_posix()
            if full.is_symlink():
                h.update(b"L" + rel.encode("utf-8", "surrogateescape"))
                continue
            add_file(full, rel)
    return h.hexdigest()
