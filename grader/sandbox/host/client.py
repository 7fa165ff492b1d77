"""The grading process's side of the sandbox: start the child, talk to it, survive it.

`Sandbox` owns one child process at a time (a *generation*); when a call times out or the
child dies, the tests in flight fail with a plain message and the next call starts a fresh
child. `Handle` is the opaque proxy for an object that stays in the child. `Submission` is
what tests see as the `student` and `reference` fixtures.
"""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from grader.intake import IntakeReport, copy_staged, stage_submission
from grader.sandbox import DEFAULT_IMPORTS, wire
from grader.sandbox.host.launcher import Launched, LaunchError, launch
from grader.sandbox.layers import Layer
from grader.sandbox.layers import record as record_layers

OUTPUT_LIMIT = 1024 * 1024
RETURN_LIMIT = 64 * 1024 * 1024  # bytes one answer may carry (tensors, arrays, bytes)
HEADER_LIMIT = 8 * 1024 * 1024  # bytes of its JSON header (Python objects cost several times more)
TEST_RETURN_FACTOR = 8  # one test may receive this many times the per-call limit in all
WALL_FACTOR = 3.0  # a call may wait this many times its CPU limit on the wall clock


IMPORT_SECONDS = 60.0  # the least time (the child's CPU) a module of the submission may take to import

# Called as observer(sandbox, op, fields) whenever a test asks for code in the child, cached or
# not: op "import" (fields "_module", "_harness": `student.<module>`, `student.harness`) or
# "ship" (fields "_module", "_path": `student.ship(file)`). `grader check --watch` records
# here which modules of the submission each part reached (grader/runner/dependencies.py).
LOAD_OBSERVERS: list[Callable[[Sandbox, str, dict[str, Any]], None]] = []


class StudentFailure(AssertionError):
    """Base of the failures that student code causes; the test that met it fails.

    A failure of importing a module of the submission carries the module's name in
    `import_failure` (None otherwise): every later test that imports it fails the same way.
    """

    import_failure: str | None = None


class StudentError(StudentFailure):
    """Student code raised an exception; `traceback` shows its own frames only (`clean_traceback`)."""

    def __init__(self, what: str, exc_type: str, message: str, traceback: str) -> None:
        self.what, self.exc_type, self.exc_message, self.traceback = what, exc_type, message, traceback
        super().__init__(f"{exc_type} in `{what}`: {message}" if message else f"{exc_type} in `{what}`")


class StudentExit(StudentError):
    """Student code called sys.exit() (raised SystemExit)."""


class StudentTimeout(StudentFailure):
    """Student code did not return within its time limit.

    `wall` is True when the wall clock ended the call (the host's load can cause that), False
    when the call used up its CPU time (the student's own work, whatever the load).
    """

    wall = False


class StudentCrash(StudentFailure):
    """The child process died while running student code."""


class StaleHandle(StudentFailure):
    """A handle from a child that has since been replaced."""


class MissingModule(AttributeError):
    """The submission has no such module (its file is missing): nothing of it could run."""


class NotPlainData(TypeError):
    """`value()` asked for something that cannot cross by value."""


_REFUSED = (
    "a {kind} handle stands for an object inside the sandboxed child and cannot be {verb} in "
    "the grading process; fetch plain data with `{fixture}.value(handle)` or an attribute "
    "that is data (a tensor, an array, a number) and compare that"
)


