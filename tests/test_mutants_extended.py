"""The extended mutants (`tests/mutants/NAME/extended/`, graded by `grader verify --extended`,
not by CI's verify) stay valid: each loads, names a part of its assignment, and still applies
to the reference (its `old` text is found), so a reference edit that breaks one fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.mutants import build_mutant, check_part, load_mutants
from grader.spec import Project
from grader.verify import extended_mutants

ROOT = Path(__file__).resolve().parents[1]
PROJECT = Project.discover(ROOT)
CASES = [(spec.name, mutant) for spec in PROJECT.load_all() for mutant in extended_mutants(spec)]


def test_some_assignment_has_extended_mutants() -> None:
    assert CASES, "no extended mutants found: the parametrized test below would test nothing"


@pytest.mark.parametrize(("name", "mutant"), CASES, ids=[f"{n}-{m.name}" for n, m in CASES])
def test_an_extended_mutant_applies_to_the_reference(name: str, mutant, tmp_path: Path) -> None:
    spec = PROJECT.load(name)
    check_part(mutant, spec.part_names)
    core = {m.name for m in load_mutants(spec.mutants_dir)}
    assert mutant.name not in core, f"{mutant.name} is both a core and an extended mutant"
    out = build_mutant(spec.reference_dir, mutant, tmp_path / "m")
    changed = [
        p.relative_to(out)
        for p in out.rglob("*.py")
        if p.read_bytes() != (spec.reference_dir / p.relative_to(out)).read_bytes()
    ]
    assert changed, f"{mutant.name} changes nothing in the reference"
