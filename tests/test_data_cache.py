"""The cache of generated data sets: made once, atomically, readable by a sandbox's slot uid."""

from __future__ import annotations

import stat

import pytest

from grader import data as data_pkg
from grader.runner.data import generate_cached


def test_a_data_set_is_generated_once_and_open_to_other_users(tmp_path, monkeypatch):
    calls = []

    def fake(out, seed, *, size):
        calls.append((seed, size))
        (out / "landmarks.csv").write_text("filename\n")

    monkeypatch.setenv("GRADER_CACHE", str(tmp_path))
    monkeypatch.setitem(data_pkg.GENERATORS, "fake", fake)
    first = generate_cached("fake", 3)
    again = generate_cached("fake", 3)
    assert first == again == tmp_path / "data" / "fake-small-seed3"
    assert calls == [(3, "small")]
    assert stat.S_IMODE(first.stat().st_mode) & 0o005 == 0o005
    assert (first / "landmarks.csv").read_text() == "filename\n"
    assert [p.name for p in first.parent.iterdir()] == [first.name]  # no leftover temporary folder


def test_an_unknown_generator_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("GRADER_CACHE", str(tmp_path))
    with pytest.raises(KeyError, match="unknown data generator 'nope'"):
        generate_cached("nope", 0)