class Handle:
    """An opaque proxy for an object held in the child."""

    __slots__ = ("_sandbox", "_id", "_gen", "_type", "_label", "_kind", "__weakref__")

    def __init__(self, sandbox: Sandbox, node: dict[str, Any], label: str) -> None:
        object.__setattr__(self, "_sandbox", sandbox)
        object.__setattr__(self, "_id", node["id"])
        object.__setattr__(self, "_gen", sandbox.generation)
        object.__setattr__(self, "_type", str(node.get("type", "object")))
        object.__setattr__(self, "_kind", str(node.get("kind", "object")))
        object.__setattr__(self, "_label", label)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__") or name in Handle.__slots__:
            raise AttributeError(name)
        return self._sandbox.request("getattr", self, {"_name": name}, label=f"{self._label}.{name}")

    def __setattr__(self, name: str, value: Any) -> None:
        self._sandbox.request("setattr", self, {"_name": name}, {"value": value}, label=f"{self._label}.{name} = …")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._sandbox.request(
            "call", self, values={"args": list(args), "kwargs": kwargs}, label=f"{self._label}(…)"
        )

    def __getitem__(self, key: Any) -> Any:
        return self._sandbox.request("getitem", self, values={"key": key}, label=f"{self._label}[…]")

    def __len__(self) -> int:
        n = self._sandbox.request("len", self, label=f"len({self._label})")
        if type(n) is not int:
            raise StudentFailure(f"len({self._label}) did not give an int")
        return n

    def __iter__(self) -> Iterator[Any]:
        it = self._sandbox.request("iter", self, label=f"iter({self._label})")
        while True:
            item = self._sandbox.request("next", it, label=f"next(iter({self._label}))")
            if item is _STOP:
                return
            yield item

    def _refuse(self, verb: str) -> TypeError:
        return TypeError(_REFUSED.format(kind=self._type, verb=verb, fixture=self._sandbox.fixture_name))

    def __eq__(self, other: object) -> bool:
        raise self._refuse("compared with ==")

    def __ne__(self, other: object) -> bool:
        raise self._refuse("compared with !=")

    def __lt__(self, other: object) -> bool:
        raise self._refuse("ordered")

    __le__ = __gt__ = __ge__ = __lt__

    def __bool__(self) -> bool:
        raise self._refuse("used as a truth value")

    def __hash__(self) -> int:
        raise self._refuse("hashed")

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise self._refuse("converted to an array")

    def __repr__(self) -> str:
        return f"<{self._sandbox.fixture_name} handle #{self._id}: {self._type} ({self._label})>"

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self._sandbox._forget(self._id, self._gen)


_STOP = object()


