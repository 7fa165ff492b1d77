"""The adversarial suite: submissions that cheat or break, graded against the toy assignment
and landmarks.

Each `toy/*.yaml` and `landmarks/*.yaml` is a submission built from the reference (the mutant format of
docs/writing-tests.md) with `expect_score` (its honest score: what its code earns when the
attack fails) and `expect_message` (a regular expression that some failed test's message must
match). Their code and link targets may use placeholders, filled in here: @@PROJECT@@ (the toy project, with
its hidden tests and reference), @@CANARY@@ (a folder outside the sandbox), @@SUBMISSION@@
(the submission's own folder), @@PORT@@ (a TCP listener of this test), @@MARK@@ (a tag that
leftover processes put in their name).

Every submission is graded once, in a fresh grading process (two at a time), with all children
forked from one zygote that this module starts, beside each assignment's reference solution
(the baseline); then each is checked: the grader did not fail, the score is the honest one, a
failed test says why, every test the baseline ran was graded, an attack with a `part` lost
points in that part only, and nothing outside the sandbox was touched or left running.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from grader.mutants import Mutant, build_mutant, load_mutants
from grader.results import GradeResult
from grader.runner.session import grade_in_subprocess
from grader.sandbox.host.launcher import zygote_env
from grader.sandbox.host.zygote import Zygote
from grader.spec import Project

HERE = Path(__file__).parent
REPO = HERE.parent.parent.resolve()
PROJECTS = {"toy": (REPO / "tests" / "fixtures" / "project"), "landmarks": REPO}
ATTACKS = [(name, m) for name in PROJECTS for m in load_mutants(HERE / name)]
BASELINE = "(reference)"


class Listener:
    """A TCP listener on the loopback that records whatever reaches it."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                with contextlib.suppress(OSError):
                    self.received.append(conn.recv(1024) or b"(connected)")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


@dataclass
class Arena:
    root: Path
    canary: Path
    listener: Listener
    mark: str
    zygote: Zygote


@dataclass
class Graded:
    result: GradeResult | None
    error: str | None
    folder: Path
    before: dict[str, bytes]
    seconds: float


def _comm_with(mark: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                comm = (entry / "comm").read_text().strip()
                state = next(
                    (ln for ln in (entry / "status").read_text().splitlines() if ln.startswith("State:")), ""
                )
                if mark in comm and "zombie" not in state:
                    found.append(f"{entry.name} {comm} {state}")
    return found


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Files by content and links by target, never following a link or opening a FIFO."""
    snap = {}
    for p in sorted(folder.rglob("*")):
        if p.is_symlink():
            snap[str(p.relative_to(folder))] = b"-> " + os.fsencode(os.readlink(p))
        elif p.is_file():
            snap[str(p.relative_to(folder))] = p.read_bytes()
    return snap


@pytest.fixture(scope="module")
def arena(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("adversarial")
    canary = root / "canary"
    canary.mkdir()
    (canary / "keep.txt").write_text("canary\n")
    listener = Listener()
    z = Zygote.start(zygote_env(), listen=True)
    assert z.address is not None
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("GRADER_ZYGOTE_SOCKET", z.address)
            yield Arena(root, canary, listener, secrets.token_hex(4), z)
    finally:
        z.close()
        listener.close()


@pytest.fixture(scope="module")
def graded(arena: Arena) -> dict[tuple[str, str], Graded]:
    """Every attack, and each assignment's reference as its baseline, keyed (assignment, name)."""
    specs = {name: Project(root).load(name) for name, root in PROJECTS.items()}

    def grade(job: tuple[str, Mutant | None]) -> tuple[tuple[str, str], Graded]:
        assignment, m = job
        spec = specs[assignment]
        if m is None:
            folder = spec.reference_dir
        else:
            folder = arena.root / assignment / m.name
            fill = {
                "@@PROJECT@@": str(PROJECTS[assignment]), "@@CANARY@@": str(arena.canary),
                "@@SUBMISSION@@": str(folder), "@@PORT@@": str(arena.listener.port), "@@MARK@@": arena.mark,
            }  # fmt: skip
            build_mutant(spec.reference_dir, m, folder, fill=fill)
            for path in folder.rglob("*.py"):
                if path.is_symlink() or not path.is_file():  # never write through a link
                    continue
                text = path.read_text()
                for key, value in fill.items():
                    text = text.replace(key, value)
                path.write_text(text)
        before = _snapshot(folder)
        t0 = time.monotonic()
        try:
            result, error = grade_in_subprocess(spec.spec_file, folder, timeout=600), None
        except Exception as exc:  # the grader failing is what the tests below report
            result, error = None, f"{type(exc).__name__}: {exc}"
        key = (assignment, BASELINE if m is None else m.name)
        return key, Graded(result, error, folder, before, time.monotonic() - t0)

    # The slow landmarks gradings first, so that the two workers finish together.
    jobs = [(a, None) for a in reversed(PROJECTS)] + sorted(ATTACKS, key=lambda j: j[0] != "landmarks")
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(grade, jobs))


