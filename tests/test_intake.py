"""Intake (grader/intake.py): the submission is hostile data, read once, before any child starts.

Links are never followed, devices/FIFOs/sockets never opened, size, entries, depth and time are
bounded, zips and notebooks follow the same rules, and what was left out reaches the scorecard.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import stat
import tempfile
import warnings
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from grader.intake import (
    FIFO,
    LINK,
    SOCKET,
    UNSAFE_PATH,
    IntakeError,
    IntakeLimits,
    IntakeReport,
    NotASubmission,
    stage_submission,
)
from grader.mutants import Mutant, build_mutant
from grader.results import GradeResult
from grader.runner.session import grade_in_subprocess
from grader.sandbox.host import client
from grader.sandbox.host.launcher import LaunchError
from grader.scorecard.gradescope import render_gradescope
from grader.scorecard.junit import render_junit
from grader.scorecard.markdown import render_markdown
from grader.scorecard.terminal import render_terminal
from grader.spec import Project

TOY_ROOT = Path(__file__).parent / "fixtures" / "project"
SECRET = b"SECRET-REFERENCE-7f3a"


def _stage(source: Path, tmp: Path, **caps: float) -> tuple[IntakeReport, Path]:
    """Stage `source` with at most a few seconds to spare (a hang fails, it does not block)."""
    dest = tmp / "staged"
    shutil.rmtree(dest, ignore_errors=True)
    with ThreadPoolExecutor(1) as pool:
        report = pool.submit(stage_submission, source, dest, limits=IntakeLimits(**caps)).result(
            timeout=20
        )
    return report, dest


def _tree(root: Path) -> dict[str, bytes | None]:
    """Every entry below `root`: file contents, None for a folder; fails on anything else."""
    out: dict[str, bytes | None] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            mode = path.lstat().st_mode
            assert stat.S_ISREG(mode) or stat.S_ISDIR(mode), (
                f"{path} is neither a file nor a folder"
            )
            out[str(path.relative_to(root))] = path.read_bytes() if stat.S_ISREG(mode) else None
    return out


def _skipped(report: IntakeReport) -> dict[str, str]:
    return {s.path: s.reason for s in report.skipped}


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder outside the submission, like the reference solution and the hidden tests."""
    folder = tmp_path / "reference"
    folder.mkdir()
    (folder / "toy.py").write_bytes(SECRET)
    return folder


@pytest.fixture
def sub(tmp_path: Path) -> Path:
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "main.py").write_text("x = 1\n")
    return folder


# --- folders: links, special files ------------------------------------------------------------
def test_links_to_files_and_folders_are_skipped_never_followed(tmp_path, sub, outside):
    (sub / "toy.py").symlink_to(outside / "toy.py")
    (sub / "ref").symlink_to(outside)
    (sub / "inner.py").symlink_to(sub / "main.py")  # even one that points inside
    (sub / "dangling.py").symlink_to(tmp_path / "nothing")
    report, dest = _stage(sub, tmp_path)
    assert _tree(dest) == {"main.py": b"x = 1\n"}
    assert _skipped(report) == {"toy.py": LINK, "ref": LINK, "inner.py": LINK, "dangling.py": LINK}
    assert report.files == 1 and report.bytes == 6 and report.skipped_total == 4


def test_two_links_to_the_folder_itself_do_not_recurse(tmp_path, sub):
    (sub / "a").symlink_to(".")
    (sub / "pkg").mkdir()
    (sub / "pkg" / "b").symlink_to("..")
    report, dest = _stage(sub, tmp_path)
    assert _tree(dest) == {"main.py": b"x = 1\n", "pkg": None}
    assert _skipped(report) == {"a": LINK, "pkg/b": LINK}


def test_a_link_to_proc_environ_is_not_read(tmp_path, sub, monkeypatch):
    monkeypatch.setenv("GRADER_INTAKE_CANARY", "grader-secret-environment")
    (sub / "env.txt").symlink_to("/proc/self/environ")
    report, dest = _stage(sub, tmp_path)
    assert _skipped(report) == {"env.txt": LINK}
    assert all(b"grader-secret-environment" not in (v or b"") for v in _tree(dest).values())


def test_a_link_to_dev_zero_does_not_fill_the_disk(tmp_path, sub):
    (sub / "zeros.bin").symlink_to("/dev/zero")
    report, dest = _stage(sub, tmp_path)
    assert _skipped(report) == {"zeros.bin": LINK} and report.bytes == 6