class Sandbox:
    """One submission's child process, restarted on demand."""

    def __init__(
        self,
        submission_dir: Path,
        *,
        fixture_name: str = "student",
        staged: bool = False,
        call_seconds: float = 10.0,
        return_bytes: int = RETURN_LIMIT,
        wall_factor: float = WALL_FACTOR,
        env: dict[str, str] | None = None,
        threads: int = 1,
        memory_bytes: int | None = None,
        disk_bytes: int | None = None,
        data_dir: Path | None = None,
        imports: tuple[str, ...] = DEFAULT_IMPORTS,
    ) -> None:
        self.submission_dir = Path(submission_dir).resolve()
        if not self.submission_dir.exists():
            raise FileNotFoundError(f"submission folder {self.submission_dir} does not exist")
        self.fixture_name = fixture_name
        self.call_seconds = call_seconds
        self.return_bytes = return_bytes
        self.test_return_bytes = return_bytes * TEST_RETURN_FACTOR
        self._test_received = 0
        self.wall_factor = wall_factor
        self.extra_env = dict(env or {})
        self.import_seconds = max(IMPORT_SECONDS, 6 * call_seconds)  # a module's import, its own limit
        # A data folder the child may read (read-only); tests hand its path to student code.
        self.data_dir = Path(data_dir).resolve() if data_dir is not None else None
        self.threads = threads
        self.memory_bytes = memory_bytes
        self.disk_bytes = disk_bytes
        self.imports = tuple(imports)  # the libraries the child imports before student code
        self.layers: list[Layer] = []
        self.generation = 0
        self.restarts = 0
        self._tmp = Path(tempfile.mkdtemp(prefix=f"grader-{fixture_name}-"))
        # Intake: the submission is read once, as hostile data (grader/intake.py); every child's
        # working folder is copied from the staged copy. `staged=True`: it already is one.
        self.intake: IntakeReport | None = None
        self.staged_dir = self.submission_dir
        if not staged:
            try:
                self.intake = stage_submission(self.submission_dir, self._tmp / "submission")
            except BaseException:
                shutil.rmtree(self._tmp, ignore_errors=True)
                raise
            self.staged_dir = self._tmp / "submission"
        self._launched: Launched | None = None
        self._proc: Any = None  # the child: a subprocess.Popen or a zygote child
        self._to_child = -1
        self._from_child = -1
        self._seq = 0
        self._release: list[int] = []
        self._deadline: float | None = None
        self._deadline_reason = ""
        self._call_override: float | None = None
        self._poisoned: StudentFailure | None = None
        self._output_file: Path | None = None
        self._output_mark = 0
        self._pending_seed: int | None = None
        self._test_seed: int | None = None
        self._import_failures: dict[str, StudentFailure] = {}
        self._modules: dict[str, Handle] = {}
        self._shipped: dict[str, Handle] = {}
        self.workdir = self._tmp / "work"

    # --- life cycle ---------------------------------------------------------------------
    def start(self) -> None:
        """Start a fresh child in a fresh working folder holding only the submission.

        The child comes from the zygote where there is one (milliseconds) or a fresh
        interpreter, with the sandbox's layers applied before any student code is imported;
        `self.layers` records which layers are active. Raises StudentCrash when the child
        cannot get ready.
        """
        self.stop()
        self.generation += 1
        self.workdir = self._tmp / f"work{self.generation}"
        self.workdir.mkdir()
        copy_staged(self.staged_dir, self.workdir)
        (self.workdir / ".tmp").mkdir(exist_ok=True)
        self._output_file = self._tmp / f"output{self.generation}.txt"
        self._output_file.touch()
        self._output_mark = 0
        try:
            launched = launch(
                self.workdir,
                tmp_root=self._tmp,
                threads=self.threads,
                extra_env=self.extra_env,
                data_dir=self.data_dir,
                output_file=self._output_file,
                output_limit=OUTPUT_LIMIT,
                memory_bytes=self.memory_bytes,
                disk_bytes=self.disk_bytes,
                imports=self.imports,
            )
        except LaunchError as exc:
            self.restarts += 1
            raise StudentCrash(f"the sandbox could not start your code: {exc}\n{self.output(limit=2000)}") from None
        self._launched = launched
        self.layers = launched.layers
        record_layers(self.fixture_name, launched.layers)
        self._proc = launched.proc
        self._to_child, self._from_child = launched.to_child, launched.from_child
        self._modules = {}
        self._shipped = {}
        self._pending_seed = self._test_seed

    def stop(self) -> None:
        """Kill the child and every process it left (process group, PID namespace, cgroup,
        slot uid), and wait until they are gone."""
        launched, self._launched, self._proc = self._launched, None, None
        for fd in (self._to_child, self._from_child):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._to_child = self._from_child = -1
        if launched is not None:
            launched.terminate()
        self._release = []

    def close(self) -> None:
        """Stop the child and delete its working folders."""
        self.stop()
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def alive(self) -> bool:
        """True while a child is running."""
        return self._proc is not None and self._proc.poll() is None

    # --- limits -------------------------------------------------------------------------
    def set_deadline(self, deadline: float | None, reason: str = "") -> None:
        """Start a new test: a monotonic-clock time after which every call fails.

        It also clears the record of an earlier time-out: after a call times out, every further
        call in the same test fails at once, so that a hang costs its limit once, not once per
        hypothesis example.
        """
        self._deadline, self._deadline_reason = deadline, reason
        self._poisoned = None
        self._test_received = 0

    @contextlib.contextmanager
    def time_limit(self, seconds: float) -> Iterator[None]:
        """Within the block, one call may take up to `seconds` (instead of the default)."""
        old, self._call_override = self._call_override, seconds
        try:
            yield
        finally:
            self._call_override = old

    def output(self, *, since_mark: bool = False, limit: int = 8192) -> str:
        """The tail of what student code printed (since the last `mark_output()` if asked)."""
        if self._output_file is None or not self._output_file.exists():
            return ""
        with open(self._output_file, "rb") as f:
            f.seek(0, os.SEEK_END)
            end = f.tell()
            start = self._output_mark if since_mark else 0
            start = max(start, end - limit)
            f.seek(start)
            data = f.read(end - start)
        cut = "… (earlier output cut)\n" if start > (self._output_mark if since_mark else 0) else ""
        return cut + data.decode("utf-8", "replace")

    def mark_output(self) -> None:
        """Remember where the output ends now."""
        if self._output_file is not None and self._output_file.exists():
            self._output_mark = self._output_file.stat().st_size

    # --- requests -----------------------------------------------------------------------
    def import_module(self, name: str, *, harness: bool = False) -> Handle:
        """A handle to a module of the submission (import failures are remembered)."""
        for observe in LOAD_OBSERVERS:
            observe(self, "import", {"_module": name, "_harness": harness})
        if name in self._import_failures:
            raise _fresh(self._import_failures[name])
        if self._poisoned is not None:
            raise _fresh(self._poisoned)
        cached = self._modules.get(name)
        if cached is not None and cached._gen == self.generation and self.alive:
            return cached
        fields: dict[str, Any] = {"_module": name, "_harness": harness}
        try:
            # Importing is not the work a test measures: it gets its own, generous limit.
            with self.time_limit(max(self.import_seconds, self._call_override or 0.0)):
                mod = self.request("import", None, fields, label=f"import {name} (module-level code)")
        except (StudentError, StudentCrash) as exc:
            exc.import_failure = name
            self._import_failures[name] = exc
            raise
        self._modules[name] = mod
        return mod

    def ship(self, module: types.ModuleType) -> Handle:
        """The module `module` (a file of the assignment, trusted) loaded in the child too.

        The child runs the file's source as a module of the same name; the trusted process
        has imported the same file, so both sides build their objects from one definition.
        It is sent again after a restart; the child runs it once per process.
        """
        name = module.__name__
        file = getattr(module, "__file__", None)
        if not file:
            raise ValueError(f"{name} has no source file to load in the child")
        for observe in LOAD_OBSERVERS:
            observe(self, "ship", {"_module": name, "_path": file})
        cached = self._shipped.get(name)
        if cached is not None and cached._gen == self.generation and self.alive:
            return cached
        if self._poisoned is not None:
            raise _fresh(self._poisoned)
        source = Path(file).read_text(encoding="utf-8")
        # The child sees the file's name, not where the grader keeps it.
        fields = {"_module": name, "_source": source, "_file": f"<grader: {Path(file).name}>"}
        handle = self.request("ship", None, fields, label=f"load {name.rpartition('.')[2]}")
        self._shipped[name] = handle
        return handle

    def value(self, handle: Handle) -> Any:
        """The by-value copy of the object behind `handle`."""
        if not isinstance(handle, Handle):
            return handle
        return self.request("value", handle, label=f"value of {handle._label}")

    def seed(self, seed: int) -> None:
        """Seed the child's generators before the next request (and after any restart)."""
        self._pending_seed = self._test_seed = seed

    def request(
        self,
        op: str,
        target: Handle | None,
        fields: dict[str, Any] | None = None,
        values: dict[str, Any] | None = None,
        *,
        label: str,
    ) -> Any:
        """Send one operation and wait for its answer within the time limits."""
        if target is not None:
            if target._sandbox is not self:
                raise TypeError(f"{target!r} belongs to another process and cannot be used here")
            if target._gen != self.generation or not self.alive:
                raise StaleHandle(
                    f"`{target._label}` belonged to a child process that has since been "
                    "restarted (after a crash or a time-out); it no longer exists"
                )
        if self._poisoned is not None:
            raise _fresh(self._poisoned)
        if not self.alive:
            if self._proc is not None:
                self.stop()
            self.start()
        if self._pending_seed is not None and op != "seed":
            seed, self._pending_seed = self._pending_seed, None
            self.request("seed", None, {"_seed": seed}, label="seeding the generators")
        self._seq += 1
        msg: dict[str, Any] = {"_op": op, "_seq": self._seq, "_release": self._release}
        self._release = []
        if target is not None:
            msg["_target"] = {"t": "handle", "id": target._id}
        msg.update(fields or {})
        msg.update(values or {})
        frame = wire.encode(msg, self._encode_handle)
        clock = self._clock()
        if clock.wall_seconds <= 0:
            timeout = StudentTimeout(f"{clock.wall_reason} before `{label}` could run")
            timeout.wall = True
            raise timeout
        try:
            self._send(frame, clock)
            reply = self._receive(clock, label)
        except _Timeout as out:
            timeout = StudentTimeout(f"your code did not return within {out.what} in `{label}`{self._memory_note()}")
            timeout.wall = out.wall
            raise self._poison(timeout) from None
        except _TooLarge as big:
            what = "this test's answers carried" if big.per_test else f"`{label}` returned"
            may = "all the answers of one test may carry" if big.per_test else "one answer may carry"
            raise self._poison(
                StudentCrash(
                    f"{what} {big.size / 2**20:.1f} MiB, more than the {big.limit / 2**20:g} MiB that {may}; "
                    "return less data (e.g. a summary, or a smaller batch)"
                )
            ) from None
        except _OverMemory as over:
            raise self._poison(
                StudentCrash(
                    f"your code used {over.used >> 20} MiB of memory during `{label}`, more than the limit of "
                    f"{over.limit >> 20} MiB, and was stopped"
                )
            ) from None
        except _Died as died:
            raise self._poison(
                StudentCrash(f"your code ended the process {_describe_exit(died.code)} during `{label}`{self._memory_note()}")
            ) from None
        except wire.WireError as exc:
            self._restart()
            raise StudentCrash(f"the child's answer to `{label}` was malformed and was refused ({exc})") from None
        if reply.get("_seq") != self._seq:
            self._restart()
            raise StudentCrash(f"the child's answer to `{label}` was out of order and was refused")
        if not reply.get("_ok"):
            err = reply.get("_error") or {}
            exc_type, message = str(err.get("type", "Exception")), str(err.get("message", ""))
            if err.get("codec"):
                raise NotPlainData(f"`{label}` is not plain data: {message}")
            tb = clean_traceback(str(err.get("traceback", "")), self.workdir)
            if exc_type == "SystemExit":
                raise StudentExit(label, exc_type, f"your code called sys.exit({err.get('exit_code')})", tb)
            if exc_type == "MemoryError":
                # What the code still holds would starve every later test: start afresh.
                self._restart()
                message = f"{message} (out of memory; a fresh process runs the next tests)".lstrip(" ")
            raise StudentError(label, exc_type, message, tb)
        if reply.get("_stop"):
            return _STOP
        return reply.get("result")

    def _restart(self) -> None:
        """End this child; the next request starts a fresh one."""
        self.stop()
        self.restarts += 1

    def _poison(self, failure: StudentFailure) -> StudentFailure:
        """End this child and fail the rest of this test at once with `failure`."""
        self._restart()
        self._poisoned = failure
        return _fresh(failure)

    def _memory_note(self) -> str:
        return self._launched.memory_note() if self._launched is not None else ""

    def _clock(self) -> _CallClock:
        """The limits of the next call: CPU seconds, and a wall-clock backstop."""
        call = self._call_override if self._call_override is not None else self.call_seconds
        wall = call * self.wall_factor
        wall_reason = (
            f"the limit for one call is {_fmt_s(call)} of CPU time, and {_fmt_s(wall)} of waiting "
            "while it uses none"
        )
        if self._deadline is not None:
            left = self._deadline - time.monotonic()
            if left < wall:
                wall, wall_reason = left, self._deadline_reason or "the time budget ran out"
        return _CallClock(self, call, wall, wall_reason)

    def cpu_seconds(self) -> float:
        """CPU seconds the current child's whole tree has used (0 when there is none).

        Read from the kernel by this process (the child's cgroup, else /proc), never from the
        child: a measure of the student's own work that a busy host does not inflate.
        """
        launched = self._launched
        return launched.cpu_seconds() if launched is not None and self.alive else 0.0

    def _encode_handle(self, obj: Any) -> dict[str, Any]:
        if isinstance(obj, Handle):
            if obj._sandbox is not self:
                raise TypeError(f"{obj!r} belongs to another process and cannot be passed here")
            if obj._gen != self.generation:
                raise StaleHandle(f"`{obj._label}` belonged to a child process that has since been restarted")
            return {"t": "handle", "id": obj._id}
        raise TypeError(f"{type(obj).__name__} cannot be sent to the child (only plain data and handles)")

    def _forget(self, hid: int, gen: int) -> None:
        if gen == self.generation:
            self._release.append(hid)

    def _send(self, frame: bytes, clock: _CallClock) -> None:
        view = memoryview(frame)
        sel = selectors.DefaultSelector()
        os.set_blocking(self._to_child, False)
        sel.register(self._to_child, selectors.EVENT_WRITE)
        try:
            while view:
                if not sel.select(timeout=clock.tick()):
                    self._check(clock)
                    continue
                try:
                    n = os.write(self._to_child, view)
                except BlockingIOError:
                    continue
                except (BrokenPipeError, OSError):
                    raise _Died(self._wait_code()) from None
                view = view[n:]
        finally:
            sel.close()

    def _receive(self, clock: _CallClock, label: str) -> dict[str, Any]:
        buf = bytearray()
        need = wire.PREFIX_SIZE
        sizes: tuple[int, int] | None = None
        sel = selectors.DefaultSelector()
        sel.register(self._from_child, selectors.EVENT_READ)
        try:
            while True:
                if len(buf) >= need:
                    if sizes is None:
                        sizes = wire.frame_sizes(bytes(buf[: wire.PREFIX_SIZE]), check_size=False)
                        head_limit = min(HEADER_LIMIT, self.return_bytes)
                        if sizes[0] > head_limit:
                            raise _TooLarge(sizes[0] + sizes[1], head_limit)
                        if sizes[0] + sizes[1] > self.return_bytes:
                            raise _TooLarge(sizes[0] + sizes[1], self.return_bytes)
                        self._test_received += sizes[0] + sizes[1]
                        if self._test_received > self.test_return_bytes:
                            raise _TooLarge(self._test_received, self.test_return_bytes, per_test=True)
                        need = wire.PREFIX_SIZE + sizes[0] + sizes[1]
                        continue
                    head_end = wire.PREFIX_SIZE + sizes[0]
                    head, payload = bytes(buf[wire.PREFIX_SIZE : head_end]), bytes(buf[head_end:need])
                    return wire.decode_parts(head, payload, lambda node: Handle(self, node, label))
                # The clock is read on every pass, so that a child trickling bytes cannot keep
                # this process reading past the call's limits.
                clock.check_wall()
                if not sel.select(timeout=clock.tick()):
                    self._check(clock)
                    continue
                try:
                    chunk = os.read(self._from_child, max(need - len(buf), 1 << 16))
                except BlockingIOError:
                    continue
                if not chunk:
                    raise _Died(self._wait_code())
                buf += chunk
        finally:
            sel.close()

    def _check(self, clock: _CallClock) -> None:
        if self._proc is None or self._proc.poll() is not None:
            raise _Died(self._wait_code())
        launched = self._launched
        used = launched.over_memory() if launched is not None else None
        if used is not None:
            raise _OverMemory(used, launched.watch_bytes or 0)
        clock.check_wall()
        clock.check_cpu()

    def _wait_code(self) -> int | None:
        if self._proc is None:
            return None
        try:
            return self._proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return None


