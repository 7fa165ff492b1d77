"""The gradebook: one SQLite file (WAL) with a row per submission, per part and per test.

Each graded submission is written in one transaction as soon as it is done, so a `kill -9`
of the batch loses at most the submissions in flight. A submission is done when its row
has the same files hash, grader version and assignment version as the one about to be graded;
`grader batch` skips those unless told to regrade. Only the process that runs the batch (the
driver) writes; workers never open the file.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from grader.results import GradeResult

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS submissions (
    id TEXT PRIMARY KEY,
    assignment TEXT NOT NULL,
    source TEXT NOT NULL,
    files_hash TEXT NOT NULL,
    status TEXT NOT NULL,          -- graded | refused | failed | unreadable
    reason TEXT,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    grader_version TEXT NOT NULL,
    assignment_version TEXT NOT NULL,
    seed INTEGER NOT NULL,
    sandbox TEXT,                  -- JSON: the sandbox layers active / inactive
    duration REAL,
    started_at TEXT,
    written_at TEXT NOT NULL,
    writes INTEGER NOT NULL DEFAULT 1,  -- times this row was written (a resume never rewrites)
    result_json TEXT               -- the whole GradeResult, for per-submission exports
);
CREATE TABLE IF NOT EXISTS parts (
    submission TEXT NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
    part TEXT NOT NULL,
    points REAL NOT NULL,
    max_points REAL NOT NULL,
    PRIMARY KEY (submission, part)
);
CREATE TABLE IF NOT EXISTS tests (
    submission TEXT NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
    nodeid TEXT NOT NULL,
    name TEXT NOT NULL,
    part TEXT NOT NULL,
    visibility TEXT NOT NULL,
    status TEXT NOT NULL,
    points REAL NOT NULL,
    max_points REAL NOT NULL,
    message TEXT,
    duration REAL,
    PRIMARY KEY (submission, nodeid)
);
"""


@dataclass
class Row:
    """A submission's row in the gradebook."""

    id: str
    status: str
    score: float
    max_score: float
    reason: str | None
    files_hash: str
    grader_version: str
    assignment_version: str
    writes: int


def result_status(result: GradeResult) -> tuple[str, str | None]:
    """('graded' | 'refused' | 'failed', reason) for a result that came back."""
    refused = (result.metadata.get("intake") or {}).get("refused")
    if refused:
        return "refused", str(refused)
    if result.errors:
        return "failed", "; ".join(result.errors)[:2000]
    return "graded", None


