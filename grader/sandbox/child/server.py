"""The sandboxed child: imports the submission and serves requests from the grading process.

Run as ``python -s -P -u -m grader.sandbox.child.server --in-fd N --out-fd M --root DIR``. It reads request
frames on fd N and writes one response frame per request on fd M (stdout and stderr belong to
the student's code and go to a file the grader reads). Objects that are not plain data stay
here, in a registry, and travel as handles.
"""

from __future__ import annotations

import argparse
import importlib
import os
import random
import sys
import traceback
import types
from typing import Any

from grader.sandbox import DEFAULT_IMPORTS, wire

HARNESS_MODULE = "grader.sandbox.child.harness"
_TYPE_NAME_LIMIT = 120


class Registry:
    """Objects held for the grading process, by id."""

    def __init__(self) -> None:
        self._objects: dict[int, Any] = {}
        self._next = 1

    def add(self, obj: Any) -> dict[str, Any]:
        """Keep `obj` and return its handle tag."""
        hid = self._next
        self._next += 1
        self._objects[hid] = obj
        kind = "module" if isinstance(obj, types.ModuleType) else "object"
        return {
            "t": "handle",
            "id": hid,
            "type": _type_name(obj)[:_TYPE_NAME_LIMIT],
            "kind": kind,
            "callable": callable(obj),
        }

    def get(self, node: dict[str, Any]) -> Any:
        """The object a handle tag names."""
        try:
            return self._objects[node["id"]]
        except KeyError:
            raise LookupError(f"handle #{node['id']} is not held (released or never made)") from None

    def release(self, ids: list[int]) -> None:
        """Forget the objects with these ids."""
        for hid in ids:
            self._objects.pop(hid, None)


def _type_name(obj: Any) -> str:
    if isinstance(obj, types.ModuleType):
        return f"module {obj.__name__}"
    try:
        return type(obj).__qualname__
    except Exception:  # a hostile metaclass
        return "object"


