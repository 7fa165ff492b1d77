"""A warm grading process: grades a list of submissions one after another, in-process.

`grader verify` starts one per core. Each pays the interpreter, its imports and its zygote
once, then runs `run_session` for every submission it is given (each grading still starts
fresh children and a fresh import of the assignment's package, so no state of one grading
reaches the next). Results are written as `<index>.json` in the output folder, atomically,
and the index is printed on stdout when it is there, so the caller can show progress.

    python -m grader.runner.worker --spec assignment.yaml --jobs jobs.json --out DIR

`jobs.json` is a list of `[index, label, submission folder]`. A grading that fails with a
configuration error or a grader bug writes `{"error": "..."}` and the worker goes on.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Grade every job of the jobs file; 0 when the file was read, whatever the grades."""
    from grader.runner.session import run_session
    from grader.spec import load_spec

    parser = argparse.ArgumentParser(prog="python -m grader.runner.worker")
    parser.add_argument("--spec", required=True, type=Path)
    parser.add_argument("--jobs", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    spec = load_spec(args.spec)
    jobs = json.loads(args.jobs.read_text())
    for index, label, folder in jobs:
        try:
            payload = run_session(spec, Path(folder), label=label).to_dict()
        except Exception as exc:  # noqa: BLE001 - reported per job; the next job still runs
            payload = {"error": f"{type(exc).__name__}: {exc}"}
        tmp = args.out / f".{index}.json"
        tmp.write_text(json.dumps(payload, sort_keys=True))
        tmp.replace(args.out / f"{index}.json")
        print(index, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