class Gradebook:
    """An open gradebook; safe to use from several threads of one process."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self.lock = threading.Lock()
        with self.lock:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")  # a committed row survives a power cut too
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.executescript(SCHEMA)

    def close(self) -> None:
        """Close the file."""
        with self.lock:
            self.db.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def set_meta(self, **values: str) -> None:
        """Record the batch's settings (assignment, parts), in one transaction."""
        with self.lock, self._tx():
            for k, v in values.items():
                self.db.execute("INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value", (k, v))

    def meta(self) -> dict[str, str]:
        """The recorded settings."""
        with self.lock:
            return dict(self.db.execute("SELECT key, value FROM meta").fetchall())

    def _tx(self) -> Any:
        return _Transaction(self.db)

    def done(self, sub_id: str, files_hash: str, grader_version: str, assignment_version: str) -> bool:
        """True when `sub_id` has a row for these files, this grader and this assignment version."""
        with self.lock:
            row = self.db.execute(
                "SELECT 1 FROM submissions WHERE id=? AND files_hash=? AND grader_version=? AND assignment_version=?",
                (sub_id, files_hash, grader_version, assignment_version),
            ).fetchone()
        return row is not None

    def write_result(self, sub_id: str, source: str, files_hash: str, result: GradeResult, seed: int) -> None:
        """Write one graded submission (its row, parts and tests) in one transaction."""
        status, reason = result_status(result)
        meta = result.metadata
        values = dict(
            id=sub_id, assignment=result.assignment, source=source, files_hash=files_hash, status=status,
            reason=reason, score=result.score, max_score=result.max_score,
            grader_version=str(meta.get("grader_version", "")), assignment_version=result.assignment_version,
            seed=int(meta.get("seed", seed)), sandbox=json.dumps(meta.get("sandbox"), sort_keys=True),
            duration=result.duration, started_at=result.started_at,
            result_json=json.dumps(result.to_dict(), sort_keys=True),
        )  # fmt: skip
        parts = [(sub_id, p.name, p.points, p.max_points) for p in result.parts]
        tests = [
            (sub_id, t.nodeid, t.name, t.part, t.visibility, t.outcome, t.points, t.max_points, t.message, t.duration)
            for t in result.tests
        ]
        self._write(values, parts, tests)

    def write_problem(
        self, sub_id: str, source: str, files_hash: str, status: str, reason: str, *,
        assignment: str, max_score: float, grader_version: str, assignment_version: str, seed: int,
    ) -> None:  # fmt: skip
        """Write a submission that produced no result (unreadable, or its grading failed)."""
        values = dict(
            id=sub_id, assignment=assignment, source=source, files_hash=files_hash, status=status, reason=reason,
            score=0.0, max_score=max_score, grader_version=grader_version, assignment_version=assignment_version,
            seed=seed, sandbox=None, duration=None, started_at=None, result_json=None,
        )  # fmt: skip
        self._write(values, [], [])

    def _write(self, values: dict[str, Any], parts: list[tuple[Any, ...]], tests: list[tuple[Any, ...]]) -> None:
        values["written_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        cols = ", ".join(values)
        marks = ", ".join(f":{k}" for k in values)
        update = ", ".join(f"{k}=excluded.{k}" for k in values if k != "id")
        with self.lock, self._tx():
            self.db.execute("DELETE FROM parts WHERE submission=?", (values["id"],))
            self.db.execute("DELETE FROM tests WHERE submission=?", (values["id"],))
            self.db.execute(
                f"INSERT INTO submissions({cols}) VALUES({marks}) "  # noqa: S608 - fixed column names
                f"ON CONFLICT(id) DO UPDATE SET {update}, writes=submissions.writes+1",
                values,
            )
            self.db.executemany("INSERT INTO parts VALUES(?, ?, ?, ?)", parts)
            self.db.executemany("INSERT INTO tests VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", tests)

    def rows(self) -> list[Row]:
        """Every submission's row, by id."""
        with self.lock:
            found = self.db.execute(
                "SELECT id, status, score, max_score, reason, files_hash, grader_version, assignment_version, writes "
                "FROM submissions ORDER BY id"
            ).fetchall()
        return [Row(*r) for r in found]

    def parts(self) -> dict[str, dict[str, tuple[float, float]]]:
        """{submission: {part: (points, max_points)}}."""
        out: dict[str, dict[str, tuple[float, float]]] = {}
        with self.lock:
            for sub, part, points, max_points in self.db.execute("SELECT submission, part, points, max_points FROM parts"):
                out.setdefault(sub, {})[part] = (points, max_points)
        return out

    def tests(self) -> Iterator[tuple[str, str, str, str, str, float, float, str | None]]:
        """(submission, nodeid, name, part, status, points, max_points, message) of every test."""
        with self.lock:
            found = self.db.execute(
                "SELECT submission, nodeid, name, part, status, points, max_points, message FROM tests ORDER BY submission, nodeid"
            ).fetchall()
        yield from found

    def result(self, sub_id: str) -> GradeResult | None:
        """The stored GradeResult of `sub_id` (None when it has none)."""
        with self.lock:
            row = self.db.execute("SELECT result_json FROM submissions WHERE id=?", (sub_id,)).fetchone()
        return GradeResult.from_json(row[0]) if row and row[0] else None

    def part_names(self) -> list[str]:
        """The assignment's parts, in their order (from the batch's settings, else the rows)."""
        recorded = self.meta().get("parts")
        if recorded:
            return list(json.loads(recorded))
        with self.lock:
            return [r[0] for r in self.db.execute("SELECT DISTINCT part FROM parts ORDER BY part")]

    def snapshot(self) -> dict[str, Any]:
        """Everything that decides grades (no times), for comparing two gradebooks."""
        with self.lock:
            subs = self.db.execute(
                "SELECT id, files_hash, status, reason, score, max_score, grader_version, assignment_version, seed "
                "FROM submissions ORDER BY id"
            ).fetchall()
            parts = self.db.execute("SELECT * FROM parts ORDER BY submission, part").fetchall()
            tests = self.db.execute(
                "SELECT submission, nodeid, part, status, points, max_points FROM tests ORDER BY submission, nodeid"
            ).fetchall()
        return {"submissions": subs, "parts": parts, "tests": tests}


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *exc: object) -> None:
        self.db.execute("ROLLBACK" if kind else "COMMIT")


def export_csv(book: Gradebook, out: Path) -> int:
    """One row per student, one column per part, the total and the status; the rows written."""
    parts = book.part_names()
    by_sub = book.parts()
    rows = book.rows()
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", *parts, "total", "max", "status", "reason"])
        for r in rows:
            mine = by_sub.get(r.id, {})
            w.writerow([r.id, *(f"{mine[p][0]:g}" if p in mine else "0" for p in parts),
                        f"{r.score:g}", f"{r.max_score:g}", r.status, r.reason or ""])  # fmt: skip
    return len(rows)


def export_results(book: Gradebook, out: Path, fmt: str) -> int:
    """Each stored result rendered in `fmt` ('gradescope' or 'junit') as `out/<id>/<file>`."""
    from grader.scorecard import render

    n = 0
    for r in book.rows():
        result = book.result(r.id)
        if result is None:
            continue
        folder = out / r.id
        folder.mkdir(parents=True, exist_ok=True)
        render(result, [fmt], folder)
        n += 1
    return n