def test_fifos_and_sockets_are_never_opened(tmp_path, sub):
    os.mkfifo(sub / "pipe")  # opening it for reading would block until a writer comes
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(sub / "sock"))
        report, dest = _stage(sub, tmp_path)
    assert _skipped(report) == {"pipe": FIFO, "sock": SOCKET}
    assert _tree(dest) == {"main.py": b"x = 1\n"}


def test_caches_and_bytecode_are_left_out_silently(tmp_path, sub):
    for name in ("__pycache__", ".git", ".pytest_cache", ".hypothesis"):
        (sub / name).mkdir()
        (sub / name / "x").write_text("junk")
    (sub / "old.pyc").write_bytes(b"\0")
    report, dest = _stage(sub, tmp_path)
    assert _tree(dest) == {"main.py": b"x = 1\n"} and report.skipped_total == 0


def test_the_submission_folder_is_not_modified(tmp_path, sub, outside):
    (sub / "pkg").mkdir()
    (sub / "pkg" / "m.py").write_text("y = 2\n")
    (sub / "toy.py").symlink_to(outside / "toy.py")
    os.mkfifo(sub / "pipe")
    before = sorted((str(p), p.lstat().st_mode, p.lstat().st_mtime_ns) for p in sub.rglob("*"))
    _stage(sub, tmp_path)
    assert (
        sorted((str(p), p.lstat().st_mode, p.lstat().st_mtime_ns) for p in sub.rglob("*")) == before
    )


# --- folders: caps --------------------------------------------------------------------------
def test_too_many_files_is_refused(tmp_path, sub):
    for i in range(10):
        (sub / f"f{i}.py").write_text("")
    with pytest.raises(IntakeError, match="more than 5 files"):
        _stage(sub, tmp_path, max_files=5)
    assert not (tmp_path / "staged").exists()


def test_links_count_as_entries(tmp_path, sub):
    for i in range(10):
        (sub / f"l{i}").symlink_to(".")
    with pytest.raises(IntakeError, match="more than 5 files"):
        _stage(sub, tmp_path, max_files=5)


def test_too_deep_is_refused(tmp_path, sub):
    (sub / "a" / "b" / "c" / "d").mkdir(parents=True)
    _stage(sub, tmp_path, max_depth=4)
    (sub / "a" / "b" / "c" / "d" / "e.py").write_text("")
    with pytest.raises(IntakeError, match="nested more than 4 levels"):
        _stage(sub, tmp_path, max_depth=4)


def test_too_big_is_refused_by_the_bytes_read(tmp_path, sub):
    (sub / "big.bin").write_bytes(b"\1" * 5000)
    with pytest.raises(IntakeError, match="more than"):
        _stage(sub, tmp_path, max_bytes=4000)
    report, _ = _stage(sub, tmp_path, max_bytes=5006)
    assert report.bytes == 5006


def test_the_time_limit_stops_the_walk(tmp_path, sub):
    for i in range(20):
        (sub / f"f{i}.py").write_text("")
    with pytest.raises(IntakeError, match="took longer than 0 s"):
        _stage(sub, tmp_path, seconds=0.0)


def test_the_skipped_list_is_bounded_but_counted(tmp_path, sub):
    for i in range(30):
        (sub / f"l{i:02}").symlink_to("main.py")
    report, _ = _stage(sub, tmp_path, max_reported=5)
    assert len(report.skipped) == 5 and report.skipped_total == 30
    meta = report.to_metadata()
    assert meta["skipped_total"] == 30 and meta["files"] == 1 and meta["bytes"] == 6
    assert meta["skipped"][0] == {"path": "l00", "reason": LINK}


def test_not_a_submission(tmp_path):
    with pytest.raises(NotASubmission, match="does not exist"):
        stage_submission(tmp_path / "nope", tmp_path / "staged")
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(NotASubmission, match="not a folder, a .zip"):
        stage_submission(tmp_path / "notes.txt", tmp_path / "staged")
    os.mkfifo(tmp_path / "sub.zip")
    with pytest.raises(NotASubmission):
        stage_submission(tmp_path / "sub.zip", tmp_path / "staged")


# --- random trees -----------------------------------------------------------------------------
NAMES = st.sampled_from(["a", "b", "c.py", "d.txt", "__pycache__", "e.pyc", ".git", "f g", "ü.py"])
ENTRY = st.one_of(
    st.tuples(st.just("file"), st.binary(max_size=64)),
    st.tuples(st.just("dir"), st.none()),
    st.tuples(
        st.just("link"),
        st.sampled_from([".", "..", "a", "c.py", "/dev/zero", "/proc/self/environ", "OUTSIDE"]),
    ),
    st.tuples(st.just("fifo"), st.none()),
)
TREE = st.lists(st.tuples(st.lists(NAMES, min_size=1, max_size=4), ENTRY), max_size=25)


