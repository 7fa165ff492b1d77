"""Many gradings of one assignment on all cores, each core one warm grading process.

`grade_in_workers` splits the submissions over `jobs` worker processes
(grader/runner/worker.py); each imports the grader, starts its zygote once and grades its
share in turn. The results come back in the order of the submissions given; one that could
not be graded comes back as the exception that says why.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from grader.results import GradeResult


class GradingFailed(RuntimeError):
    """A submission could not be graded (a configuration error, or the grader failed)."""


def grade_in_workers(
    spec: Any,
    submissions: Sequence[tuple[str, Path]],
    *,
    jobs: int,
    last_apart: bool = True,
    on_result: Callable[[int, GradeResult | Exception], None] | None = None,
) -> list[GradeResult | Exception]:
    """Grade each `(label, folder)` of `submissions`; results in the same order.

    With `last_apart`, the last submission goes to another process than the first (verify's
    rerun of the reference: run twice in two processes, its scores must agree).
    `on_result(index, result)` hears of each as it is done.
    """
    n = max(1, min(jobs, len(submissions)))
    shares: list[list[int]] = [[] for _ in range(n)]
    order = list(range(len(submissions)))
    apart = order.pop() if last_apart and n > 1 and len(order) > 1 else None
    for k, index in enumerate(order):
        shares[k % n].append(index)
    if apart is not None:  # last, in the last process (the first goes to the first)
        shares[n - 1].append(apart)
    results: dict[int, GradeResult | Exception] = {}
    lock = threading.Lock()
    with tempfile.TemporaryDirectory(prefix="grader-pool-") as tmp:
        out = Path(tmp)

        def run(worker: int, share: list[int]) -> None:
            if not share:
                return
            jobs_file = out / f"jobs{worker}.json"
            jobs_file.write_text(json.dumps([[i, submissions[i][0], str(submissions[i][1])] for i in share]))
            cmd = [sys.executable, "-m", "grader.runner.worker", "--spec", str(spec.spec_file),
                   "--jobs", str(jobs_file), "--out", str(out)]  # fmt: skip
            with open(out / f"stderr{worker}.txt", "w+") as err:
                proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, env=os.environ.copy())
                assert proc.stdout is not None
                for line in proc.stdout:
                    if line.strip().isdigit():
                        index = int(line)
                        res = _read(out / f"{index}.json")
                        with lock:
                            results[index] = res
                        if on_result:
                            on_result(index, res)
                code = proc.wait()
                err.seek(0)
                tail = err.read()[-3000:]
            for index in share:
                if index not in results:
                    results[index] = GradingFailed(f"the grading process failed (exit {code}):\n{tail}")

        threads = [threading.Thread(target=run, args=(w, share)) for w, share in enumerate(shares)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return [results[i] for i in range(len(submissions))]


def _read(path: Path) -> GradeResult | Exception:
    data = json.loads(path.read_text())
    if "error" in data and "score" not in data:
        return GradingFailed(str(data["error"]))
    return GradeResult.from_dict(data)
