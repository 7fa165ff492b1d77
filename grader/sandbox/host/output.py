"""The child's stdout and stderr: a pipe drained into a capped file by a thread.

The child never writes to the file itself, so a flood costs it nothing but its own time and
the file stays under the cap (plus one note saying what was cut). The thread never waits for
end-of-file: `stop()` ends it even while a leftover process still holds the pipe open.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
from pathlib import Path

DEFAULT_LIMIT = 1024 * 1024


class OutputSink:
    """A pipe whose read end a thread copies into `path`, up to `limit` bytes."""

    def __init__(self, path: Path, limit: int = DEFAULT_LIMIT) -> None:
        self.path = Path(path)
        self.limit = limit
        self.written = 0
        self.dropped = 0
        self._read_fd, self.write_fd = os.pipe()
        os.set_blocking(self._read_fd, False)
        self._stop = threading.Event()
        self._wake_r, self._wake_w = os.pipe()
        self._file = open(self.path, "ab", buffering=0)  # noqa: SIM115 - closed by the thread
        self._thread = threading.Thread(target=self._drain, name=f"output {self.path.name}", daemon=True)
        self._thread.start()

    def close_write_end(self) -> None:
        """Close this process's copy of the write end (after the child got its own)."""
        if self.write_fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.write_fd)
            self.write_fd = -1

    def _take(self, data: bytes) -> None:
        room = self.limit - self.written
        if room > 0:
            part = data[:room]
            self._file.write(part)
            self.written += len(part)
            data = data[room:]
        if data and not self.dropped:
            self._file.write(
                f"\n… [output cut: more than {self.limit // 1024} KiB was printed; the rest is dropped]\n".encode()
            )
        self.dropped += len(data)

    def _drain(self) -> None:
        try:
            while True:
                if self._stop.is_set():
                    self._read_available()
                    return
                ready, _, _ = select.select([self._read_fd, self._wake_r], [], [], 1.0)
                if self._read_fd in ready and not self._read_available():
                    return
        finally:
            for fd in (self._read_fd, self._wake_r):
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._file.close()

    def _read_available(self) -> bool:
        """Copy what can be read now; False at end-of-file."""
        for _ in range(256):
            try:
                chunk = os.read(self._read_fd, 1 << 16)
            except BlockingIOError:
                return True
            except OSError:
                return False
            if not chunk:
                return False
            self._take(chunk)
        return True

    def stop(self) -> None:
        """Copy what is left, then end the thread (whether or not the pipe reached its end)."""
        self.close_write_end()
        self._stop.set()
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")
        self._thread.join(timeout=5)
        with contextlib.suppress(OSError):
            os.close(self._wake_w)
