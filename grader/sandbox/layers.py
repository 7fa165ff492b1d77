"""The sandbox's layers: which the child applies, in which order, and what it reports.

The grading process writes a `Policy` (plain JSON: the working folder, read-only data paths,
limits, the slot uid, the control group to join); the child applies it with `enter()` before
any student code is imported, in this order:

1. PDEATHSIG, then join the control group (memory, processes, whole-tree kill);
2. new network, PID, mount and IPC namespaces (a new user namespace when not root); the
   namespace's init remounts /proc, hides the shared temporary folders under size-capped tmpfs
   and puts the working folder on a tmpfs of its own (the disk cap);
3. rlimits (CPU, file size, open files, address space where it cannot break CUDA,
   processes for a non-root uid);
4. drop to the slot uid (root only), PDEATHSIG again (a uid change clears it), drop every
   capability, NO_NEW_PRIVS;
5. Landlock (filesystem allowlist), then seccomp last.

Each layer that the platform refuses is reported as inactive with the reason and the others
still apply. `Report` is what `grader doctor` prints and what every scorecard records.
"""

from __future__ import annotations

import contextlib
import json
import os
import site
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from grader.sandbox.child import landlock, namespaces, privileges, seccomp_filter
from grader.sandbox.host import cgroups
from grader.sandbox.limits import Limits, cuda_devices_present, processes_of_uid
from grader.sandbox.limits import apply as apply_limits

ORDER = (
    "zygote", "cgroup", "network namespace", "pid namespace", "mount namespace", "disk cap",
    "rlimits", "slot uid", "capabilities", "no_new_privs", "pdeathsig", "landlock", "seccomp",
    "memory watch", "output cap",
)  # fmt: skip

# Files and folders every child may read: system libraries and the few /etc and /proc files
# that Python, numpy and torch read.
_SYSTEM_READ = (
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
    "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
    "/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/os-release", "/etc/mime.types",
    "/etc/fonts", "/etc/matplotlibrc",
    "/proc/cpuinfo", "/proc/meminfo", "/proc/stat", "/proc/sys/vm/overcommit_memory",
    "/proc/driver/nvidia", "/sys/devices/system/cpu", "/sys/devices/system/node",
    "/sys/fs/cgroup", "/sys/bus/pci", "/sys/devices/pci0000:00",
    "/dev/urandom", "/dev/random",
)  # fmt: skip
_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/nvidiactl", "/dev/nvidia-uvm",
            "/dev/nvidia-uvm-tools", "/dev/nvidia-caps")  # fmt: skip


@dataclass
class Layer:
    """One layer's state in one child: the one shape every part of the sandbox reports in
    (the child's own layers arrive as JSON and are read back into it)."""

    name: str
    active: bool
    detail: str


@dataclass
class Policy:
    """What the grading process asks of the child (travels as JSON)."""

    workdir: str
    read_only: list[str] = field(default_factory=list)
    limits: dict[str, int] = field(default_factory=dict)
    uid: int | None = None
    gid: int | None = None
    uid_note: str = ""
    cgroup_procs: list[str] = field(default_factory=list)
    cgroup_note: str = ""
    disabled: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        """The policy as one JSON line."""
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Policy:
        """Parse what `to_json` wrote."""
        return cls(**json.loads(text))


def disabled_by_env() -> list[str]:
    """Layers switched off with GRADER_SANDBOX_DISABLE (comma-separated names; for debugging)."""
    raw = os.environ.get("GRADER_SANDBOX_DISABLE", "")
    names = [x.strip() for x in raw.split(",") if x.strip()]
    if "all" in names:
        return [n for n in ORDER if n not in ("zygote", "output cap")] + ["ipc namespace"]
    return names