def _junk(name: str) -> bool:
    return name in ("__pycache__", ".git") or name.endswith(".pyc")


def _build(root: Path, tree: list, outside: Path) -> dict[str, bytes]:
    """Make the tree; return the regular files a safe intake must copy (path -> bytes)."""
    for parts, (kind, arg) in tree:
        path = root.joinpath(*parts)
        if any(
            p.is_symlink() or (p.exists() and not p.is_dir())
            for p in [*path.parents][: len(parts) - 1]
        ):
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() or path.is_symlink():
            continue
        if kind == "file":
            path.write_bytes(arg)
        elif kind == "dir":
            path.mkdir()
        elif kind == "link":
            path.symlink_to(str(outside / "toy.py") if arg == "OUTSIDE" else arg)
        else:
            os.mkfifo(path)
    expected: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(root):  # os.walk does not follow links
        dirnames[:] = [d for d in dirnames if not _junk(d) and not (Path(dirpath) / d).is_symlink()]
        for name in filenames:
            path = Path(dirpath) / name
            if stat.S_ISREG(path.lstat().st_mode) and not _junk(name):
                expected[str(path.relative_to(root))] = path.read_bytes()
    return expected


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(tree=TREE)
def test_any_tree_stages_exactly_its_regular_files(tree):
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        outside = tmp_path / "reference"
        outside.mkdir()
        (outside / "toy.py").write_bytes(SECRET)
        root = tmp_path / "submission"
        root.mkdir()
        expected = _build(root, tree, outside)
        report, dest = _stage(root, tmp_path)
        staged = _tree(dest)
        assert {k: v for k, v in staged.items() if v is not None} == expected
        assert report.files == len(expected) and report.bytes == sum(map(len, expected.values()))
        assert all(SECRET not in (v or b"") for v in staged.values())


# --- zips -------------------------------------------------------------------------------------
def _zip(
    path: Path,
    entries: list[tuple[str | zipfile.ZipInfo, bytes]],
    method: int = zipfile.ZIP_DEFLATED,
) -> Path:
    with zipfile.ZipFile(path, "w", method) as z, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are part of some tests
        for name, data in entries:
            z.writestr(name, data)
    return path


def _link_entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def test_a_zip_is_staged_with_its_folders(tmp_path):
    z = _zip(
        tmp_path / "hw.zip",
        [
            ("toy.py", b"x = 1\n"),
            ("pkg/", b""),
            ("pkg/m.py", b"y\n"),
            ("pkg/__pycache__/m.pyc", b"\0"),
        ],
    )
    report, dest = _stage(z, tmp_path)
    assert _tree(dest) == {"toy.py": b"x = 1\n", "pkg": None, "pkg/m.py": b"y\n"}
    assert report.kind == "zip" and report.files == 2 and report.skipped_total == 0


def test_zip_paths_cannot_leave_the_staging_folder(tmp_path):
    z = _zip(
        tmp_path / "hw.zip",
        [
            ("../evil.py", b"pwned"),
            ("/tmp/abs.py", b"pwned"),
            ("a/../../x.py", b"pwned"),
            ("ok.py", b"ok"),
        ],
    )
    report, dest = _stage(z, tmp_path)
    assert _tree(dest) == {"ok.py": b"ok"}
    assert _skipped(report) == {
        "../evil.py": UNSAFE_PATH,
        "/tmp/abs.py": UNSAFE_PATH,
        "a/../../x.py": UNSAFE_PATH,
    }
    assert not (tmp_path / "evil.py").exists() and not (tmp_path / "x.py").exists()


def test_zip_symlink_entries_are_skipped(tmp_path, outside):
    z = _zip(
        tmp_path / "hw.zip",
        [(_link_entry("toy.py"), str(outside / "toy.py").encode()), ("ok.py", b"ok")],
    )
    report, dest = _stage(z, tmp_path)
    assert _tree(dest) == {"ok.py": b"ok"} and _skipped(report) == {"toy.py": LINK}


