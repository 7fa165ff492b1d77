"""`grader batch --ray ADDRESS|local`: each submission a Ray task (the optional `[ray]` extra).

The driver (the `grader batch` process) packs each submission's files into a zip, in memory
and bounded, and submits one task per submission with `max_retries=0` (a grading is never
repeated behind the gradebook's back). Each task writes the zip to a private folder on its
node and grades it there with `run_session` (intake reads the zip as hostile data, as for
any `.zip` submission); it returns the result as JSON text, which the driver parses (nothing
is unpickled from student code: the task's process is the trusted grading process, and its
return value is a string). The driver keeps at most as many tasks in flight as the cluster
has CPUs, so a task's deadline counts from about when it starts, and cancels one that
overruns with `ray.cancel(force=True)` (its worker process is killed, and with it the
sandboxed children). GPU requests are Ray resources (`num_gpus` per task). Only the driver
writes the gradebook.

Every node needs the grader installed and the assignment at the same path as the driver
(a shared file system, or the same checkout everywhere).
"""

from __future__ import annotations

import io
import json
import os
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from grader.results import GradeResult
from grader.runner.pool import GradingFailed, default_timeout

PACK_MAX_BYTES = 200 * 2**20  # what one submission may send to a task (intake's own cap)


def ray_available() -> bool:
    """True when `import ray` works here."""
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


def pack(path: Path) -> tuple[str, bytes]:
    """(name, bytes) of a submission for a task: a `.zip`/`.ipynb` as it is, a folder zipped.

    Links are not followed and intake's ignored names are left out; more than
    `PACK_MAX_BYTES` raises ValueError.
    """
    from grader.intake import ignored

    if path.is_file():
        if path.stat().st_size > PACK_MAX_BYTES:
            raise ValueError(f"{path.name} is larger than {PACK_MAX_BYTES // 2**20} MiB")
        return path.name, path.read_bytes()
    buf = io.BytesIO()
    total = 0
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for dirpath, dirnames, filenames in os.walk(path, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if not ignored(d) and not os.path.islink(os.path.join(dirpath, d)))
            for name in sorted(filenames):
                full = Path(dirpath) / name
                if ignored(name) or full.is_symlink() or not full.is_file():
                    continue
                total += full.stat().st_size
                if total > PACK_MAX_BYTES:
                    raise ValueError(f"the submission is larger than {PACK_MAX_BYTES // 2**20} MiB")
                z.write(full, full.relative_to(path).as_posix())
    return path.name + ".zip", buf.getvalue()


def _grade_task(spec_file: str, label: str, name: str, data: bytes, seed: int) -> str:
    """Inside a Ray worker: grade one packed submission; the result (or the error) as JSON."""
    import shutil
    import tempfile

    from grader.runner.session import run_session
    from grader.spec import load_spec

    tmp = Path(tempfile.mkdtemp(prefix="grader-ray-"))
    try:
        sub = tmp / Path(name).name
        sub.write_bytes(data)
        result = run_session(load_spec(Path(spec_file)), sub, label=label, seed=seed)
        return json.dumps(result.to_dict(), sort_keys=True)
    except Exception as exc:  # noqa: BLE001 - reported as this submission's failure
        return json.dumps({"error": f"{type(exc).__name__}: {exc}"})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def grade_with_ray(
    spec: Any,
    submissions: Sequence[tuple[str, Path]],
    *,
    address: str,
    seed: int = 0,
    gpus: float | None = None,
    timeout: float | None = None,
    on_result: Callable[[int, GradeResult | Exception], None] | None = None,
) -> list[GradeResult | Exception]:
    """Grade `(label, path)` submissions as Ray tasks; results in order, each also to `on_result`.

    `address` is a Ray address or "local" (a Ray instance started here, stopped at the end).
    `gpus` is the GPU share each task requests (0.25: four tasks share a device; None or 0:
    none). `timeout` (default: the assignment's submission limit + slack) is enforced from the
    driver.
    """
    import ray

    timeout = default_timeout(spec) if timeout is None else timeout
    started_here = not ray.is_initialized()
    if started_here:
        if address == "local":
            ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
        else:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
    results: dict[int, GradeResult | Exception] = {}

    def record(index: int, res: GradeResult | Exception) -> None:
        results[index] = res
        if on_result:
            on_result(index, res)

    try:
        task = ray.remote(max_retries=0, num_cpus=1, num_gpus=float(gpus or 0))(_grade_task)
        slots = max(1, int(ray.cluster_resources().get("CPU", 1)))
        pending = list(range(len(submissions)))
        in_flight: dict[Any, tuple[int, float]] = {}
        while pending or in_flight:
            while pending and len(in_flight) < slots:
                index = pending.pop(0)
                label, path = submissions[index]
                try:
                    name, data = pack(Path(path))
                except (OSError, ValueError) as exc:
                    record(index, GradingFailed(f"cannot send the submission to Ray: {exc}"))
                    continue
                ref = task.remote(str(spec.spec_file), label, name, data, seed)
                in_flight[ref] = (index, time.monotonic())
            if not in_flight:
                continue
            ready, _ = ray.wait(list(in_flight), num_returns=1, timeout=0.5)
            for ref in ready:
                index, _t0 = in_flight.pop(ref)
                try:
                    data = json.loads(ray.get(ref))
                    res: GradeResult | Exception = (
                        GradingFailed(str(data["error"])) if "error" in data and "score" not in data
                        else GradeResult.from_dict(data)
                    )  # fmt: skip
                except Exception as exc:  # noqa: BLE001 - a task that died: this submission only
                    res = GradingFailed(f"the Ray task failed: {type(exc).__name__}: {exc}"[:4000])
                record(index, res)
            now = time.monotonic()
            for ref, (index, t0) in list(in_flight.items()):
                if timeout is not None and now - t0 > timeout:
                    ray.cancel(ref, force=True)
                    del in_flight[ref]
                    record(index, GradingFailed(f"timed out: no result after {timeout:g} s (the Ray task was cancelled)"))
    finally:
        if started_here:
            ray.shutdown()
    return [results[i] for i in range(len(submissions))]
