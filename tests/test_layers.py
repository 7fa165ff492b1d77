"""The sandbox's layers one by one (each applied in a throwaway process), then together.

A layer the platform refuses is skipped here with its reason, as `grader doctor` reports it;
the same tests pass as root and as an unprivileged user.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from grader.sandbox import layers
from grader.sandbox.child import landlock, seccomp_filter
from grader.sandbox.host import cgroups, slots
from grader.sandbox.host.client import Sandbox, StudentCrash, StudentTimeout, Submission
from grader.sandbox.host.output import OutputSink


def isolated(code: str, *args: str) -> dict:
    """Run `code` in a fresh interpreter (layers cannot be undone); it prints one JSON object."""
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_the_seccomp_program_is_well_formed():
    for machine in ("x86_64", "aarch64"):
        prog = seccomp_filter.build_program(machine)
        assert len(prog) % 8 == 0 and 20 < len(prog) // 8 < 256


@pytest.mark.skipif(seccomp_filter.supported() is not None, reason=str(seccomp_filter.supported()))
def test_seccomp_denies_network_namespaces_and_tracing_but_not_ordinary_work():
    got = isolated(
        """
        import ctypes, json, os, socket, subprocess
        from grader.sandbox.child import seccomp_filter
        seccomp_filter.install()
        libc = ctypes.CDLL(None, use_errno=True)
        out = {}
        for name, fam in (("inet", socket.AF_INET), ("inet6", socket.AF_INET6), ("netlink", socket.AF_NETLINK)):
            try:
                socket.socket(fam).close()
                out[name] = "allowed"
            except OSError as exc:
                out[name] = exc.errno
        socket.socket(socket.AF_UNIX).close()
        socket.socketpair()
        out["unshare_user"] = (libc.unshare(0x10000000), ctypes.get_errno())
        out["ptrace"] = (libc.ptrace(0, 0, 0, 0), ctypes.get_errno())
        out["kill_all"] = (libc.kill(-1, 0), ctypes.get_errno())
        out["subprocess"] = subprocess.run(["true"]).returncode
        pid = os.fork()
        if pid == 0:
            os._exit(7)
        out["fork"] = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        print(json.dumps(out))
        """
    )
    assert got["inet"] != "allowed" and got["inet6"] != "allowed" and got["netlink"] != "allowed"
    assert got["unshare_user"][0] == -1 and got["ptrace"][0] == -1 and got["kill_all"][0] == -1
    assert got["subprocess"] == 0 and got["fork"] == 7


@pytest.mark.skipif(landlock.unavailable_reason() is not None, reason=str(landlock.unavailable_reason()))
def test_landlock_allows_only_the_listed_paths(tmp_path):
    inside, outside = tmp_path / "inside", tmp_path / "outside"
    inside.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    got = isolated(
        """
        import json, sys
        from grader.sandbox import layers
        from grader.sandbox.child import landlock, privileges
        privileges.no_new_privs()
        ro = layers.python_read_paths() + ["/usr", "/lib", "/lib64", "/etc/ld.so.cache"]
        landlock.restrict(ro, [sys.argv[1]], ["/dev/null"])
        out = {}
        open(sys.argv[1] + "/new.txt", "w").write("ok")
        out["write_inside"] = open(sys.argv[1] + "/new.txt").read()
        for name, action in (("read_outside", lambda: open(sys.argv[2] + "/secret.txt").read()),
                             ("write_outside", lambda: open(sys.argv[2] + "/new.txt", "w")),
                             ("write_python", lambda: open(layers.__file__, "a")),
                             ("list_proc", lambda: __import__("os").listdir("/proc"))):
            try:
                action()
                out[name] = "allowed"
            except OSError as exc:
                out[name] = exc.strerror
        import numpy  # an import after the restriction still works
        print(json.dumps(out))
        """,
        str(inside),
        str(outside),
    )
    assert got["write_inside"] == "ok"
    assert got["read_outside"] != "allowed" and got["write_outside"] != "allowed"
    assert got["write_python"] != "allowed" and got["list_proc"] != "allowed"


def test_rlimits_cap_file_size(tmp_path):
    got = isolated(
        """
        import json, sys
        from grader.sandbox.limits import Limits, apply
        detail = apply(Limits(file_bytes=1 << 20), address_space=True)
        try:
            with open(sys.argv[1], "wb") as f:
                f.write(b"x" * (2 << 20))
            err = None
        except OSError as exc:
            err = exc.strerror
        print(json.dumps({"detail": detail, "err": err}))
        """,
        str(tmp_path / "big"),
    )
    assert got["err"] == "File too large"
    assert "file size 1 MiB" in got["detail"]


@pytest.mark.skipif(cgroups.unavailable_reason() is not None, reason=str(cgroups.unavailable_reason()))
def test_a_cgroup_kills_a_whole_tree_even_setsid_escapees():
    group = cgroups.create(512 << 20, 16)
    assert group is not None
    script = "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(60)\ntime.sleep(60)\n"
    procs = ";".join(f"echo $$ > {p}" for p in group.procs_files)
    proc = subprocess.Popen(["sh", "-c", f"{procs}; exec {sys.executable} -c '{script}'"])
    deadline = time.monotonic() + 10
    while len(group.pids()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(group.pids()) == 2
    assert group.kill()
    assert group.pids() == set()
    proc.wait(timeout=5)
    group.remove()
    assert all(not Path(p).parent.exists() for p in group.procs_files)


def test_slot_uids_need_an_interpreter_other_users_can_run(tmp_path):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    (private / "file").write_text("x")
    reason = slots._other_can(str(private / "file"), 0o004)
    assert reason is not None and "0700" in reason
    with pytest.raises(ValueError):
        slots.kill_uid(0)
    if os.geteuid() != 0:
        assert "not running as root" in (slots.unusable_reason([]) or "")


def test_output_is_capped_with_a_note(tmp_path):
    sink = OutputSink(tmp_path / "out.txt", limit=64 * 1024)
    data = b"y" * (1 << 20)
    view = memoryview(data)
    while view:
        view = view[os.write(sink.write_fd, view[: 1 << 16]) :]
    sink.stop()
    text = (tmp_path / "out.txt").read_bytes()
    assert len(text) < 64 * 1024 + 200
    assert b"output cut" in text
    assert sink.dropped == (1 << 20) - 64 * 1024


def test_the_policy_round_trips_and_lists_no_project_folder():
    policy = layers.Policy(workdir="/tmp/w", read_only=["/data"], limits={"cpu_seconds": 5}, uid=62000)
    assert layers.Policy.from_json(policy.to_json()) == policy
    root = Path(__file__).resolve().parent.parent
    for path in layers.python_read_paths():
        assert path != str(root) and not str(root / "assignments").startswith(path.rstrip("/") + "/"), path
        assert not path.startswith(str(root / "tests")) and not path.startswith(str(root / "reference")), path


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    root = tmp_path_factory.mktemp("layered")
    (root / "probe.py").write_text(
        textwrap.dedent(
            """
            import ctypes, os, socket, time

            def uid():
                return os.getuid()

            def try_read(path):
                try:
                    open(path).read(10)
                    return "read"
                except OSError as exc:
                    return exc.strerror

            def inet():
                try:
                    socket.socket(socket.AF_INET).close()
                    return "allowed"
                except OSError as exc:
                    return exc.strerror

            def escape_and_hang(tag):
                if os.fork() == 0:
                    os.setsid()
                    if os.fork() == 0:
                        ctypes.CDLL(None).prctl(15, tag.encode(), 0, 0, 0)
                        while True:
                            time.sleep(0.2)
                    os._exit(0)
                while True:
                    time.sleep(0.2)

            def matmul(n):
                import torch
                torch.set_num_threads(2)
                a = torch.ones(n, n)
                return float((a @ a).sum())
            """
        )
    )
    with Sandbox(root, call_seconds=5) as sb:
        yield sb


def test_a_sandboxed_child_reports_every_layer(sandbox):
    sandbox.start()
    names = [x.name for x in sandbox.layers]
    assert names[0] == "zygote" and names[-1] == "output cap"
    assert {"rlimits", "landlock", "seccomp", "slot uid", "no_new_privs", "pdeathsig"} <= set(names)
    for layer in sandbox.layers:
        assert layer.detail, f"{layer.name} says neither what it does nor why it is off"
    meta = layers.sandbox_metadata()
    assert "rlimits" in meta["active"]


def test_the_child_cannot_reach_the_graders_files_or_the_network(sandbox, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("hidden test")
    student = Submission(sandbox)
    active = {x.name for x in sandbox.layers if x.active}
    if active & {"landlock", "mount namespace", "slot uid"}:
        assert student.probe.try_read(str(secret)) != "read"
        assert student.probe.try_read(__file__) != "read"
    if "seccomp" in active:
        assert student.probe.inet() != "allowed"
    if "slot uid" in active:
        assert student.probe.uid() >= slots.uid_base()


def test_a_zygote_child_runs_multithreaded_torch(sandbox):
    assert Submission(sandbox).probe.matmul(256) == 256.0**3


def test_after_a_timeout_no_process_of_the_tree_survives(sandbox):
    tag = f"esc{os.getpid() % 100000}"
    with pytest.raises(StudentTimeout):
        Submission(sandbox).probe.escape_and_hang(tag)

    def alive() -> list[str]:
        found = []
        for entry in Path("/proc").iterdir():
            try:
                named = entry.name.isdigit() and (entry / "comm").read_text().strip() == tag
                if named and "zombie" not in (entry / "status").read_text():
                    found.append(entry.name)
            except OSError:
                continue
        return found

    assert alive() == []


def test_memory_notes_come_from_the_cgroup_files(tmp_path):
    group = cgroups.CGroup("fake", v2=tmp_path)
    (tmp_path / "memory.max").write_text(str(1 << 30))
    (tmp_path / "memory.peak").write_text(str(100 << 20))
    (tmp_path / "memory.events").write_text("low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n")
    assert group.memory_note() == ""
    (tmp_path / "memory.peak").write_text(str(1000 << 20))
    assert "using 1000 MiB of memory, near the limit of 1024 MiB" in group.memory_note()
    (tmp_path / "memory.events").write_text("max 12\noom 1\noom_kill 1\n")
    assert "out-of-memory killer" in group.memory_note()
    (tmp_path / "memory.max").write_text("max")
    assert group.memory_note() == ""


@pytest.mark.skipif(cgroups.unavailable_reason() is not None, reason=str(cgroups.unavailable_reason()))
def test_a_memory_bomb_is_killed_at_the_assignments_limit(tmp_path):
    (tmp_path / "bomb.py").write_text("HOARD = []\n\ndef bomb():\n    while True:\n        HOARD.append(b'x' * (64 << 20))\n")
    with Sandbox(tmp_path, call_seconds=30, memory_bytes=256 << 20) as sb:
        sb.start()
        assert any(x.name == "cgroup" and "memory 256 MiB" in x.detail for x in sb.layers), sb.layers
        with pytest.raises(StudentCrash, match="out-of-memory killer ended it.*256 MiB"):
            Submission(sb).bomb.bomb()


def test_without_a_cgroup_the_memory_watch_stops_a_forking_hog(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_SANDBOX_DISABLE", "cgroup")
    (tmp_path / "hog.py").write_text(
        textwrap.dedent(
            """
            import os, time

            def hog():
                for _ in range(3):
                    if os.fork() == 0:
                        block = bytearray(200 << 20)  # written: private memory of the child
                        time.sleep(60)
                        os._exit(0)
                time.sleep(60)
            """
        )
    )
    with Sandbox(tmp_path, call_seconds=30, memory_bytes=400 << 20) as sb:
        sb.start()
        watch = next(x for x in sb.layers if x.name == "memory watch")
        assert watch.active and "400 MiB" in watch.detail, watch
        t0 = time.monotonic()
        with pytest.raises(StudentCrash, match=r"used \d+ MiB of memory .* more than the limit of 400 MiB"):
            Submission(sb).hog.hog()
        assert time.monotonic() - t0 < 10