_FRAME = re.compile(r'^  File "(?P<file>[^"]*)", line \d+')


def clean_traceback(text: str, root: Path) -> str:
    """A child's traceback with only the student's frames, and their paths relative to `root`.

    The child keeps only frames under its root already; this trusted-side pass also drops
    frames of no real file (`<frozen importlib._bootstrap>`, `<string>`) with their source
    line, makes paths under `root` (the child's working folder) relative (`toy.py`), and
    drops the "Traceback (most recent call last):" header when no frame is left under it.
    """
    prefixes = {f"{p}{os.sep}" for p in (str(root), os.path.realpath(root)) if p}
    out: list[str] = []
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        line = lines[i]
        frame = _FRAME.match(line)
        if frame and frame.group("file").startswith("<") and ", in " in line:
            i += 1
            if i < len(lines) and lines[i].startswith("    ") and not _FRAME.match(lines[i]):
                i += 1  # the frame's source line
            continue
        for prefix in prefixes:
            line = line.replace(f'"{prefix}', '"')
        out.append(line)
        i += 1
    if out and out[0].startswith("Traceback (most recent call last):") and not any(
        _FRAME.match(ln) and ", in " in ln for ln in out[1:]
    ):
        out = out[1:]
    return "".join(out)


def _fresh(exc: StudentFailure) -> StudentFailure:
    """A new exception like `exc` with no traceback (re-raising one object grows its traceback)."""
    new = exc.__class__.__new__(exc.__class__)
    new.__dict__.update(exc.__dict__)
    new.args = exc.args
    return new


