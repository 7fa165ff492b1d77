"""Many gradings of one assignment on all cores, each core one warm grading process.

`grade_in_workers` (used by `grader verify` and `grader batch`) starts up to `jobs` worker
processes (`python -m grader.runner.pool --serve`); each imports the grader, starts its
zygote once and then grades one submission after another, taking the next from a shared
queue as it finishes (a slow submission does not hold up the rest of a fixed share). A worker
that dies, or that overruns the per-submission `timeout`, costs only the submission it held:
that one comes back as a `GradingFailed` that says why, the process (and its process group)
is killed, and a fresh one takes the next submission. The results come back in the order of
the submissions given.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from grader.checks import shared_runs
from grader.results import GradeResult
from grader.runner.threads import ONE_THREAD_ENV
from grader.sandbox.host.zygote import SOCKET_ENV as ZYGOTE_SOCKET_ENV

# A worker that dies this many times in a row without grading anything stops taking work
# (a broken assignment.yaml would otherwise restart it once per submission).
_MAX_DEATHS_IN_A_ROW = 2
# Slack on top of the assignment's own submission limit before the pool kills a worker.
TIMEOUT_SLACK_S = 60.0


class GradingFailed(RuntimeError):
    """A submission could not be graded (a configuration error, or the grader failed)."""


class TimedOut(GradingFailed):
    """A submission's grading overran the pool's deadline; its process was killed."""


def default_timeout(spec: Any) -> float | None:
    """The pool's per-submission wall-clock limit: the assignment's submission limit + slack."""
    limits = getattr(spec, "limits", None)
    seconds = getattr(limits, "submission_seconds", None)
    return None if seconds is None else float(seconds) + TIMEOUT_SLACK_S


def grade_in_workers(
    spec: Any,
    submissions: Sequence[tuple[str, Path]],
    *,
    jobs: int,
    last_apart: bool = True,
    on_result: Callable[[int, GradeResult | Exception], None] | None = None,
    timeout: float | None = None,
    seed: int = 0,
    worker_env: Callable[[int], Mapping[str, str]] | None = None,
    on_begin: Callable[[int], None] | None = None,
    shrink: bool = True,
    slots: threading.Semaphore | None = None,
    on_drained: Callable[[], None] | None = None,
    share_reference_runs: bool = False,
    share_zygote: bool = False,
) -> list[GradeResult | Exception]:
    """Grade each `(label, folder)` of `submissions`; results in the same order.

    With `last_apart`, the last submission goes to another process than the first (verify's
    rerun of the reference: run twice in two processes, its scores must agree).
    `on_result(index, result)` hears of each as it is done (from a pool thread);
    `on_begin(index)` as a worker takes it. `timeout` (default: `default_timeout(spec)`) is
    each submission's wall-clock limit. `worker_env(worker)` adds environment variables to
    that worker's process (e.g. its GPU: `CUDA_VISIBLE_DEVICES`). Without `shrink`, property
    tests report their first failing example, not the smallest (`run_session`).

    `slots`, shared by several calls running at once, caps how many gradings of them all run
    at a time (each grading holds one); `on_drained()` is called once no submission is left to
    hand out, while the last ones are still being graded: `grader verify --all` starts the
    next assignment then, so its workers fill the cores the tail of this one leaves idle.
    With `share_reference_runs` the workers share the reference's training runs
    (grader/checks/shared_runs.py: for `grader verify`, whose submissions are trusted). With
    `share_zygote` they fork their children from one zygote, started here as the workers start
    (one import of the assignment's libraries instead of one per worker).
    """
    if not submissions:
        return []
    timeout = default_timeout(spec) if timeout is None else timeout
    n = max(1, min(jobs, len(submissions)))
    order = list(range(len(submissions)))
    apart = order.pop() if last_apart and n > 1 and len(order) > 1 else None
    shared: deque[int] = deque(order)
    results: dict[int, GradeResult | Exception] = {}
    lock = threading.Lock()

    apart_taken: list[bool] = []

    def take(worker: int) -> int | None:
        with lock:
            # `apart` is the last worker's first job and the first submission the first
            # worker's: two processes, graded side by side at the start, so the rerun does not
            # leave a core idle at the end.
            if worker == n - 1 and apart is not None and not apart_taken:
                apart_taken.append(True)
                return apart
            for pos, index in enumerate(list(shared)[:2]):
                if index == 0 and worker != 0 and apart is not None:
                    continue
                del shared[pos]
                return index
            return None

    said_drained: list[bool] = []

    def drained() -> None:
        with lock:
            first = not said_drained
            said_drained.append(True)
        if first and on_drained:
            on_drained()

    def record(index: int, res: GradeResult | Exception) -> None:
        with lock:
            results[index] = res
        if on_result:
            on_result(index, res)

    with tempfile.TemporaryDirectory(prefix="grader-pool-") as tmp, _zygote_for(spec, share_zygote) as zygote:
        out = Path(tmp)
        runs = out / "reference-runs"
        if share_reference_runs:
            runs.mkdir()

        def run(worker: int) -> None:
            env = {**os.environ, **ONE_THREAD_ENV}
            env.pop(shared_runs.ENV, None)
            if share_reference_runs:
                env[shared_runs.ENV] = str(runs)
            if zygote is not None:
                env[ZYGOTE_SOCKET_ENV] = zygote
            if worker_env:
                env.update(worker_env(worker))
            proc: _Worker | None = None
            deaths = 0
            try:
                while deaths < _MAX_DEATHS_IN_A_ROW:
                    with slots if slots is not None else contextlib.nullcontext():
                        index = take(worker)
                        if index is None:
                            drained()
                            return
                        if proc is None or not proc.alive():
                            proc = _Worker(spec, out, worker, env, seed, shrink=shrink)
                        if on_begin:
                            on_begin(index)
                        label, folder = submissions[index]
                        # The rerun trains its own reference runs: sharing them would hide a
                        # reference whose training does not reproduce across processes.
                        res = proc.grade(index, label, Path(folder), timeout, private=index == apart)
                        if isinstance(res, GradingFailed) and not proc.alive():
                            # A process that died before grading anything counts (it may never
                            # start); one killed for overrunning a submission's deadline does not.
                            deaths = 0 if proc.graded or isinstance(res, TimedOut) else deaths + 1
                            proc = None
                        else:
                            deaths = 0
                        record(index, res)
            finally:
                if proc is not None:
                    proc.close()

        threads = [threading.Thread(target=run, args=(w,), daemon=True) for w in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        missing = [i for i in range(len(submissions)) if i not in results]
        for index in missing:  # every worker gave up (the grading process cannot start)
            record(index, GradingFailed(_LAST_FAILURE.get(id(spec), "the grading process failed (exit ?)")))
        drained()
    _LAST_FAILURE.pop(id(spec), None)
    return [results[i] for i in range(len(submissions))]


_LAST_FAILURE: dict[int, str] = {}


@contextlib.contextmanager
def _zygote_for(spec: Any, share: bool) -> Iterator[str | None]:
    """The address of a zygote for the workers to share, ended on leaving; None when there is
    none to share (then each worker starts its own, as it does when this one cannot be reached)."""
    from grader.sandbox.host import zygote
    from grader.sandbox.host.launcher import zygote_env

    imports = getattr(spec, "imports", None)
    if not share or imports is None or zygote.enabled() is not None or os.environ.get(ZYGOTE_SOCKET_ENV):
        yield None
        return
    try:
        # Not waited for: its socket is bound before it imports, and the workers' first
        # children are asked for once their own imports are done.
        z = zygote.Zygote.start(zygote_env(), listen=True, imports=tuple(imports), wait=False)
    except (zygote.ZygoteError, OSError):
        yield None
        return
    try:
        yield z.address
    finally:
        z.close()


class _Worker:
    """One warm grading process, fed one job at a time on its stdin."""

    def __init__(self, spec: Any, out: Path, worker: int, env: dict[str, str], seed: int, *, shrink: bool = True) -> None:
        self.spec = spec
        self.out = out
        self.graded = 0
        self.err = open(out / f"stderr{worker}.txt", "w+")  # noqa: SIM115 - closed in close()
        cmd = [sys.executable, "-m", "grader.runner.pool", "--serve", "--spec", str(spec.spec_file),
               "--out", str(out), "--seed", str(seed), *([] if shrink else ["--no-shrink"])]  # fmt: skip
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err, text=True, env=env,
            start_new_session=True,  # its own process group: a kill takes its helpers with it
        )  # fmt: skip
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def alive(self) -> bool:
        """True while the process runs."""
        return self.proc.poll() is None

    def grade(
        self, index: int, label: str, folder: Path, timeout: float | None, *, private: bool = False
    ) -> GradeResult | Exception:
        """Send one job and wait for its result, at most `timeout` seconds (`private`: with no
        reference runs shared with the other workers)."""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps([index, label, str(folder), private]) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return self._died()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                self.kill()
                return TimedOut(f"timed out: no result after {timeout:g} s (the grading process was killed)")
            if line is None:
                return self._died()
            if line.strip() == str(index):
                self.graded += 1
                return _read(self.out / f"{index}.json")

    def _died(self) -> GradingFailed:
        code = self.proc.wait()
        self.err.seek(0)
        tail = self.err.read()[-3000:]
        message = f"the grading process failed (exit {code}):\n{tail}"
        _LAST_FAILURE[id(self.spec)] = message
        return GradingFailed(message)

    def kill(self) -> None:
        """Kill the process and its process group."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def close(self) -> None:
        """End the process (stdin closed: it exits after its job) and release its files."""
        with contextlib.suppress(OSError):
            if self.proc.stdin:
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
        self.err.close()


def _read(path: Path) -> GradeResult | Exception:
    data = json.loads(path.read_text())
    if "error" in data and "score" not in data:
        return GradingFailed(str(data["error"]))
    return GradeResult.from_dict(data)


def _watch_parent() -> None:
    """Exit when the process that started this one is gone (a SIGKILLed `grader batch`)."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def serve(spec_file: Path, out: Path, seed: int, *, shrink: bool = True) -> int:
    """Grade the jobs `[index, label, folder, private]` read from stdin, one a line, until EOF.

    Each result is written as `<index>.json` in `out`, atomically, then the index is printed.
    `sys.path` and the hypothesis profile are put back after each grading, so one grading
    leaves nothing behind for the next. A `private` job neither reads nor adds to the reference
    runs this process or the other workers made (grader/checks/shared_runs.py).
    """
    from hypothesis import settings

    from grader.runner.session import run_session
    from grader.spec import load_spec

    _watch_parent()
    spec = load_spec(spec_file)
    for line in sys.stdin:
        if not line.strip():
            continue
        index, label, folder, *rest = json.loads(line)
        path_before = list(sys.path)
        profile_before = settings._current_profile  # noqa: SLF001 - restored after the grading
        try:
            with shared_runs.private() if rest and rest[0] else contextlib.nullcontext():
                payload = run_session(spec, Path(folder), label=label, seed=seed, shrink=shrink).to_dict()
        except Exception as exc:  # noqa: BLE001 - reported per job; the next job still runs
            payload = {"error": f"{type(exc).__name__}: {exc}"}
        finally:
            sys.path[:] = path_before
            if profile_before:
                with contextlib.suppress(Exception):
                    settings.load_profile(profile_before)
        tmp = out / f".{index}.json"
        tmp.write_text(json.dumps(payload, sort_keys=True))
        tmp.replace(out / f"{index}.json")
        print(index, flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m grader.runner.pool --serve --spec FILE --out DIR [--seed N] [--no-shrink]`."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m grader.runner.pool")
    parser.add_argument("--serve", action="store_true", required=True)
    parser.add_argument("--spec", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-shrink", action="store_true")
    args = parser.parse_args(argv)
    return serve(args.spec, args.out, args.seed, shrink=not args.no_shrink)


if __name__ == "__main__":
    sys.exit(main())
