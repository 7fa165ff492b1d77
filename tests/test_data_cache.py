"""The cache of generated data sets: made once, atomically, readable by a sandbox's slot uid."""

from __future__ import annotations

import stat
from pathlib import Path
from types import SimpleNamespace

import pytest

from grader.runner.data import cached_path, generate_cached, generator_key

GENERATOR = '''
from pathlib import Path

def generate(out, seed, *, size="small"):
    calls = Path(__file__).with_name("calls.txt")
    calls.write_text(calls.read_text() + f"{seed},{size}\\n" if calls.exists() else f"{seed},{size}\\n")
    (Path(out) / "landmarks.csv").write_text("filename\\n")
    return out
'''


def _spec(root: Path, generator: str | None = "data:generate") -> SimpleNamespace:
    data = SimpleNamespace(generator=generator, seed=3, path=None, grading_seed_file=None)
    return SimpleNamespace(name="cachetest", root=root, data=data)


def test_a_data_set_is_generated_once_and_open_to_other_users(tmp_path, monkeypatch):
    root = tmp_path / "assignment"
    root.mkdir()
    (root / "data.py").write_text(GENERATOR)
    monkeypatch.setenv("GRADER_CACHE", str(tmp_path / "cache"))
    spec = _spec(root)
    first = generate_cached(spec)
    again = generate_cached(spec, 3)
    assert first == again == cached_path(spec, 3)
    assert first.parent == tmp_path / "cache" / "data" and first.name.startswith("cachetest-")
    assert (root / "calls.txt").read_text() == "3,small\n"  # generated once
    assert stat.S_IMODE(first.stat().st_mode) & 0o005 == 0o005
    assert (first / "landmarks.csv").read_text() == "filename\n"
    assert [p.name for p in first.parent.iterdir()] == [first.name]  # no leftover temporary folder


def test_a_changed_generator_file_makes_a_new_data_set(tmp_path, monkeypatch):
    root = tmp_path / "assignment"
    root.mkdir()
    (root / "data.py").write_text(GENERATOR)
    spec = _spec(root)
    before = generator_key(spec)
    (root / "data.py").write_text(GENERATOR + "\n# a new version\n")
    assert generator_key(spec) != before


def test_an_assignment_without_a_generator_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("GRADER_CACHE", str(tmp_path))
    with pytest.raises(KeyError, match="cachetest has no data generator"):
        generate_cached(_spec(tmp_path, generator=None))