class _Timeout(Exception):
    def __init__(self, what: str, *, wall: bool) -> None:
        self.what, self.wall = what, wall


class _TooLarge(Exception):
    def __init__(self, size: int, limit: int, *, per_test: bool = False) -> None:
        self.size, self.limit, self.per_test = size, limit, per_test


class _CallClock:
    """One call's limits: CPU seconds of the child's tree, and a wall-clock backstop.

    The CPU count starts at the first check (a quarter of a second into the call); the wall
    time before it counts as CPU time, an upper bound for one thread.
    """

    def __init__(self, sandbox: Sandbox, cpu_seconds: float, wall_seconds: float, wall_reason: str) -> None:
        self.sandbox = sandbox
        self.cpu_seconds, self.wall_seconds, self.wall_reason = cpu_seconds, wall_seconds, wall_reason
        self.started = time.monotonic()
        self.deadline = self.started + wall_seconds
        self._cpu_base: tuple[float, float] | None = None  # (child CPU, wall elapsed) at the first check

    def tick(self) -> float:
        """How long to wait for the child before the next check."""
        return max(0.0, min(0.25, self.deadline - time.monotonic()))

    def check_wall(self) -> None:
        """Raise _Timeout once the wall-clock backstop has passed."""
        if time.monotonic() >= self.deadline:
            raise _Timeout(f"{_fmt_s(self.wall_seconds)} ({self.wall_reason})", wall=True)

    def check_cpu(self) -> None:
        """Raise _Timeout once the child's tree has used the call's CPU seconds."""
        now_cpu = self.sandbox.cpu_seconds()
        if self._cpu_base is None:
            self._cpu_base = (now_cpu, time.monotonic() - self.started)
            return
        used = now_cpu - self._cpu_base[0] + self._cpu_base[1]
        if used >= self.cpu_seconds:
            raise _Timeout(
                f"{_fmt_s(self.cpu_seconds)} of CPU time (the limit for one call is {_fmt_s(self.cpu_seconds)})",
                wall=False,
            )


