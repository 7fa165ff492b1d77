"""Progress of a grading run: tests done of the total, with an ETA, or plain lines in a log.

A grading run (grader/runner/session.py) tells a `Listener` when collection is done (how many
tests, per part) and as each test finishes. `for_stream` picks the view: on a terminal a live
bar (tests done / total, the part running, time left); elsewhere (a CI log) one plain line as
each part finishes, so a log is never silent for minutes and never fills with bar redraws.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Protocol, TextIO


class Listener(Protocol):
    """What a grading run reports as it goes."""

    def started(self, per_part: dict[str, int]) -> None:
        """Collection is done: how many tests will run in each part."""

    def finished(self, nodeid: str, part: str, passed: bool, points: float) -> None:
        """One test finished (a test run again after a wall-clock time-out reports again)."""

    def close(self) -> None:
        """The run is over."""


class _Counts:
    def __init__(self) -> None:
        self.per_part: dict[str, int] = {}
        self.done_part: dict[str, int] = {}
        self.earned: dict[str, float] = {}
        self.seen: set[str] = set()
        self.t0 = time.monotonic()

    @property
    def total(self) -> int:
        return sum(self.per_part.values())

    @property
    def done(self) -> int:
        return len(self.seen)

    def add(self, nodeid: str, part: str, passed: bool, points: float) -> bool:
        """Count a test once; True when it completes its part."""
        if nodeid in self.seen:
            return False
        self.seen.add(nodeid)
        self.done_part[part] = self.done_part.get(part, 0) + 1
        self.earned[part] = self.earned.get(part, 0.0) + (points if passed else 0.0)
        return self.done_part[part] == self.per_part.get(part, -1)


def _plural(n: float, word: str) -> str:
    return f"{n:g} {word}{'' if n == 1 else 's'}"


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class LogLines:
    """Plain lines, one as each part finishes (for logs and pipes)."""

    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream = stream
        self.label = label
        self.counts = _Counts()

    def started(self, per_part: dict[str, int]) -> None:
        """Say how many tests will run."""
        self.counts.per_part = dict(per_part)
        if not self.counts.total:  # nothing selected: the usage error says it, in one line
            return
        total = _plural(self.counts.total, "test")
        self._say(f"{self.label}: {total} in {_plural(len(per_part), 'part')}")

    def finished(self, nodeid: str, part: str, passed: bool, points: float) -> None:
        """A line when `part` has no test left."""
        c = self.counts
        if c.add(nodeid, part, passed, points):
            elapsed = time.monotonic() - c.t0
            self._say(
                f"{self.label}: part {part} done, {_plural(c.earned[part], 'point')} from "
                f"{_plural(c.per_part[part], 'test')} ({c.done} of {c.total} tests, {_clock(elapsed)} elapsed)"
            )

    def close(self) -> None:
        """Nothing to tidy."""

    def _say(self, text: str) -> None:
        print(text, file=self.stream, flush=True)


class Bar:
    """A live bar on a terminal: tests done / total, the part running, and the time left."""

    def __init__(self, console: Any, label: str) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.counts = _Counts()
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("tests"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self.label = label
        self.task = self.progress.add_task(label, total=None)
        self.progress.start()

    def started(self, per_part: dict[str, int]) -> None:
        """Set the total."""
        self.counts.per_part = dict(per_part)
        self.progress.update(self.task, total=self.counts.total)

    def finished(self, nodeid: str, part: str, passed: bool, points: float) -> None:
        """Advance by one test."""
        self.counts.add(nodeid, part, passed, points)
        self.progress.update(self.task, completed=self.counts.done, description=f"{self.label} ({part})")

    def close(self) -> None:
        """Remove the bar."""
        self.progress.stop()


def for_stream(label: str, *, stream: TextIO | None = None, console: Any = None) -> Listener:
    """A bar when `stream` (default stderr) is a terminal, plain lines otherwise."""
    stream = sys.stderr if stream is None else stream
    if stream.isatty():
        if console is None:
            from rich.console import Console

            console = Console(file=stream)
        return Bar(console, label)
    return LogLines(stream, label)


class Submissions:
    """Progress over many gradings (verify, batch): done / total and the time left.

    `update(text)` after each one: on a terminal it feeds a status line (`status`), in a log it
    prints one line per grading.
    """

    def __init__(self, label: str, total: int, *, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.t0 = time.monotonic()
        self.stream = sys.stderr if stream is None else stream
        self.live = self.stream.isatty()

    def eta(self) -> str:
        """"about m:ss left", from the mean time per grading so far."""
        if not self.done:
            return ""
        left = (time.monotonic() - self.t0) / self.done * (self.total - self.done)
        return f", about {_clock(left)} left"

    def update(self, text: str) -> str:
        """Count one grading; returns the status text (and prints it as a line in a log)."""
        self.done += 1
        elapsed = _clock(time.monotonic() - self.t0)
        line = f"{self.label}: [{self.done}/{self.total}] {text} ({elapsed} elapsed{self.eta()})"
        if not self.live:
            print(line, file=self.stream, flush=True)
        return line