def python_read_paths() -> list[str]:
    """The Python installation the child runs from: prefixes, stdlib, site-packages, grader.

    Other entries of sys.path are kept only when they are site-packages folders, so that a
    project folder on the path (tests, reference solutions) is never opened up.
    """
    import grader

    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    paths = set(prefixes)
    paths.add(os.path.dirname(os.__file__))
    paths.add(os.path.dirname(os.path.realpath(sys.executable)))
    paths.add(os.path.dirname(sys.executable))
    with contextlib.suppress(Exception):
        paths.update(site.getsitepackages())
    for entry in sys.path:
        if not entry or not os.path.isabs(entry):
            continue
        base = os.path.basename(entry.rstrip("/"))
        if base in ("site-packages", "dist-packages") or any(
            entry.startswith(p.rstrip("/") + "/") for p in prefixes if p != "/"
        ):
            paths.add(entry)
    paths.add(os.path.dirname(os.path.abspath(grader.__file__)))
    paths.discard("/")
    return sorted(p for p in paths if p and os.path.exists(p))


def read_only_paths(policy: Policy) -> list[str]:
    """Everything the child may read (not write): Python, system files, data."""
    return sorted({*python_read_paths(), *_SYSTEM_READ, *policy.read_only})


def device_paths() -> list[str]:
    """Device nodes the child may read and write."""
    import glob

    return [*_DEVICES, *glob.glob("/dev/nvidia[0-9]*")]


