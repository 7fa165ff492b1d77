"""The disk cap: the child's working folder is a size-capped tmpfs in its mount namespace.

`fallocate` or many small files past the cap fail with ENOSPC inside the child (an OSError for
the student's code), the host's disk is untouched, and the submission's files are all there.
Where the platform gives no mount namespace the layer is reported inactive with the reason, and
these tests are skipped with it, as `grader doctor` reports it.
"""

from __future__ import annotations

import errno
import os
import textwrap
from pathlib import Path

import pytest

from grader.runner.plugin import GradingPlugin
from grader.sandbox.host.client import Sandbox, Submission
from grader.spec import SpecError, load_spec

CAP = 64 << 20

_DISK = textwrap.dedent(
    """
    import os


    def reserve(name, n):
        fd = os.open(name, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.posix_fallocate(fd, 0, n)
            return "reserved"
        except OSError as exc:
            return exc.errno
        finally:
            os.close(fd)


    def many_files(size, most):
        block = b"f" * size
        written = 0
        for i in range(most):
            try:
                with open(f"small{i}.bin", "wb") as f:
                    f.write(block)
            except OSError as exc:
                return written, exc.errno
            written += size
        return written, None


    def look():
        import pkg.helper
        return {
            "cwd": os.getcwd(),
            "files": sorted(os.listdir(".")),
            "data": open("data/numbers.txt").read(),
            "helper": pkg.helper.double(21),
            "script_mode": oct(os.stat("run.sh").st_mode & 0o777),
        }
    """
)


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("capped")
    (root / "disk.py").write_text(_DISK)
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "helper.py").write_text("def double(x):\n    return 2 * x\n")
    (root / "data").mkdir()
    (root / "data" / "numbers.txt").write_text("1 2 3\n")
    (root / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (root / "run.sh").chmod(0o755)
    with Sandbox(root, call_seconds=60, disk_bytes=CAP) as sb:
        sb.start()
        layer = next(x for x in sb.layers if x.name == "disk cap")
        if not layer.active:
            pytest.skip(f"no disk cap here: {layer.detail}")
        yield sb


def _free(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def test_fallocate_past_the_cap_is_refused_and_the_host_disk_untouched(capped: Sandbox):
    capped.start()
    host = capped.workdir
    before = _free(host)
    assert Submission(capped).disk.reserve("big.bin", 2 * CAP) == errno.ENOSPC
    # Under the cap it works, and still nothing reaches the host's disk.
    assert Submission(capped).disk.reserve("half.bin", CAP // 2) == "reserved"
    assert not (host / "big.bin").exists() and not (host / "half.bin").exists()
    assert before - _free(host) < CAP // 4, "the host's free space went down"


def test_many_small_files_stop_at_the_cap(capped: Sandbox):
    capped.start()
    written, err = Submission(capped).disk.many_files(1 << 20, 4 * CAP >> 20)
    assert err == errno.ENOSPC
    assert CAP - (2 << 20) <= written <= CAP
    assert not (capped.workdir / "small0.bin").exists()


def test_the_submission_is_whole_in_the_capped_folder_and_the_cap_reported(capped: Sandbox):
    capped.start()
    seen = Submission(capped).value(Submission(capped).disk.look())
    assert seen["cwd"] == str(capped.workdir)
    assert {"disk.py", "pkg", "data", "run.sh", ".tmp"} <= set(seen["files"])
    assert seen["data"] == "1 2 3\n" and seen["helper"] == 42
    prepared = (capped.workdir / "run.sh").stat().st_mode & 0o777
    assert seen["script_mode"] == oct(prepared)
    layer = next(x for x in capped.layers if x.name == "disk cap")
    assert layer.active and "64 MiB to write" in layer.detail, layer
    assert "writable in all" in layer.detail


def test_the_assignment_sets_the_cap(tmp_path: Path):
    folder = tmp_path / "assignments" / "toy"
    folder.mkdir(parents=True)
    text = 'name: toy\ntitle: Toy\nversion: "1.0"\nfiles: [toy.py]\n'
    text += "parts:\n  - name: basics\n    points: 2\n"
    (folder / "assignment.yaml").write_text(text + "limits:\n  disk_mb: 256\n")
    spec = load_spec(folder / "assignment.yaml")
    assert spec.limits.disk_mb == 256.0
    plugin = GradingPlugin(spec=spec, submission_dir=tmp_path, data_dir=None)
    sandbox = plugin.student_sandbox()
    try:
        assert sandbox.disk_bytes == 256 << 20
    finally:
        sandbox.close()
    (folder / "assignment.yaml").write_text(text + "limits:\n  disk_mb: 0\n")
    with pytest.raises(SpecError, match="limits.disk_mb"):
        load_spec(folder / "assignment.yaml")
    (folder / "assignment.yaml").write_text(text)
    assert load_spec(folder / "assignment.yaml").limits.disk_mb == 512.0


def test_the_doctor_shows_fallocate_refused_at_the_cap():
    from grader.sandbox.host import doctor
    from grader.sandbox.limits import Limits

    report = doctor.diagnose()
    layer = next(x for x in report["layers"] if x["name"] == "disk cap")
    seen = report["child_sees"][f"fallocate past the disk cap ({Limits().disk_bytes >> 20} MiB)"]
    if layer["active"]:
        assert seen == f"refused after {Limits().disk_bytes >> 20} MiB (No space left on device)"
    else:
        assert seen.startswith("ALLOWED"), seen  # reserved on the host's disk, then deleted
