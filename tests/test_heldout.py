"""The held-out data set: the partition that decides training thresholds is out of reach.

It is generated from a grading seed that students do not have (never the public `data.seed`),
so the public generator does not reproduce it; it lives in a 0700 cache folder outside the
sandboxed child's read allowlist, and the seed never reaches the child.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import secrets
import stat
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from grader.runner import data as rdata
from grader.runner.data import (
    GRADING_SEED_ENV,
    HeldOutError,
    generator_of,
    grading_seed,
    heldout_data_dir,
    resolve_data_dir,
    resolve_grading_seed,
)
from grader.runner.plugin import GradingPlugin
from grader.sandbox.child import landlock
from grader.sandbox.host.client import Submission
from grader.spec import Project

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def spec() -> Any:
    return Project(REPO).load("landmarks")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh GRADER_CACHE, with no grading seed in the environment."""
    root = tmp_path_factory.mktemp("grader-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRADER_CACHE", str(root))
        mp.delenv(GRADING_SEED_ENV, raising=False)
        yield root


def _rows(d: Path) -> list[dict[str, str]]:
    with open(d / "landmarks.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _val(d: Path) -> list[dict[str, str]]:
    return [r for r in _rows(d) if r["task"] == "target" and r["partition"] == "val"]


def _image_digests(d: Path, rows: list[dict[str, str]]) -> dict[str, str]:
    """sha256 of the decoded pixels → label."""
    out = {}
    for r in rows:
        with Image.open(d / "images" / r["filename"]) as im:
            out[hashlib.sha256(im.convert("RGB").tobytes()).hexdigest()] = r["numeric_label"]
    return out


# --------------------------------------------------------------------------- (a) a different set


def test_heldout_val_is_not_the_public_one_nor_what_the_public_generator_makes(
    spec: Any, cache: Path, tmp_path: Path
) -> None:
    public = resolve_data_dir(spec)
    assert public is not None
    held = heldout_data_dir(spec, public)
    assert held != public and not held.is_relative_to(public)
    assert resolve_grading_seed(spec)[1] == spec.root / "grading_seed"  # the committed file
    assert stat.S_IMODE(held.stat().st_mode) == 0o700
    assert stat.S_IMODE(held.parent.stat().st_mode) == 0o700
    assert str(grading_seed(spec)) not in str(held), "the folder's name must not show the seed"

    held_val = _image_digests(held, _val(held))
    assert len(held_val) == 60
    public_all = _image_digests(public, _rows(public))
    assert not set(held_val) & set(public_all), "held-out images appear in the public data set"

    # What a student can do: run the public generator with the public seed.
    regen = generator_of(spec)(tmp_path / "regen", spec.data.seed)
    regen_all = _image_digests(regen, _rows(regen))
    assert not set(held_val) & set(regen_all), "the public generator makes held-out images"
    by_name = {r["filename"]: r for r in _rows(regen)}
    same = sum(
        by_name[r["filename"]]["partition"] == "val"
        and by_name[r["filename"]]["task"] == "target"
        and by_name[r["filename"]]["numeric_label"] == r["numeric_label"]
        for r in _val(held)
    )
    assert same < 0.5 * len(held_val), f"{same} held-out val rows match the public generator's"
    assert [r["filename"] for r in _val(held)] != [r["filename"] for r in _val(regen)]


def test_real_data_is_its_own_heldout_set(spec: Any, cache: Path, tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    assert heldout_data_dir(spec, real) == real  # `--data DIR`: its val partition decides


def test_a_grading_seed_equal_to_the_public_seed_is_refused(
    spec: Any, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    public = resolve_data_dir(spec)
    assert public is not None
    monkeypatch.setenv(GRADING_SEED_ENV, str(spec.data.seed))
    with pytest.raises(HeldOutError, match="equals the public data.seed"):
        heldout_data_dir(spec, public)


def test_a_cache_the_child_may_read_is_refused(
    spec: Any, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    public = resolve_data_dir(spec)
    assert public is not None
    # A cache inside the data folder (which the child reads) would expose the held-out set.
    monkeypatch.setenv("GRADER_CACHE", str(public / "cache"))
    monkeypatch.setattr(rdata, "_uses_generated_data", lambda spec, data_dir: True)
    with pytest.raises(HeldOutError, match="which the sandboxed child may read"):
        heldout_data_dir(spec, public)
    assert not (public / "cache").exists(), "no seed or data may be made there"
    # Nor a seed file that the child may read.
    monkeypatch.setenv("GRADER_CACHE", str(cache))
    seed_file = public / "grading_seed"
    monkeypatch.setattr(rdata, "resolve_grading_seed", lambda spec: (123456789, seed_file))
    with pytest.raises(HeldOutError, match="grading seed file .* which the sandboxed child"):
        heldout_data_dir(spec, public)


# --------------------------------------------------------------------------- (c) the seed


def test_the_grading_seed_comes_from_env_then_file_then_machine_secret(
    spec: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRADER_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "assignment"
    folder.mkdir()
    data = dataclasses.replace(spec.data, seed=0, grading_seed_file=None)
    fake = dataclasses.replace(spec, root=folder, data=data)

    # 3. neither: this machine's secret, made once with mode 0600, the same on every call
    monkeypatch.delenv(GRADING_SEED_ENV, raising=False)
    seed, source = resolve_grading_seed(fake)
    secret = tmp_path / "cache" / "grading_seed"
    assert source == secret and secret.is_file()
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert seed > 2**32, "a random 63-bit seed"
    assert grading_seed(fake) == seed == grading_seed(fake)
    assert [p.name for p in secret.parent.iterdir()] == ["grading_seed"]  # no temporary left
    secret.chmod(0o644)
    with pytest.raises(HeldOutError, match="must be mode 0600"):
        grading_seed(fake)
    secret.chmod(0o600)

    # 2. the assignment's file (comments allowed) wins over the machine secret
    (folder / "grading_seed").write_text("# instructor material\n424242\n")
    assert resolve_grading_seed(fake) == (424242, folder / "grading_seed")
    named = tmp_path / "elsewhere" / "seed.txt"
    fake_named = dataclasses.replace(fake, data=dataclasses.replace(data, grading_seed_file=named))
    with pytest.raises(HeldOutError, match="does not exist"):
        grading_seed(fake_named)  # named but missing: an error, not a silent fallback
    named.parent.mkdir()
    named.write_text("77\n")
    assert resolve_grading_seed(fake_named) == (77, named)

    # 1. the environment wins over both
    monkeypatch.setenv(GRADING_SEED_ENV, "99")
    assert resolve_grading_seed(fake) == (99, None)
    assert grading_seed(fake_named) == 99
    for bad in ("-3", "twelve"):
        monkeypatch.setenv(GRADING_SEED_ENV, bad)
        with pytest.raises(HeldOutError) as info:
            grading_seed(fake)
        assert bad not in str(info.value), "an error must not show the seed"


def test_the_spec_reads_grading_seed_file(tmp_path: Path) -> None:
    from grader.spec import load_spec

    folder = tmp_path / "assignments" / "toy"
    folder.mkdir(parents=True)
    (folder / "assignment.yaml").write_text(
        textwrap.dedent(
            """\
            name: toy
            title: Toy
            version: "1"
            files: [toy.py]
            parts:
              - {name: basics, points: 2}
            data:
              grading_seed_file: secret/seed
            """
        )
    )
    assert load_spec(folder).data.grading_seed_file == folder.resolve() / "secret" / "seed"


# --------------------------------------------------------------------------- (b) out of reach

WALKER = '''
"""Read every file this process can (bounded) and say which needles any file holds."""

import os
import sys

SKIP = ("/proc", "/sys", "/dev")
MAX_FILES = 500_000
MAX_FILE_BYTES = 1 << 20  # larger files are skipped (a labels file is small)
READ_BYTES = 1 << 16


def _roots(known):
    """Where to start: the paths it was handed, "/", every path the environment, sys.path and
    the mounts name, common folders, and all their ancestors (under Landlock, "/" itself
    cannot be listed)."""
    roots = [*known, "/", "/tmp", "/var/tmp", "/root", "/home", "/srv", "/opt", "/mnt", "/work",
             "/var", "/etc", os.getcwd(), os.path.expanduser("~")]
    for value in os.environ.values():
        roots += [p for p in value.split(os.pathsep) if p.startswith("/")]
    roots += [p for p in sys.path if p.startswith("/")]
    try:
        with open("/proc/self/mountinfo") as f:
            roots += [line.split()[4] for line in f if len(line.split()) > 4]
    except OSError:
        pass
    out = []
    for root in roots:
        p = os.path.abspath(root)
        while True:
            out.append(p)
            if p == "/":
                break
            p = os.path.dirname(p)
    return list(dict.fromkeys(out))


def scan(needles, known=()):
    needles = [n.encode() for n in needles]
    found = {}
    seen = set()
    stats = {"files": 0, "dirs": 0, "bytes": 0}

    def check(path, data):
        for i, n in enumerate(needles):
            if n in data and i not in found:
                found[i] = path

    for name in ("/proc/self/environ", "/proc/self/cmdline", "/proc/1/environ", "/proc/1/cmdline"):
        try:
            with open(name, "rb") as f:
                check(name, f.read())
        except OSError:
            pass
    for root in _roots(known):
        if root.startswith(SKIP) or stats["files"] >= MAX_FILES:
            continue
        try:
            st = os.stat(root)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in seen:
            continue
        for dirpath, dirnames, filenames in os.walk(root, onerror=lambda e: None):
            try:
                st = os.stat(dirpath)
            except OSError:
                dirnames[:] = []
                continue
            if (st.st_dev, st.st_ino) in seen:
                dirnames[:] = []
                continue
            seen.add((st.st_dev, st.st_ino))
            stats["dirs"] += 1
            check(dirpath, "\\n".join(dirnames + filenames).encode())
            dirnames[:] = [d for d in dirnames if not os.path.join(dirpath, d).startswith(SKIP)]
            for fn in filenames:
                path = os.path.join(dirpath, fn)
                try:
                    st = os.lstat(path)
                    if (st.st_mode & 0o170000) != 0o100000 or st.st_size > MAX_FILE_BYTES:
                        continue
                    with open(path, "rb") as f:
                        data = f.read(READ_BYTES)
                except OSError:
                    continue
                stats["files"] += 1
                stats["bytes"] += len(data)
                check(path, data)
                if stats["files"] >= MAX_FILES:
                    break
            if stats["files"] >= MAX_FILES:
                break
    return {"found": {str(i): p for i, p in found.items()}, "env": dict(os.environ), **stats}
'''


def _chunk(d: Path, first: int, n: int = 3) -> str:
    """`n` consecutive lines of `d`'s landmarks.csv, from data line `first`: a unique needle."""
    lines = (d / "landmarks.csv").read_text(encoding="utf-8").splitlines()
    return "\n".join(lines[1 + first : 1 + first + n])


@pytest.mark.skipif(
    landlock.unavailable_reason() is not None, reason=str(landlock.unavailable_reason())
)
def test_a_child_reading_every_file_it_can_finds_no_heldout_label(
    spec: Any, cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real sandbox, with the data folder as the plugin gives it, walks all it can read.

    The mount namespace is switched off, so that Landlock alone must keep the held-out set out
    of reach (the default cache, ~/.cache/grader, lies under no folder that a mount hides).
    """
    seed = secrets.randbits(63)
    monkeypatch.setenv(GRADING_SEED_ENV, str(seed))  # in the grading process's environment
    monkeypatch.setenv("GRADER_SANDBOX_DISABLE", "mount namespace")
    public = resolve_data_dir(spec)
    assert public is not None
    held = heldout_data_dir(spec, public)
    held_rows = {tuple(r.values()) for r in _val(held)}
    assert held_rows - {tuple(r.values()) for r in _rows(public)}, "no held-out row is new"
    needles = {
        "public csv": _chunk(public, 0),
        "held-out csv (head)": _chunk(held, 0),
        "held-out csv (tail)": _chunk(held, len(_rows(held)) - 3),
        "held-out folder name": held.name,
        "grading seed": str(seed),
    }
    sub = tmp_path / "submission"
    sub.mkdir()
    (sub / "walker.py").write_text(WALKER)
    plugin = GradingPlugin(spec=spec, submission_dir=sub, data_dir=public)
    sb = plugin.student_sandbox()  # the plugin's own sandbox: env, limits, data folder
    sb.call_seconds = 300.0
    try:
        # The data folder's path, as a test hands it to student code that loads data.
        got = Submission(sb).walker.scan(list(needles.values()), [str(public)])
        layers = {layer.name: layer.active for layer in sb.layers}
    finally:
        plugin.close()
    assert layers.get("landlock"), layers
    found = {name: got["found"].get(str(i)) for i, name in enumerate(needles)}
    print(f"walked {got['dirs']} folders, read {got['files']} files ({got['bytes']} bytes)")
    assert found["public csv"] == str(public / "landmarks.csv"), "the walk must find public data"
    leaked = {k: v for k, v in found.items() if v is not None and k != "public csv"}
    assert leaked == {}, f"the child reached held-out data: {leaked}"
    assert "GRADER_DATA" not in got["env"]  # the data folder is a parameter of the sandbox
    assert GRADING_SEED_ENV not in got["env"]
    assert not any(str(seed) in v for v in got["env"].values())
    assert got["files"] > 1000, "the walk read too little to mean anything"