class _Died(Exception):
    def __init__(self, code: int | None) -> None:
        self.code = code


class _OverMemory(Exception):
    def __init__(self, used: int, limit: int) -> None:
        self.used, self.limit = used, limit


def _fmt_s(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"


def _describe_exit(code: int | None) -> str:
    if code is None:
        return "(its pipe closed)"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = {"SIGSEGV": " (a segmentation fault)", "SIGKILL": " (killed: often memory)"}.get(name, "")
        return f"with {name}{hint}"
    return f"with exit code {code}"


class Submission:
    """What tests see as `student` / `reference`: modules by attribute, plus helpers."""

    _RESERVED = frozenset({"value", "time_limit", "harness", "output", "sandbox", "ship"})

    def __init__(self, sandbox: Sandbox) -> None:
        object.__setattr__(self, "sandbox", sandbox)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        root = self.sandbox.staged_dir  # holds only regular files and folders
        if not ((root / f"{name}.py").is_file() or (root / name).is_dir()):
            raise MissingModule(
                f"the {self.sandbox.fixture_name} submission has no module `{name}` "
                f"({name}.py is missing from {self.sandbox.submission_dir.name}/)"
            )
        handle = self.sandbox.import_module(name)
        object.__setattr__(handle, "_label", name)
        return handle

    @property
    def harness(self) -> Handle:
        """Generic helper code inside the child (`grader.sandbox.child.harness`)."""
        h = self.sandbox.import_module("harness", harness=True)
        object.__setattr__(h, "_label", "harness")
        return h

    def ship(self, module: types.ModuleType) -> Handle:
        """A file of the assignment (a tiny network, a stand-in), loaded in this child.

        `module` is the file as the test imported it (`from . import standins`); the handle
        returned is the same file's module inside the child, so `student.ship(nets).Net()`
        and `nets.Net()` are twins built from one definition.
        """
        handle = self.sandbox.ship(module)
        object.__setattr__(handle, "_label", module.__name__.rpartition(".")[2])
        return handle

    def value(self, handle: Any) -> Any:
        """The by-value copy of what `handle` stands for."""
        return self.sandbox.value(handle)

    def time_limit(self, seconds: float) -> contextlib.AbstractContextManager[None]:
        """Raise the per-call limit inside a `with` block."""
        return self.sandbox.time_limit(seconds)

    def output(self) -> str:
        """What the code printed during the current test (bounded)."""
        return self.sandbox.output(since_mark=True)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("the submission fixture is read-only")

    def __repr__(self) -> str:
        return f"<{self.sandbox.fixture_name}>"