def test_a_zip_bomb_is_stopped_by_the_bytes_read(tmp_path):
    z = _zip(tmp_path / "bomb.zip", [("zeros.bin", b"\0" * (8 << 20))])
    assert z.stat().st_size < 64 << 10
    with pytest.raises(IntakeError, match="more than 1 MiB"):
        _stage(z, tmp_path, max_bytes=1 << 20)
    assert not (tmp_path / "staged").exists()


def test_a_zip_that_understates_a_size_gives_no_more_than_its_claim(tmp_path):
    z = _zip(tmp_path / "liar.zip", [("big.bin", b"\1" * (4 << 20)), ("ok.py", b"ok")])
    data = bytearray(z.read_bytes())
    for sig, offset in ((b"PK\x01\x02", 24), (b"PK\x03\x04", 22)):  # uncompressed size fields
        at = data.find(sig)
        data[at + offset : at + offset + 4] = (10).to_bytes(4, "little")
    z.write_bytes(bytes(data))
    report, dest = _stage(z, tmp_path, max_bytes=1 << 20)
    staged = _tree(dest)
    assert staged.get("ok.py") == b"ok" and len(staged.get("big.bin") or b"") <= 10
    assert report.bytes <= 12


def test_a_zip_with_too_many_entries_is_refused_before_reading_them(tmp_path):
    z = _zip(tmp_path / "many.zip", [(f"f{i}", b"") for i in range(50)])
    with pytest.raises(IntakeError, match="more than 20 files"):
        _stage(z, tmp_path, max_files=20)


def test_a_zip_too_deep_or_with_special_entries(tmp_path):
    fifo = zipfile.ZipInfo("pipe")
    fifo.external_attr = (stat.S_IFIFO | 0o644) << 16
    z = _zip(tmp_path / "hw.zip", [(fifo, b""), ("ok.py", b"ok"), ("ok.py", b"again")])
    report, dest = _stage(z, tmp_path)
    assert _tree(dest) == {"ok.py": b"ok"}
    assert _skipped(report)["pipe"] == FIFO and "clashes" in _skipped(report)["ok.py"]
    deep = _zip(tmp_path / "deep.zip", [("a/b/c/d.py", b"")])
    with pytest.raises(IntakeError, match="nested more than 2 levels"):
        _stage(deep, tmp_path, max_depth=2)


def test_a_broken_zip_is_refused(tmp_path):
    (tmp_path / "bad.zip").write_bytes(b"this is no zip file")
    with pytest.raises(IntakeError, match="not a zip"):
        _stage(tmp_path / "bad.zip", tmp_path)


# --- notebooks --------------------------------------------------------------------------------
NOTEBOOK = {"cells": [{"cell_type": "code", "source": "%%writefile hw.py\nx = 1", "metadata": {}, "outputs": [], "execution_count": None},
                      {"cell_type": "code", "source": "import hw\nwhile True: pass", "metadata": {}, "outputs": [], "execution_count": None}],
            "metadata": {}, "nbformat": 4, "nbformat_minor": 5}  # fmt: skip


def test_a_notebook_is_staged_as_the_files_of_its_writefile_cells(tmp_path):
    nb = tmp_path / "hw.ipynb"
    nb.write_text(json.dumps(NOTEBOOK))
    report, dest = _stage(nb, tmp_path)
    assert _tree(dest) == {"hw.py": b"x = 1\n"} and report.kind == "notebook"  # nothing else
    # tests/test_notebook_submissions.py has the rest: magics, outputs, unsafe paths, caps.


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not a Jupyter notebook"),
        ("[" * 100_000, "not valid JSON"),
    ],
)
def test_a_broken_notebook_is_refused(tmp_path, content, message):
    (tmp_path / "hw.ipynb").write_text(content)
    with pytest.raises(IntakeError, match=message):
        _stage(tmp_path / "hw.ipynb", tmp_path)


def test_a_big_notebook_is_refused(tmp_path):
    nb = dict(NOTEBOOK, metadata={"pad": "x" * 5000})
    (tmp_path / "hw.ipynb").write_text(json.dumps(nb))
    with pytest.raises(IntakeError, match="larger than"):
        _stage(tmp_path / "hw.ipynb", tmp_path, max_notebook_bytes=4000)


def test_a_notebook_inside_a_folder_is_just_a_file(tmp_path, sub):
    (sub / "hw.ipynb").write_text("not even json")
    report, dest = _stage(sub, tmp_path)
    assert _tree(dest)["hw.ipynb"] == b"not even json"