def enter(policy: Policy, keep_fds: tuple[int, ...], ready_fd: int = -1) -> list[Layer]:
    """Apply the policy to this process; returns the report. May fork (PID namespace): then
    only the sandboxed child returns, and the supervisor exits as it does."""
    off = set(policy.disabled)
    report: dict[str, Layer] = {}

    def note(name: str, active: bool, detail: str) -> None:
        report[name] = Layer(name, active, detail)

    try:
        namespaces.set_pdeathsig()
        note("pdeathsig", True, "SIGKILL when the parent ends")
    except OSError as exc:
        note("pdeathsig", False, f"prctl refused: {exc.strerror}")

    if policy.cgroup_procs and "cgroup" not in off:
        failed = cgroups.join(policy.cgroup_procs)
        if failed:
            note("cgroup", False, f"could not join {', '.join(failed)}")
        else:
            note("cgroup", True, policy.cgroup_note)
    else:
        note("cgroup", False, "switched off" if "cgroup" in off else policy.cgroup_note or "none made")

    limits = Limits(**policy.limits)
    run_uid = policy.uid if policy.uid is not None else os.geteuid()
    processes = None if run_uid == 0 else (run_uid, processes_of_uid(run_uid))
    read_only = read_only_paths(policy)
    read_write = [policy.workdir]

    wanted = [namespaces.CLONE_NEWNET, namespaces.CLONE_NEWPID, namespaces.CLONE_NEWNS, namespaces.CLONE_NEWIPC]
    wanted = [f for f in wanted if f"{namespaces.NAMES[f]} namespace" not in off]
    ns_state, _user_ns = namespaces.unshare_all(wanted) if wanted else ({}, False)
    for flag_name in ("network", "pid", "mount"):
        why = ns_state.get(flag_name, "switched off")
        detail = {"network": "no network interfaces but a downed loopback",
                  "pid": "the child is pid 2 under its own init; all its processes end with it",
                  "mount": "private mounts"}[flag_name]  # fmt: skip
        note(f"{flag_name} namespace", why is None, detail if why is None else why)
    mount_ok = ns_state.get("mount") is None and "mount" in ns_state
    if mount_ok:
        try:
            namespaces.make_mounts_private()
        except OSError as exc:
            mount_ok = False
            note("mount namespace", False, str(exc))
    fresh_shm = False
    disk_bytes = None if "disk cap" in off else limits.disk_bytes
    mounts: namespaces.Mounts | None = None
    pid_ok = ns_state.get("pid") is None and "pid" in ns_state
    if pid_ok:
        mounted: list[namespaces.Mounts] = []

        def init_setup() -> None:
            if mount_ok:
                shm = 256 * 1024 * 1024
                mounted.append(namespaces.setup_mounts(read_only, read_write, shm, disk_bytes))

        # The init's pid (on ready_fd) lets the grading process wait until the namespace is gone.
        namespaces.enter_pid_namespace((*keep_fds, ready_fd), init_setup, announce_fd=ready_fd)
        # Only the sandboxed child gets here, forked by the init after its setup: `mounted`
        # holds what the init did.
        mounts = mounted[0] if mounted else None
        fresh_shm = mounts is not None and any("/dev/shm" in m for m in mounts.done)
        if mount_ok:
            done = "; ".join(mounts.done) if mounts else "the init could not remount /proc"
            note("mount namespace", mounts is not None, done)
    elif mount_ok:
        note("mount namespace", True, "private mounts (no PID namespace: /proc not remounted)")
    if disk_bytes is None:
        note("disk cap", False, "switched off")
    elif mounts is not None and mounts.disk:
        note("disk cap", True, mounts.disk)
    else:
        if mounts is not None and mounts.disk_off:
            why = mounts.disk_off
        elif not report["mount namespace"].active:
            why = f"no mount namespace ({report['mount namespace'].detail})"
        elif not pid_ok:
            why = "no PID namespace (its init makes the tmpfs)"
        else:
            why = "the namespace's mounts failed"
        note("disk cap", False, f"{why}; only each file is bounded (RLIMIT_FSIZE)")

    try:
        address_space = not cuda_devices_present() and not (report["cgroup"].active and "memory" in policy.cgroup_note)
        note("rlimits", True, apply_limits(limits, address_space=address_space, processes=processes))
    except (OSError, ValueError) as exc:
        note("rlimits", False, f"setrlimit refused: {exc}")

    bounding = 0
    if policy.uid is not None and "slot uid" not in off:
        if "capabilities" not in off:
            bounding = privileges.drop_bounding_set()  # needs CAP_SETPCAP, gone after the uid change
        privileges.drop_to(policy.uid, policy.gid if policy.gid is not None else policy.uid)
        note("slot uid", True, f"uid {policy.uid} (the grader's files and processes are out of reach)")
        try:
            namespaces.set_pdeathsig()
        except OSError as exc:
            note("pdeathsig", False, f"prctl refused after the uid change: {exc.strerror}")
    else:
        note("slot uid", False, policy.uid_note or "not asked for")

    if "capabilities" in off:
        note("capabilities", False, "switched off")
    else:
        try:
            n = bounding + privileges.drop_capabilities()
            note("capabilities", True, f"all dropped ({n} from the bounding set)")
        except OSError as exc:
            note("capabilities", False, str(exc))

    try:
        privileges.no_new_privs()
        note("no_new_privs", True, "execve never grants privileges")
    except OSError as exc:
        note("no_new_privs", False, f"prctl refused: {exc.strerror}")

    def optional(name: str, reason: str | None, apply: Callable[[], str]) -> None:
        """Apply a layer unless it is switched off or unsupported; note what happened."""
        if name in off:
            note(name, False, "switched off")
        elif reason:
            note(name, False, reason)
        else:
            try:
                note(name, True, apply())
            except OSError as exc:
                note(name, False, str(exc))

    rw = [*read_write, "/dev/shm"] if fresh_shm else read_write
    ro = [*read_only, f"/proc/{os.getpid()}"]
    optional("landlock", landlock.unavailable_reason(), lambda: landlock.restrict(ro, rw, device_paths()))
    optional("seccomp", seccomp_filter.supported(), seccomp_filter.install)
    return [report[n] for n in ORDER if n in report]


# --- what every scorecard records ----------------------------------------------------------

_last: dict[str, list[dict[str, Any]]] = {}


def record(fixture: str, layers: list[Layer]) -> None:
    """Remember the layers a child of this process reported (by fixture name)."""
    _last[fixture] = [asdict(x) for x in layers]


def sandbox_metadata() -> dict[str, Any]:
    """The layers of the last student child this process started, for a scorecard's metadata."""
    layers = _last.get("student") or next(iter(_last.values()), None)
    if layers is None:
        return {"note": "no sandboxed child ran"}
    return {
        "active": [x["name"] for x in layers if x["active"]],
        "inactive": {x["name"]: x["detail"] for x in layers if not x["active"]},
    }