class Server:
    """Dispatches requests to operations on registered objects."""

    def __init__(self, root: str) -> None:
        self.root = os.path.realpath(root)
        self.registry = Registry()

    # --- operations -------------------------------------------------------------------
    def op_import(self, msg: dict[str, Any]) -> Any:
        name = msg["_module"]
        if not isinstance(name, str) or not name:
            raise ValueError("bad module name")
        if msg.get("_harness"):
            return importlib.import_module(HARNESS_MODULE)
        return importlib.import_module(name)

    def op_ship(self, msg: dict[str, Any]) -> Any:
        """Run a file of the assignment sent by the grader as the module `_module`.

        The grading process sends a file once per child (it keeps the handle)."""
        name, source, filename = msg["_module"], msg["_source"], msg["_file"]
        if not all(isinstance(v, str) for v in (name, source, filename)) or not name:
            raise ValueError("bad module to load")
        mod = types.ModuleType(name)
        mod.__file__ = filename
        sys.modules[name] = mod  # dataclasses and pickling look classes' modules up here
        exec(compile(source, filename, "exec"), mod.__dict__)  # noqa: S102 - the grader's own file
        return mod

    def op_getattr(self, msg: dict[str, Any]) -> Any:
        target = self.registry.get(msg["_target"])
        name = msg["_name"]
        try:
            return getattr(target, name)
        except AttributeError:
            if isinstance(target, types.ModuleType) and hasattr(target, "__path__"):
                return importlib.import_module(f"{target.__name__}.{name}")
            raise

    def op_setattr(self, msg: dict[str, Any]) -> Any:
        setattr(self.registry.get(msg["_target"]), msg["_name"], msg["value"])
        return None

    def op_call(self, msg: dict[str, Any]) -> Any:
        target = self.registry.get(msg["_target"])
        return target(*msg.get("args", ()), **msg.get("kwargs", {}))

    def op_getitem(self, msg: dict[str, Any]) -> Any:
        return self.registry.get(msg["_target"])[msg["key"]]

    def op_len(self, msg: dict[str, Any]) -> Any:
        return len(self.registry.get(msg["_target"]))

    def op_iter(self, msg: dict[str, Any]) -> Any:
        return iter(self.registry.get(msg["_target"]))

    def op_next(self, msg: dict[str, Any]) -> Any:
        try:
            return next(self.registry.get(msg["_target"]))
        except StopIteration:
            return _STOP

    def op_value(self, msg: dict[str, Any]) -> Any:
        return _ByValue(self.registry.get(msg["_target"]))

    def op_seed(self, msg: dict[str, Any]) -> Any:
        seed_all(int(msg["_seed"]))
        return None

    def op_ping(self, msg: dict[str, Any]) -> Any:
        return os.getpid()

    # --- loop -------------------------------------------------------------------------
    def handle(self, frame_head: bytes, frame_payload: bytes) -> bytes:
        """Answer one request frame with one response frame."""
        seq = None
        try:
            msg = wire.decode_parts(frame_head, frame_payload, self.registry.get)
            seq = msg.get("_seq")
            self.registry.release(list(msg.get("_release", [])))
            op = getattr(self, f"op_{msg.get('_op')}", None)
            if op is None:
                raise ValueError(f"unknown operation {msg.get('_op')!r}")
            result = op(msg)
        except BaseException as exc:  # noqa: BLE001 - student code may raise anything
            return self._error(seq, exc)
        try:
            if result is _STOP:
                return wire.encode({"_seq": seq, "_ok": True, "_stop": True})
            if isinstance(result, _ByValue):
                return wire.encode({"_seq": seq, "_ok": True, "result": result.obj})
            return wire.encode({"_seq": seq, "_ok": True, "result": result}, self.registry.add)
        except wire.Unencodable as exc:
            return self._error(seq, TypeError(f"not plain data: {exc}"), codec=True)
        except BaseException as exc:  # noqa: BLE001 - e.g. a property raising during encoding
            return self._error(seq, exc)

    def _error(self, seq: Any, exc: BaseException, codec: bool = False) -> bytes:
        info = {
            "type": type(exc).__name__[:_TYPE_NAME_LIMIT],
            "message": _safe_str(exc),
            "traceback": "" if codec else student_traceback(exc, self.root),
            "codec": codec,
        }
        if isinstance(exc, SystemExit):
            info["exit_code"] = _safe_str(exc.code) if exc.code is not None else "None"
        return wire.encode({"_seq": seq, "_ok": False, "_error": info})


class _ByValue:
    def __init__(self, obj: Any) -> None:
        self.obj = obj


_STOP = object()


def _safe_str(exc: Any) -> str:
    try:
        return str(exc)[:20000]
    except BaseException:  # noqa: BLE001 - a hostile __str__
        return "<unprintable>"


def student_traceback(exc: BaseException, root: str) -> str:
    """The exception's traceback, keeping only frames from files under `root` (paths relative).

    A SyntaxError's location is in the exception, not in a frame: it is shown as
    `File "toy.py", line 3`, the line and a caret, with the path relative to `root` too.
    """
    try:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if _under(f.filename, root)]
        lines = ["Traceback (most recent call last):\n"] if frames else []
        for f in frames:
            rel = os.path.relpath(f.filename, root)
            lines.append(f'  File "{rel}", line {f.lineno}, in {f.name}\n')
            if f.line:
                lines.append(f"    {f.line.strip()}\n")
        te = traceback.TracebackException(type(exc), exc, None, compact=True)
        if isinstance(exc, SyntaxError) and te.filename and _under(te.filename, root):
            te.filename = os.path.relpath(te.filename, root)
        lines.extend(te.format_exception_only())
        return "".join(lines)[-20000:]
    except BaseException:  # noqa: BLE001
        return f"{type(exc).__name__}: <traceback unavailable>"