# --- the sandbox copies the staged tree, once staged --------------------------------------------
def test_the_sandbox_stages_once_and_restarts_copy_the_staged_tree(sub, outside, monkeypatch):
    seen: list[dict[str, bytes | None]] = []

    def fake_launch(workdir: Path, **kwargs):
        seen.append(_tree(workdir))
        raise LaunchError("not started in this test")

    monkeypatch.setattr(client, "launch", fake_launch)
    (sub / "toy.py").symlink_to(outside / "toy.py")
    with client.Sandbox(sub) as sb:
        assert sb.intake is not None and _skipped(sb.intake) == {"toy.py": LINK}
        (sub / "main.py").write_text("changed after intake\n")
        (sub / "late.py").symlink_to(outside / "toy.py")
        for _ in range(2):
            with pytest.raises(client.StudentCrash):
                sb.start()
        with pytest.raises(AttributeError, match="toy.py is missing from submission/"):
            client.Submission(sb).toy  # noqa: B018
    assert seen == [{"main.py": b"x = 1\n", ".tmp": None}] * 2


# --- mutants with links and FIFOs ---------------------------------------------------------------
def test_build_mutant_makes_links_and_fifos(tmp_path, sub):
    m = Mutant(
        name="m",
        path=tmp_path / "m.yaml",
        description="",
        links={"main.py": "@@X@@/t.py", "d/l": "."},
        fifos=("p",),
    )
    out = build_mutant(sub, m, tmp_path / "out", fill={"@@X@@": "/somewhere"})
    assert os.readlink(out / "main.py") == "/somewhere/t.py" and os.readlink(out / "d" / "l") == "."
    assert stat.S_ISFIFO((out / "p").lstat().st_mode)
    assert (sub / "main.py").read_text() == "x = 1\n"


# --- grading and the scorecard ------------------------------------------------------------------
@pytest.fixture(scope="module")
def toy():
    return Project(TOY_ROOT).load("toy")


def test_a_zip_is_graded_and_its_skipped_entries_are_on_the_scorecard(toy, tmp_path):
    code = (toy.reference_dir / "toy.py").read_bytes()
    z = _zip(tmp_path / "toy.zip", [("toy.py", code), (_link_entry("evil.py"), b"/etc/passwd")])
    result = grade_in_subprocess(toy.spec_file, z)
    assert result.errors == [] and result.score == result.max_score
    assert result.metadata["intake"]["skipped"] == [{"path": "evil.py", "reason": LINK}]
    assert "intake: skipped 1 entry: evil.py (a symbolic link, not followed)" in _terminal(result)
    assert (
        "intake: skipped 1 entry: evil\\.py \\(a symbolic link, not followed\\)"
        in render_markdown(result)
    )
    gradescope = render_gradescope(result)
    assert "intake: skipped 1 entry: evil.py" in gradescope["output"]
    assert gradescope["extra_data"]["intake"].startswith("intake: skipped 1 entry")
    assert 'name="intake" value="intake: skipped 1 entry: evil.py' in render_junit(result)


def test_a_refused_submission_is_graded_zero_with_the_reason(toy, tmp_path):
    sub = tmp_path / "huge"
    sub.mkdir()
    for i in range(10_001):
        (sub / f"f{i}").touch()
    result = grade_in_subprocess(toy.spec_file, sub)
    assert result.errors == [] and result.score == 0 and result.tests
    assert {t.outcome for t in result.tests} == {"failed"}
    assert all(
        t.message
        == "your submission was not graded: the submission has more than 10000 files and folders"
        for t in result.tests
    )
    assert "intake: the submission was refused" in _terminal(result)


def _terminal(result: GradeResult) -> str:
    out = io.StringIO()
    render_terminal(result, Console(file=out, width=2000, color_system=None))
    return out.getvalue()


def test_the_intake_line_is_sanitised_and_bounded():
    skipped = [{"path": f"\x1b[31mred{i}|*x*", "reason": LINK} for i in range(15)]
    result = GradeResult(
        "toy", "Toy", "1", "sub", metadata={"intake": {"skipped": skipped, "skipped_total": 40}}
    )
    text = _terminal(result)
    assert "intake: skipped 40 entries: red0|*x* (a symbolic link, not followed)" in text
    assert "\x1b" not in text and "and 30 more" in text
    md = render_markdown(result)
    assert "red0\\|\\*x\\*" in md and "\x1b" not in md
    assert "intake:" not in _terminal(
        GradeResult(
            "toy", "Toy", "1", "sub", metadata={"intake": {"skipped": [], "skipped_total": 0}}
        )
    )
