"""Intake: a submission (a folder, a `.zip` or a `.ipynb`) read once, as hostile data.

`stage_submission` copies what can be graded into a trusted staging folder that holds only
regular files and folders; each sandboxed child's working folder is then copied from there
with `copy_staged`, so the untrusted tree is walked once. Links are never followed (not even
those that point inside the submission); devices, FIFOs and sockets are never opened; the
bytes actually read, the number of entries, the depth and the wall time are bounded. What was
left out is listed in the `IntakeReport`; a submission over a cap raises `IntakeError`.
A notebook is staged as the files its `%%writefile` cells write (grader/notebook.py), read as
JSON and never run.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import shutil
import stat
import struct
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from grader.notebook import NotebookError, extract_files

IGNORED_NAMES = frozenset({"__pycache__", ".git", ".pytest_cache", ".hypothesis"})
IGNORED_SUFFIXES = (".pyc",)

LINK = "a symbolic link, not followed"
DEVICE = "a device"
FIFO = "a FIFO (named pipe)"
SOCKET = "a socket"
UNSAFE_PATH = "an unsafe path (absolute or with ..), not extracted"

_CHUNK = 1 << 20
_OPEN_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_ZIP_END = struct.Struct("<4s4H2LH")  # the end-of-central-directory record
_ZIP_ENTRY_BYTES = 1024  # central-directory bytes allowed per permitted entry


class IntakeError(Exception):
    """The submission is refused as a whole: over a cap, out of time, or unreadable."""


class NotASubmission(IntakeError):
    """The path does not exist or is not a folder, a `.zip` file or a `.ipynb` file."""


@dataclass(frozen=True)
class IntakeLimits:
    """The caps of one intake."""

    max_bytes: int = 200 * 2**20  # bytes copied in all, counted as read (not as claimed)
    max_files: int = 10_000  # entries in all: files, folders and skipped entries
    max_depth: int = 32  # path components below the submission's root
    seconds: float = 60.0  # wall-clock time for the whole intake
    max_notebook_bytes: int = 50 * 2**20  # a notebook given as the submission
    max_reported: int = 20  # skipped entries listed by name (all are counted)


DEFAULT_LIMITS = IntakeLimits()


@dataclass(frozen=True)
class Skipped:
    """An entry left out of the staged copy, and why."""

    path: str
    reason: str


@dataclass
class IntakeReport:
    """What one intake staged and what it left out."""

    kind: str  # folder | zip | notebook
    files: int = 0
    folders: int = 0
    bytes: int = 0
    skipped: list[Skipped] = field(default_factory=list)  # the first `max_reported`
    skipped_total: int = 0
    seconds: float = 0.0

    def to_metadata(self) -> dict[str, Any]:
        """Plain data for `GradeResult.metadata["intake"]` (the time under a timing key)."""
        return {
            "kind": self.kind,
            "files": self.files,
            "folders": self.folders,
            "bytes": self.bytes,
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "skipped_total": self.skipped_total,
            "duration": round(self.seconds, 4),
        }


def submission_kind(source: Path) -> str:
    """'folder', 'zip' or 'notebook' for `source` (NotASubmission otherwise)."""
    try:
        mode = os.stat(source).st_mode  # the path the grader was given; nothing inside is followed
    except OSError:
        raise NotASubmission(f"submission {source} does not exist") from None
    if stat.S_ISDIR(mode):
        return "folder"
    suffix = Path(source).suffix.lower()
    if stat.S_ISREG(mode) and suffix in (".zip", ".ipynb"):
        return "zip" if suffix == ".zip" else "notebook"
    raise NotASubmission(f"submission {source} is not a folder, a .zip file or a .ipynb notebook")


def stage_submission(
    source: Path, dest: Path, *, limits: IntakeLimits = DEFAULT_LIMITS
) -> IntakeReport:
    """Copy the gradable part of `source` into `dest` (created; must not exist) and report.

    Raises NotASubmission for a missing path or one of the wrong kind, and IntakeError when
    the submission is over a cap or out of time; `dest` is then removed. `source` is never
    modified.
    """
    source, dest = Path(source), Path(dest)
    kind = submission_kind(source)
    dest.mkdir(mode=0o700)  # the grader's private copy
    intake = _Intake(limits, kind)
    try:
        if kind == "folder":
            intake.folder(source, dest)
        elif kind == "zip":
            intake.zip(source, dest)
        else:
            intake.notebook(source, dest)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    intake.report.seconds = time.monotonic() - intake.started
    return intake.report


def copy_staged(staged: Path, dest: Path) -> None:
    """Copy a staged tree into `dest` (which may exist): regular files and folders only."""

    def others(folder: str, names: list[str]) -> set[str]:
        return {
            n
            for n in names
            if _kind(os.lstat(os.path.join(folder, n)).st_mode) not in ("file", "dir")
        }

    shutil.copytree(staged, dest, symlinks=True, ignore=others, dirs_exist_ok=True)


def ignored(name: str) -> bool:
    """True for the names intake leaves out silently (caches, VCS data, bytecode)."""
    return name in IGNORED_NAMES or name.endswith(IGNORED_SUFFIXES)


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISLNK(mode):
        return LINK
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return DEVICE
    if stat.S_ISFIFO(mode):
        return FIFO
    if stat.S_ISSOCK(mode):
        return SOCKET
    return "not a regular file"


def _open_regular(path: Path) -> BinaryIO:
    """`path` opened for reading, refused unless it is a regular file (never blocks on a FIFO)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise NotASubmission(f"submission {path} is not a regular file")
    return os.fdopen(fd, "rb")