def _under(path: str, root: str) -> bool:
    """True when `path` is a real file path under `root` (not `<frozen importlib._bootstrap>`,
    which a relative realpath would place under the working folder)."""
    try:
        return os.path.isabs(path) and os.path.realpath(path).startswith(root + os.sep)
    except (OSError, ValueError):
        return False


def seed_all(seed: int) -> None:
    """Seed Python's and numpy's generators, and torch's where torch is imported (an assignment
    that declares torch imports it before any student code)."""
    random.seed(seed)
    import numpy as np

    np.random.seed(seed % 2**32)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)


def _read_exact(fd: int, n: int) -> bytes:
    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def serve(in_fd: int, out_fd: int, root: str) -> None:
    """Answer requests until the grading process closes the pipe."""
    server = Server(root)
    while True:
        try:
            prefix = _read_exact(in_fd, wire.PREFIX_SIZE)
            head_len, payload_len = wire.frame_sizes(prefix)
            head = _read_exact(in_fd, head_len)
            payload = _read_exact(in_fd, payload_len)
        except (EOFError, OSError, wire.WireError):
            return
        _write_all(out_fd, server.handle(head, payload))


def prepare(root: str, threads: int, imports: tuple[str, ...] = DEFAULT_IMPORTS) -> None:
    """Import the assignment's libraries (`imports`, numpy always) and put the submission
    first on sys.path.

    Runs after the sandbox's layers are in place (see `run`); in a child forked from the
    zygote the imports are already done. A module that cannot be imported is left out: the
    student's own `import` of it fails with the usual message. The harness (torch helpers)
    is imported here only where torch is; elsewhere on first use.
    """
    import tempfile

    for name in ("numpy", *imports):
        try:
            importlib.import_module(name)
        except ImportError:
            continue
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(max(1, threads))
        importlib.import_module(HARNESS_MODULE)
    tempfile.tempdir = None  # a zygote's cached /tmp must not outlive its TMPDIR
    os.chdir(root)
    sys.path.insert(0, root)


def run(
    in_fd: int,
    out_fd: int,
    root: str,
    threads: int,
    ready_fd: int = -1,
    policy: str | None = None,
    imports: tuple[str, ...] = DEFAULT_IMPORTS,
) -> int:
    """Apply the sandbox's layers, prepare, report readiness, then serve requests."""
    layers: list[dict[str, Any]] = []
    if policy:
        from dataclasses import asdict

        from grader.sandbox.layers import Policy, enter

        keep = (in_fd, out_fd)
        layers = [asdict(x) for x in enter(Policy.from_json(policy), keep, ready_fd)]
    prepare(root, threads, imports)
    if ready_fd >= 0:
        import json

        _write_all(ready_fd, (json.dumps({"ready": os.getpid(), "layers": layers}) + "\n").encode())
        os.close(ready_fd)
    serve(in_fd, out_fd, root)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the child process."""
    parser = argparse.ArgumentParser(prog="grader-child")
    parser.add_argument("--in-fd", type=int, required=True)
    parser.add_argument("--out-fd", type=int, required=True)
    parser.add_argument("--root", required=True)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--ready-fd", type=int, default=-1)
    parser.add_argument("--policy", help="the sandbox policy (JSON, see grader.sandbox.layers)")
    parser.add_argument("--imports", default=",".join(DEFAULT_IMPORTS), help="modules to import first, comma-separated")
    args = parser.parse_args(argv)
    imports = tuple(m for m in args.imports.split(",") if m)
    try:
        return run(args.in_fd, args.out_fd, args.root, args.threads, args.ready_fd, args.policy, imports)
    except BaseException:  # noqa: BLE001 - e.g. student code closed our pipes; never run atexit
        traceback.print_exc()
        return 70


if __name__ == "__main__":
    # os._exit: never run atexit handlers or flush buffers the student may have registered.
    code = main()
    sys.stdout.flush()
    os._exit(code)