def test_the_suite_covers_the_issue():
    names = {m.name for a, m in ATTACKS if a == "toy"}
    assert len(names) >= 24
    assert {
        "exit_at_import", "os_exit_in_function", "lying_objects", "patch_comparisons", "patch_builtins",
        "forge_results_file", "atexit_rewrite", "patch_pytest_modules", "read_hidden_tests",
        "read_reference", "read_assignment_yaml", "proc_grader_memory", "proc_environ_cmdline",
        "gc_scan", "network_connect", "infinite_loop", "long_sleep", "memory_bomb", "fork_bomb",
        "setsid_escapee", "stdout_flood", "huge_file", "recursion_bomb", "ctypes_segfault",
        "kill_parent", "delete_outside_workdir", "link_to_reference", "link_to_hidden_tests",
        "link_to_proc_environ", "link_to_dev_zero", "links_recurse", "fifo_in_submission",
        "fallocate_disk",
    } <= names  # fmt: skip
    assert {
        "read_heldout_labels", "forge_harness_reports", "predict_does_the_work",
        "train_epoch_background_thread", "train_epoch_hangs",
    } <= {m.name for a, m in ATTACKS if a == "landmarks"}  # fmt: skip
    for _, m in ATTACKS:
        assert "score" in m.expect and "message" in m.expect, m.name


@pytest.mark.parametrize("assignment", list(PROJECTS))
def test_the_baseline_gets_full_marks(graded: dict[tuple[str, str], Graded], assignment: str):
    g = graded[(assignment, BASELINE)]
    assert g.error is None and g.result is not None, g.error
    assert g.result.score == g.result.max_score, [(t.name, t.message) for t in g.result.tests if not t.passed]


@pytest.mark.parametrize(("assignment", "attack"), ATTACKS, ids=lambda x: x if isinstance(x, str) else x.name)
def test_attack_gets_its_honest_score_and_a_clear_message(
    graded: dict[tuple[str, str], Graded], assignment: str, attack: Mutant
):
    g = graded[(assignment, attack.name)]
    baseline = graded[(assignment, BASELINE)].result
    assert g.error is None, f"the grader failed: {g.error}"
    assert g.result is not None and baseline is not None
    assert g.result.errors == [], "the grader itself must not fail"
    failed = [(t.name, t.message) for t in g.result.tests if not t.passed]
    assert g.result.score == attack.expect["score"], failed
    assert sorted(t.name for t in g.result.tests) == sorted(t.name for t in baseline.tests), (
        "every test must still be graded"
    )
    if attack.expect["score"] < baseline.max_score:
        pattern = re.compile(attack.expect["message"])
        assert any(pattern.search(msg or "") for _, msg in failed), failed
    if attack.part is not None:
        lost = {p.name for p in g.result.parts if p.points < p.max_points}
        assert lost == {attack.part}, f"points lost in {sorted(lost)}, expected only in {attack.part}"
    assert _snapshot(g.folder) == g.before, "the submission's own folder was changed"


# Text that must never reach a student: the hidden tests, the reference, the grader's environment.
SECRETS = ("Hidden tests of the toy assignment", "# BEGIN SOLUTION", "GRADER_ZYGOTE_SOCKET=")


def test_no_secret_reaches_any_output(graded: dict[tuple[str, str], Graded]):
    for key, g in graded.items():
        for t in g.result.tests if g.result else []:
            shown = "\n".join(x or "" for x in (t.message, t.output, t.traceback, t.falsifying_example))
            assert not [s for s in SECRETS if s in shown], (key, t.name)


@pytest.mark.parametrize(
    ("assignment", "attack"), [(a, m) for a, m in ATTACKS if m.links or m.fifos], ids=lambda x: getattr(x, "name", x)
)
def test_links_and_fifos_are_left_out_and_reported(
    graded: dict[tuple[str, str], Graded], assignment: str, attack: Mutant
):
    g = graded[(assignment, attack.name)]
    assert g.result is not None
    skipped = {s["path"]: s["reason"] for s in g.result.metadata["intake"]["skipped"]}
    assert skipped == {
        **{path: "a symbolic link, not followed" for path in attack.links},
        **{path: "a FIFO (named pipe)" for path in attack.fifos},
    }


def test_sandbox_layers_are_recorded(graded: dict[tuple[str, str], Graded]):
    g = graded[("toy", "exit_at_import")]
    assert g.result is not None
    sandbox = g.result.metadata["sandbox"]
    assert "seccomp" in sandbox["active"] or "seccomp" in sandbox["inactive"]
    assert "zygote" in sandbox["active"], sandbox


def test_nothing_outside_the_sandbox_was_touched(arena: Arena, graded: dict[tuple[str, str], Graded]):
    assert (arena.canary / "keep.txt").read_text() == "canary\n"
    assert sorted(p.name for p in arena.canary.iterdir()) == ["keep.txt"]
    assert arena.listener.received == []


def test_no_process_of_any_submission_survives(arena: Arena, graded: dict[tuple[str, str], Graded]):
    deadline = time.monotonic() + 5
    while _comm_with(arena.mark) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _comm_with(arena.mark) == []


def test_the_shared_zygote_survived_every_attack(arena: Arena, graded: dict[tuple[str, str], Graded]):
    assert arena.zygote.alive
    info = arena.zygote.info()
    assert info["threads"] == 1 and not info["cuda_initialized"]


def test_a_flood_is_cut_with_a_note(graded: dict[tuple[str, str], Graded]):
    g = graded[("toy", "stdout_flood")]
    assert g.result is not None
    outputs = [t.output or "" for t in g.result.tests if not t.passed]
    assert any("output cut" in out for out in outputs), outputs
    assert all(len(out) <= 64 * 1024 for out in outputs)


def test_no_grading_takes_long(graded: dict[tuple[str, str], Graded]):
    slowest = max(graded.items(), key=lambda kv: kv[1].seconds)
    assert slowest[1].seconds < 180, (slowest[0], slowest[1].seconds)