def _mib(n: int) -> str:
    return f"{n / 2**20:g} MiB" if n >= 2**20 else f"{n} bytes"


class _Intake:
    """The state of one intake: caps, clock, counts."""

    def __init__(self, limits: IntakeLimits, kind: str) -> None:
        self.limits = limits
        self.report = IntakeReport(kind=kind)
        self.started = time.monotonic()
        self.deadline = self.started + limits.seconds
        self.entries = 0

    # --- caps -----------------------------------------------------------------------------
    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise IntakeError(f"reading the submission took longer than {self.limits.seconds:g} s")

    def count(self, depth: int) -> None:
        self.tick()
        self.entries += 1
        if self.entries > self.limits.max_files:
            raise IntakeError(
                f"the submission has more than {self.limits.max_files} files and folders"
            )
        if depth > self.limits.max_depth:
            raise IntakeError(
                f"the submission has folders nested more than {self.limits.max_depth} levels deep"
            )

    def skip(self, path: str, reason: str) -> None:
        self.report.skipped_total += 1
        if len(self.report.skipped) < self.limits.max_reported:
            self.report.skipped.append(Skipped(path, reason))

    def pump(self, read: Callable[[int], bytes], out: Path) -> None:
        """Copy what `read` gives into the new file `out`, counting every byte against the cap."""
        fd = os.open(out, _CREATE, 0o644)
        try:
            while True:
                self.tick()
                room = self.limits.max_bytes - self.report.bytes
                chunk = read(min(_CHUNK, room + 1))
                if not chunk:
                    break
                self.report.bytes += len(chunk)
                if self.report.bytes > self.limits.max_bytes:
                    raise IntakeError(
                        f"the submission holds more than {_mib(self.limits.max_bytes)}"
                    )
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        self.report.files += 1

    # --- a folder -------------------------------------------------------------------------
    def folder(self, source: Path, dest: Path) -> None:
        root = os.open(source, _OPEN_DIR & ~os.O_NOFOLLOW)  # the given path itself may be a link
        try:
            self._walk(root, "", dest, 1)
        finally:
            os.close(root)

    def _walk(self, dir_fd: int, rel: str, out: Path, depth: int) -> None:
        for name in self._names(dir_fd):
            path = rel + name
            self.count(depth)
            try:
                kind = _kind(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
            except OSError as exc:
                self.skip(path, f"unreadable ({exc.strerror})")
                continue
            if kind == "dir":
                self._enter(dir_fd, name, path, out / name, depth)
            elif kind == "file":
                self._file(dir_fd, name, path, out / name)
            else:
                self.skip(path, kind)

    def _names(self, dir_fd: int) -> list[str]:
        """The folder's names (ignored ones left out), sorted, at most the entries left."""
        names: list[str] = []
        room = self.limits.max_files - self.entries
        with os.scandir(dir_fd) as it:
            for entry in it:
                self.tick()
                if ignored(entry.name):
                    continue
                names.append(entry.name)
                if len(names) > room:
                    raise IntakeError(
                        f"the submission has more than {self.limits.max_files} files and folders"
                    )
        return sorted(names)

    def _open(self, dir_fd: int, name: str, path: str, flags: int) -> int:
        """`name` opened without following a link, or -1 with the entry recorded as skipped."""
        try:
            return os.open(name, flags, dir_fd=dir_fd)
        except OSError as exc:
            self.skip(path, LINK if exc.errno == errno.ELOOP else f"unreadable ({exc.strerror})")
            return -1

    def _enter(self, dir_fd: int, name: str, path: str, out: Path, depth: int) -> None:
        fd = self._open(dir_fd, name, path, _OPEN_DIR)
        if fd < 0:
            return
        try:
            out.mkdir(mode=0o755)
            self.report.folders += 1
            self._walk(fd, path + "/", out, depth + 1)
        finally:
            os.close(fd)

    def _file(self, dir_fd: int, name: str, path: str, out: Path) -> None:
        fd = self._open(dir_fd, name, path, _OPEN_FILE)
        if fd < 0:
            return
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                self.skip(path, "changed while being read (no longer a regular file)")
                return
            self.pump(lambda n: os.read(fd, n), out)
        except OSError as exc:
            out.unlink(missing_ok=True)
            self.skip(path, f"unreadable ({exc.strerror or exc})")
        finally:
            os.close(fd)

    # --- a zip ----------------------------------------------------------------------------
    def zip(self, source: Path, dest: Path) -> None:
        with _open_regular(source) as f:
            size = os.fstat(f.fileno()).st_size
            if size > self.limits.max_bytes:
                raise IntakeError(f"the zip file is larger than {_mib(self.limits.max_bytes)}")
            self._check_directory(f, size)
            try:
                archive = zipfile.ZipFile(f)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
                raise IntakeError(f"the zip file cannot be read ({exc})") from None
            with archive:
                for info in archive.infolist():
                    self._member(archive, info, dest)

    def _check_directory(self, f: BinaryIO, size: int) -> None:
        """Refuse a zip whose table of contents is too large to read (before reading it)."""
        tail = min(size, _ZIP_END.size + 0xFFFF)
        f.seek(size - tail)
        data = f.read(tail)
        at = data.rfind(b"PK\x05\x06")
        if at < 0 or len(data) - at < _ZIP_END.size:
            raise IntakeError("the file is not a zip file (it has no end record)")
        fields = _ZIP_END.unpack_from(data, at)
        entries, directory_bytes = fields[4], fields[5]
        if entries > self.limits.max_files:
            raise IntakeError(
                f"the submission has more than {self.limits.max_files} files and folders"
            )
        if directory_bytes > self.limits.max_files * _ZIP_ENTRY_BYTES:
            raise IntakeError("the zip file's table of contents is too large")
        f.seek(0)

    def _member(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path) -> None:
        self.tick()
        name = info.filename
        parts = [p for p in name.split("/") if p not in ("", ".")]
        if (
            not parts
            or name.startswith("/")
            or ".." in parts
            or (len(parts[0]) == 2 and parts[0][1] == ":")
        ):
            self.count(1)
            self.skip(name, UNSAFE_PATH)
            return
        if any(ignored(p) for p in parts):
            return
        path = "/".join(parts)
        self.count(len(parts))
        mode = info.external_attr >> 16
        kind = _kind(mode) if stat.S_IFMT(mode) else "file"
        if info.is_dir() and kind == "file":
            kind = "dir"
        if kind not in ("file", "dir"):
            self.skip(path, kind)
            return
        if info.flag_bits & 0x1:
            self.skip(path, "encrypted, not extracted")
            return
        out = dest.joinpath(*parts)
        try:
            (out if kind == "dir" else out.parent).mkdir(mode=0o755, parents=True, exist_ok=True)
            if kind == "dir":
                self.report.folders += 1
                return
            with archive.open(info) as src:
                self.pump(src.read, out)
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            self.skip(path, "clashes with another entry of the zip, not extracted")
        except (
            zipfile.BadZipFile,
            NotImplementedError,
            RuntimeError,
            EOFError,
            OSError,
            ValueError,
        ) as exc:
            with contextlib.suppress(OSError):
                out.unlink()
            self.skip(path, f"unreadable in the zip ({exc})")

    # --- a notebook -----------------------------------------------------------------------
    def notebook(self, source: Path, dest: Path) -> None:
        """Write the files of the notebook's `%%writefile` cells (grader/notebook.py) into `dest`.

        Nothing in the notebook runs; the notebook itself is not staged (the child gets the
        files, as from a folder submission).
        """
        cap = min(self.limits.max_notebook_bytes, self.limits.max_bytes)
        with _open_regular(source) as f:
            data = f.read(cap + 1)
        if len(data) > cap:
            raise IntakeError(f"the notebook is larger than {_mib(cap)}")
        try:
            nb = json.loads(data)
        except (ValueError, RecursionError):
            raise IntakeError("the notebook is not valid JSON") from None
        if (
            not isinstance(nb, dict)
            or not isinstance(nb.get("cells"), list)
            or not isinstance(nb.get("nbformat"), int)
        ):
            raise IntakeError("the file is not a Jupyter notebook (no `cells` or `nbformat`)")
        try:
            extracted = extract_files(nb, tick=self.tick)
        except NotebookError as exc:
            raise IntakeError(str(exc)) from None
        for where, reason in extracted.skipped:
            self.skip(where, reason)
        made: set[str] = set()
        for path, text in extracted.files.items():
            parts = path.split("/")
            for depth in range(1, len(parts)):  # its folders, each counted once
                folder = "/".join(parts[:depth])
                if folder not in made:
                    self.count(depth)
                    dest.joinpath(*parts[:depth]).mkdir(mode=0o755)
                    self.report.folders += 1
                    made.add(folder)
            self.count(len(parts))
            try:
                content = text.encode("utf-8")
            except UnicodeEncodeError:
                self.skip(path, "not valid text (a lone surrogate), not extracted")
                continue
            self.pump(io.BytesIO(content).read, dest.joinpath(*parts))
