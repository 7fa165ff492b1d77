"""`grader doctor`: which sandbox layers are active on this machine, found by starting a child.

Nothing is guessed: a throwaway submission is run in a real sandboxed child (from the zygote
where there is one), which reports each layer it applied or why it could not; the child is then
asked what it can see, as a cross-check (network interfaces, other processes, a secret file
outside its folder, how much it can reserve with `fallocate` in its working folder).
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import textwrap
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

_PROBE = textwrap.dedent(
    """
    import os, socket


    def fill_disk(cap):
        # 128 MiB files (under the file size limit) until refused or past the cap
        step, done, n = 128 << 20, 0, 0
        try:
            while done <= cap:
                fd = os.open(f"doctor-fill{n}.bin", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                n += 1
                try:
                    os.posix_fallocate(fd, 0, step)
                finally:
                    os.close(fd)
                done += step
            return f"ALLOWED ({done >> 20} MiB)"
        except OSError as exc:
            return f"refused after {done >> 20} MiB ({exc.strerror})"
        finally:
            for i in range(n):
                try:
                    os.remove(f"doctor-fill{i}.bin")
                except OSError:
                    pass


    def probe(secret, cap):
        seen = {}
        seen[f"fallocate past the disk cap ({cap >> 20} MiB)"] = fill_disk(cap)
        try:
            open(secret).read()
            seen["secret file outside the sandbox"] = "READABLE"
        except OSError as exc:
            seen["secret file outside the sandbox"] = f"refused ({exc.strerror})"
        try:
            socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
            seen["an IPv4 socket"] = "ALLOWED"
        except OSError as exc:
            seen["an IPv4 socket"] = f"refused ({exc.strerror})"
        try:
            pids = [p for p in os.listdir("/proc") if p.isdigit()]
            seen["processes it can list"] = str(len(pids))
        except OSError as exc:
            seen["processes it can list"] = f"none ({exc.strerror})"
        seen["uid"] = str(os.getuid())
        seen["pid"] = str(os.getpid())
        return seen
    """
)


def diagnose() -> dict[str, Any]:
    """Start a sandboxed child, and return its layers, timings and what it could reach."""
    from grader.sandbox.host.client import Sandbox, Submission
    from grader.sandbox.limits import Limits

    with tempfile.TemporaryDirectory(prefix="grader-doctor-") as tmp:
        sub = Path(tmp) / "submission"
        sub.mkdir()
        (sub / "doctor_probe.py").write_text(_PROBE)
        secret = Path(tmp) / "secret.txt"
        secret.write_text("not for the child\n")
        t0 = time.perf_counter()
        with Sandbox(sub, fixture_name="doctor", call_seconds=60) as sb:
            sb.start()
            first = time.perf_counter() - t0
            t1 = time.perf_counter()
            sb.start()
            again = time.perf_counter() - t1
            seen = Submission(sb).doctor_probe.probe(str(secret), Limits().disk_bytes)
            layers = [asdict(x) for x in sb.layers]
    return {
        "python": sys.executable,
        "platform": platform.platform(),
        "user": "root" if os.geteuid() == 0 else f"uid {os.geteuid()}",
        "layers": layers,
        "first_start_s": round(first, 3),
        "restart_s": round(again, 3),
        "child_sees": seen,
    }


def render(report: dict[str, Any], console: Any) -> None:
    """Print the report as a table (rich console)."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=f"sandbox layers ({report['user']}, {report['platform']})")
    table.add_column("layer", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("detail")
    for layer in report["layers"]:
        state = "[green]active[/green]" if layer["active"] else "[yellow]inactive[/yellow]"
        table.add_row(escape(layer["name"]), state, escape(str(layer["detail"])))
    console.print(table)
    console.print(
        f"python {report['python']}; first child ready in {report['first_start_s']:.2f} s "
        f"(zygote start included), a restart in {report['restart_s'] * 1000:.0f} ms"
    )
    seen = ", ".join(f"{k}: {v}" for k, v in report["child_sees"].items())
    console.print(f"the child's view: {escape(seen)}")
