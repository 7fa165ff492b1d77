"""Tests of grader.spec: the assignment.yaml schema, its errors and project discovery."""

from __future__ import annotations

import pickle
import re
import string
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.spec import (
    AssignmentSpec,
    DataSettings,
    DeviceConfig,
    Limits,
    Part,
    Project,
    SpecError,
    TrainingSettings,
    load_spec,
)

FIXTURE_PROJECT = Path(__file__).parent / "fixtures" / "project"

FULL = """\
name: toy
title: "Toy: a test assignment"
version: "2.1"
files: [dataset.py, model/__init__.py, model/target.py, notes.txt]
# a comment line: allowed anywhere (it keeps the line numbers below as they were)
parts:
  - name: standardization
    points: 10
    description: ImageStandardizer fit/transform
  - name: architecture
    points: 20.5
    description: Target and Source networks
tests:
  public: checks/open
  hidden: checks/secret
limits:
  call_seconds: 5
  test_seconds: 30.5
  submission_seconds: 600
hypothesis:
  max_examples: 12
training:
  budget_ratio: 2.5
  cap_seconds: 90
  thresholds: {val_auroc: 0.75, val_acc: 1}
  cpu: {max_epochs: 5, batch_size: 32}
  cuda: {max_epochs: 20, batch_size: 64, amp: true}
data:
  generator: data:generate
  seed: 7
  path: ../../data/landmarks
"""

MINIMAL = """\
name: toy
title: Toy
version: "1.0"
files: [toy.py, pkg/__init__.py, pkg/sub/mod.py, README.md]
parts:
  - name: basics
    points: 2
"""


def write(root: Path, text: str, name: str = "toy") -> Path:
    """Write `text` as `root/assignments/<name>/assignment.yaml`; return the file."""
    folder = root / "assignments" / name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "assignment.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    (folder / "data.py").write_text("def generate(out, seed, *, size='small'):\n    return out\n")
    return path


def spec_error(root: Path, text: str) -> SpecError:
    """The SpecError that loading `text` raises."""
    path = write(root, text)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    return info.value


def replace_line(text: str, old: str, new: str) -> str:
    """`text` with the one line equal to `old` replaced by `new` (may be several lines)."""
    lines = text.splitlines()
    assert lines.count(old) == 1, old
    lines[lines.index(old)] = new
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------
# Valid files
# ----------------------------------------------------------------------------------------------


def test_full_file_loads_every_field(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    spec = load_spec(path)
    folder = tmp_path / "assignments" / "toy"
    assert isinstance(spec, AssignmentSpec)
    assert spec.name == "toy"
    assert spec.title == "Toy: a test assignment"
    assert spec.version == "2.1"
    assert spec.root == folder.resolve()
    assert spec.spec_file == path.resolve()
    assert spec.files == ("dataset.py", "model/__init__.py", "model/target.py", "notes.txt")
    assert spec.parts == (
        Part("standardization", 10.0, "ImageStandardizer fit/transform"),
        Part("architecture", 20.5, "Target and Source networks"),
    )
    assert spec.part_names == ("standardization", "architecture")
    assert spec.max_score == 30.5
    assert spec.part("architecture").points == 20.5
    assert spec.public_tests == folder.resolve() / "checks" / "open"
    assert spec.hidden_tests == folder.resolve() / "checks" / "secret"
    assert spec.limits == Limits(call_seconds=5.0, test_seconds=30.5, submission_seconds=600.0)
    assert spec.hypothesis_max_examples == 12
    assert spec.training == TrainingSettings(
        budget_ratio=2.5,
        cap_seconds=90.0,
        thresholds={"val_auroc": 0.75, "val_acc": 1.0},
        cpu=DeviceConfig(max_epochs=5, batch_size=32),
        cuda=DeviceConfig(max_epochs=20, batch_size=64, options={"amp": True}),
    )
    assert spec.data.generator == "data:generate"
    assert spec.data.seed == 7
    assert spec.data.path == folder.resolve() / "../../data/landmarks"
    root = tmp_path.resolve()
    assert spec.reference_dir == root / "reference" / "toy"
    assert spec.template_dir == root / "student_template" / "toy"
    assert spec.mutants_dir == root / "tests" / "mutants" / "toy"
    assert isinstance(spec.limits.call_seconds, float)
    assert isinstance(spec.parts[0].points, float)


def test_minimal_file_gets_the_defaults(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, MINIMAL).parent)  # the folder works as well as the file
    folder = (tmp_path / "assignments" / "toy").resolve()
    assert spec.public_tests == folder / "tests" / "public"
    assert spec.hidden_tests == folder / "tests" / "hidden"
    assert spec.limits == Limits() == Limits(10.0, 60.0, 900.0, 4096.0)
    assert spec.hypothesis_max_examples == 30
    assert spec.training == TrainingSettings(3.0, 120.0, {}, DeviceConfig(), None)
    assert spec.data == DataSettings(generator=None, seed=0, path=None)
    assert spec.parts == (Part("basics", 2.0, ""),)
    assert spec.max_score == 2.0


def test_imports_default_to_torch_and_are_read_as_given(tmp_path: Path) -> None:
    assert load_spec(write(tmp_path, MINIMAL)).imports == ("numpy", "torch", "torchvision")
    given = load_spec(write(tmp_path, MINIMAL + "imports: [numpy, scipy.stats, sklearn]\n"))
    assert given.imports == ("numpy", "scipy.stats", "sklearn")
    assert load_spec(write(tmp_path, MINIMAL + "imports: []\n")).imports == ()
    assert load_spec(write(tmp_path, MINIMAL + "imports:\n")).imports == ("numpy", "torch", "torchvision")


@pytest.mark.parametrize(
    ("line", "piece"),
    [
        ("imports: numpy", "expected a list of module names like [numpy, scipy.stats], got 'numpy'"),
        ("imports: [numpy, numpy]", "duplicate module 'numpy'"),
        ("imports: [scikit-learn]", "expected a module name like numpy or scipy.stats, got 'scikit-learn'"),
        ("imports: [torch, 3]", "got 3"),
        ("imports: [{torch: 1}]", "expected a module name"),
    ],
)
def test_bad_imports_are_refused_with_the_key(tmp_path: Path, line: str, piece: str) -> None:
    err = spec_error(tmp_path, MINIMAL + line + "\n")
    assert err.key is not None and err.key.startswith("imports"), str(err)
    assert err.line == 8
    assert piece in str(err)


def test_memory_limit_is_read_and_checked(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, MINIMAL + "limits:\n  memory_mb: 1536\n"))
    assert spec.limits.memory_mb == 1536.0
    with pytest.raises(SpecError, match="limits.memory_mb"):
        load_spec(write(tmp_path, MINIMAL + "limits:\n  memory_mb: -5\n"))


def test_return_limit_is_read_and_checked(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, MINIMAL + "limits:\n  return_mb: 16\n"))
    assert spec.limits.return_mb == 16.0
    assert Limits().return_mb == 64.0
    with pytest.raises(SpecError, match="limits.return_mb"):
        load_spec(write(tmp_path, MINIMAL + "limits:\n  return_mb: 0\n"))


def test_empty_optional_sections_mean_defaults(tmp_path: Path) -> None:
    text = MINIMAL + "tests:\nlimits:\nhypothesis:\ntraining:\n  cpu:\ndata:\n"
    spec = load_spec(write(tmp_path, text))
    assert spec.limits == Limits()
    assert spec.training == TrainingSettings()


@pytest.mark.parametrize(
    ("given", "expected"), [("1.0", "1.0"), ("1.10", "1.10"), ("2", "2"), ("'3.0b1'", "3.0b1")]
)
def test_version_as_a_number_becomes_its_text(tmp_path: Path, given: str, expected: str) -> None:
    text = replace_line(MINIMAL, 'version: "1.0"', f"version: {given}")
    assert load_spec(write(tmp_path, text)).version == expected


def test_part_lookup_raises_key_error(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, FULL))
    with pytest.raises(KeyError, match="nope"):
        spec.part("nope")


def test_project_root_override_and_absolute_data_path(tmp_path: Path) -> None:
    data = (tmp_path / "real").resolve()
    text = MINIMAL + f"data:\n  path: {data}\n"
    other = tmp_path / "elsewhere"
    spec = load_spec(write(tmp_path, text), project_root=other)
    assert spec.reference_dir == other.resolve() / "reference" / "toy"
    assert spec.data.path == data


def test_yaml_merge_keys_are_understood(tmp_path: Path) -> None:
    text = (
        MINIMAL + "training:\n  cpu: &base {max_epochs: 5, lr: 0.1}\n  cuda: {<<: *base, max_epochs: 9}\n"
    )
    spec = load_spec(write(tmp_path, text))
    assert spec.training.cuda == DeviceConfig(max_epochs=9, options={"lr": 0.1})
    assert spec.training.cpu == DeviceConfig(max_epochs=5, options={"lr": 0.1})


def test_device_settings_have_one_set_of_defaults(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, MINIMAL + "training:\n  cpu: {batch_size: 8}\n"))
    assert spec.training.device_config("cpu") == DeviceConfig(batch_size=8)
    assert spec.training.device_config("cuda:0") == spec.training.cpu  # no cuda section: the CPU's
    assert DeviceConfig().max_epochs == 40 and DeviceConfig().epoch_seconds == 20.0


def test_a_device_setting_of_the_wrong_type_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="training.cuda.max_epochs"):
        load_spec(write(tmp_path, MINIMAL + "training:\n  cuda: {max_epochs: 2.5}\n"))


def test_specs_with_dict_fields_still_hash(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, FULL))
    assert hash(spec) == hash(load_spec(write(tmp_path, FULL)))


def test_fixture_project_loads() -> None:
    project = Project(FIXTURE_PROJECT)
    assert "toy" in project.assignment_names()
    spec = project.load("toy")
    assert spec.name == "toy" and spec.parts and spec.max_score > 0
    assert spec.reference_dir == FIXTURE_PROJECT / "reference" / "toy"


# ----------------------------------------------------------------------------------------------
# Errors: key, line and a one-line message
# ----------------------------------------------------------------------------------------------

BAD_POINTS = replace_line(FULL, "    points: 20.5", "    points: ten")

ERROR_CASES: list[tuple[str, str, str | None, int | None, str]] = [
    # (id, yaml text, key, line, a piece of the message)
    ("points-str", BAD_POINTS, "parts[1].points", 11, "expected a positive number, got 'ten'"),
    (
        "points-bool",
        replace_line(FULL, "    points: 20.5", "    points: yes"),
        "parts[1].points",
        11,
        "got true",
    ),
    (
        "points-zero",
        replace_line(FULL, "    points: 10", "    points: 0"),
        "parts[0].points",
        8,
        "got 0",
    ),
    (
        "points-negative",
        replace_line(FULL, "    points: 10", "    points: -3"),
        "parts[0].points",
        8,
        "got -3",
    ),
    (
        "points-nan",
        replace_line(FULL, "    points: 10", "    points: .nan"),
        "parts[0].points",
        8,
        "got .nan",
    ),
    (
        "points-list",
        replace_line(FULL, "    points: 10", "    points:\n      - 1"),
        "parts[0].points",
        9,
        "got a list",
    ),
    (
        "unknown-top",
        replace_line(FULL, "parts:", "partz:"),
        "partz",
        6,
        "unknown key 'partz' (did you mean 'parts'?); expected one of: name, title",
    ),
    (
        "unknown-nested",
        replace_line(FULL, "  call_seconds: 5", "  call_secs: 5"),
        "limits.call_secs",
        17,
        "did you mean 'call_seconds'?",
    ),
    (
        "unknown-part-key",
        replace_line(FULL, "    points: 20.5", "    pointz: 20.5"),
        "parts[1].pointz",
        11,
        "unknown key 'pointz'",
    ),
    (
        "missing-top",
        "# comment\n" + replace_line(FULL, 'title: "Toy: a test assignment"', ""),
        "title",
        2,
        "missing required key 'title'",
    ),
    (
        "missing-part-points",
        replace_line(FULL, "    points: 20.5", ""),
        "parts[1].points",
        10,
        "missing required key 'points' in parts[1]",
    ),
    (
        "duplicate-part",
        replace_line(FULL, "  - name: architecture", "  - name: standardization"),
        "parts[1].name",
        10,
        "duplicate part name 'standardization' (also parts[0])",
    ),
    (
        "empty-parts",
        replace_line(MINIMAL, "parts:", "parts: []").replace(
            "  - name: basics\n    points: 2\n", ""
        ),
        "parts",
        5,
        "got an empty list",
    ),
    (
        "parts-mapping",
        replace_line(MINIMAL, "parts:", "parts: {basics: 2}").replace(
            "  - name: basics\n    points: 2\n", ""
        ),
        "parts",
        5,
        "got a mapping",
    ),
    (
        "part-not-mapping",
        MINIMAL + "  - just a string\n",
        "parts[1]",
        8,
        "expected a part: a mapping with name, points and description, got 'just a string'",
    ),
    ("name-mismatch", replace_line(FULL, "name: toy", "name: other"), "name", 1, "'toy'"),
    ("name-not-slug", replace_line(FULL, "name: toy", "name: Toy"), "name", 1, "[a-z][a-z0-9_]*"),
    ("name-number", replace_line(FULL, "name: toy", "name: 12"), "name", 1, "got 12"),
    (
        "title-empty",
        replace_line(FULL, 'title: "Toy: a test assignment"', 'title: ""'),
        "title",
        2,
        "got ''",
    ),
    (
        "version-list",
        replace_line(FULL, 'version: "2.1"', "version: [2, 1]"),
        "version",
        3,
        "got a list",
    ),
    (
        "version-bool",
        replace_line(FULL, 'version: "2.1"', "version: true"),
        "version",
        3,
        "got true",
    ),
    (
        "files-parent",
        replace_line(
            FULL,
            "files: [dataset.py, model/__init__.py, model/target.py, notes.txt]",
            "files: [a.py, ../b.py]",
        ),
        "files[1]",
        4,
        "expected a relative file path inside the submission, got '../b.py'",
    ),
    (
        "files-absolute",
        replace_line(
            FULL,
            "files: [dataset.py, model/__init__.py, model/target.py, notes.txt]",
            "files:\n  - a.py\n  - /etc/passwd",
        ),
        "files[1]",
        6,
        "'/etc/passwd'",
    ),
    (
        "files-empty",
        replace_line(
            FULL, "files: [dataset.py, model/__init__.py, model/target.py, notes.txt]", "files: []"
        ),
        "files",
        4,
        "got an empty list",
    ),
    (
        "files-duplicate",
        replace_line(
            FULL,
            "files: [dataset.py, model/__init__.py, model/target.py, notes.txt]",
            "files: [a.py, ./a.py]",
        ),
        "files[1]",
        4,
        "duplicate file 'a.py'",
    ),
    (
        "files-string",
        replace_line(
            FULL,
            "files: [dataset.py, model/__init__.py, model/target.py, notes.txt]",
            "files: a.py",
        ),
        "files",
        4,
        "got 'a.py'",
    ),
    (
        "modules-no-longer-a-key",
        replace_line(FULL, "# a comment line: allowed anywhere (it keeps the line numbers below as they were)", "modules: [dataset, model.target]"),
        "modules",
        5,
        "unknown key 'modules'",
    ),
    (
        "tests-number",
        replace_line(FULL, "  hidden: checks/secret", "  hidden: 3"),
        "tests.hidden",
        15,
        "expected a non-empty string, got 3",
    ),
    (
        "limit-string",
        replace_line(FULL, "  test_seconds: 30.5", '  test_seconds: "60s"'),
        "limits.test_seconds",
        18,
        "expected a positive number, got '60s'",
    ),
    (
        "limits-not-mapping",
        replace_line(FULL, "limits:", "limits: 5").replace(
            "  call_seconds: 5\n  test_seconds: 30.5\n  submission_seconds: 600\n", ""
        ),
        "limits",
        16,
        "expected a mapping, got 5",
    ),
    (
        "max-examples-float",
        replace_line(FULL, "  max_examples: 12", "  max_examples: 2.5"),
        "hypothesis.max_examples",
        21,
        "expected a positive integer, got 2.5",
    ),
    (
        "threshold-string",
        replace_line(
            FULL,
            "  thresholds: {val_auroc: 0.75, val_acc: 1}",
            "  thresholds:\n    val_auroc: high",
        ),
        "training.thresholds.val_auroc",
        26,
        "expected a number, got 'high'",
    ),
    (
        "cpu-list",
        replace_line(FULL, "  cpu: {max_epochs: 5, batch_size: 32}", "  cpu: [5, 32]"),
        "training.cpu",
        26,
        "expected a mapping of config values, got a list",
    ),
    (
        "budget-negative",
        replace_line(FULL, "  budget_ratio: 2.5", "  budget_ratio: -1"),
        "training.budget_ratio",
        23,
        "got -1",
    ),
    (
        "seed-negative",
        replace_line(FULL, "  seed: 7", "  seed: -1"),
        "data.seed",
        30,
        "expected a non-negative integer, got -1",
    ),
    (
        "generator-number",
        replace_line(FULL, "  generator: data:generate", "  generator: 5"),
        "data.generator",
        29,
        "expected a non-empty string or null, got 5",
    ),
    (
        "duplicate-key",
        FULL + "title: again\n",
        "title",
        32,
        "duplicate key 'title' (first given on line 2)",
    ),
    (
        "non-string-key",
        replace_line(FULL, "  seed: 7", "  3: 7"),
        "data",
        30,
        "expected a string key, got 3",
    ),
    (
        "unsafe-tag",
        replace_line(FULL, "    points: 10", "    points: !!python/object/apply:os.system [echo]"),
        "parts[0].points",
        8,
        "unsupported tag '!!python/object/apply:os.system'",
    ),
    ("syntax-tab", replace_line(FULL, "  seed: 7", "\tseed: 7"), None, 30, "YAML syntax error"),
    (
        "syntax-bracket",
        replace_line(FULL, "# a comment line: allowed anywhere (it keeps the line numbers below as they were)", "extra: [dataset"),
        None,
        6,
        "YAML syntax error",
    ),
    ("undefined-alias", FULL.replace("  seed: 7", "  seed: *nope"), None, 30, "undefined alias"),
    (
        "top-list",
        "- name: toy\n- title: x\n",
        None,
        1,
        "expected a mapping (key: value lines) at the top level, got a list",
    ),
    ("top-scalar", "just text\n", None, 1, "got 'just text'"),
    ("empty-file", "# nothing here\n", None, 1, "got an empty file"),
]


@pytest.mark.parametrize(
    ("text", "key", "line", "piece"),
    [case[1:] for case in ERROR_CASES],
    ids=[case[0] for case in ERROR_CASES],
)
def test_errors_name_key_and_line(
    tmp_path: Path, text: str, key: str | None, line: int | None, piece: str
) -> None:
    err = spec_error(tmp_path, text)
    assert (err.key, err.line) == (key, line), str(err)
    message = str(err)
    assert "\n" not in message
    assert piece in message
    assert err.file == (tmp_path / "assignments" / "toy" / "assignment.yaml").resolve()
    prefix = f"{err.file}:{line}: " + (f"{key}: " if key else "")
    assert message.startswith(prefix), message


def test_error_message_shape_matches_the_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    err = spec_error(tmp_path, BAD_POINTS)
    assert str(err) == (
        "assignments/toy/assignment.yaml:11: parts[1].points: expected a positive number, got 'ten'"
    )
    assert err.expected == "a positive number"
    assert err.got == "'ten'"


def test_spec_error_leaves_out_missing_pieces() -> None:
    assert str(SpecError(expected="a number", got="'x'")) == "expected a number, got 'x'"
    assert str(SpecError(key="a.b", expected="a number")) == "a.b: expected a number"
    assert str(SpecError("free text", file=Path("f.yaml"))) == "f.yaml: free text"
    err = SpecError("two\nlines", file=Path("f.yaml"), line=3, key="k")
    assert str(err) == "f.yaml:3: k: two lines"
    assert err.expected == "two\nlines" and err.got is None
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) and again.line == 3 and again.key == "k"


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="file not found") as info:
        load_spec(tmp_path / "nope.yaml")
    assert info.value.file == (tmp_path / "nope.yaml").resolve()
    with pytest.raises(SpecError, match="assignment folder with an assignment.yaml"):
        load_spec(tmp_path)


def test_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    path.write_bytes(b"name: toy\ntitle: \xff\xfe\n")
    with pytest.raises(SpecError, match="not UTF-8 text") as info:
        load_spec(path)
    assert "\n" not in str(info.value)


def test_deep_nesting_is_a_spec_error(tmp_path: Path) -> None:
    text = MINIMAL + "training:\n  cpu: {deep: " + "[" * 3000 + "]" * 3000 + "}\n"
    with pytest.raises(SpecError):
        load_spec(write(tmp_path, text))


# ----------------------------------------------------------------------------------------------
# Projects
# ----------------------------------------------------------------------------------------------


def make_project(root: Path, names: list[str]) -> Project:
    for name in names:
        write(root, MINIMAL.replace("name: toy", f"name: {name}"), name=name)
    return Project(root)


def test_discover_from_a_nested_subfolder(tmp_path: Path) -> None:
    make_project(tmp_path, ["toy"])
    nested = tmp_path / "assignments" / "toy" / "tests" / "public" / "deeper"
    nested.mkdir(parents=True)
    project = Project.discover(nested)
    assert project.root == tmp_path.resolve()
    assert project.assignments_dir == tmp_path.resolve() / "assignments"


def test_discover_defaults_to_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_project(tmp_path, ["toy"])
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    assert Project.discover().root == tmp_path.resolve()


def test_discover_failure(tmp_path: Path) -> None:
    start = tmp_path / "empty"
    start.mkdir()
    (tmp_path / "assignments").write_text("a file, not a folder")
    with pytest.raises(SpecError) as info:
        Project.discover(start)
    message = str(info.value)
    if Path("/assignments").is_dir():  # pragma: no cover - a machine with /assignments
        pytest.skip("this machine has /assignments")
    assert message == f"no project found: no 'assignments/' folder in {start} or above; pass --root"


def test_load_all_is_sorted_and_skips_folders_without_a_spec(tmp_path: Path) -> None:
    project = make_project(tmp_path, ["zeta", "alpha", "mid"])
    (project.assignments_dir / "notes").mkdir()
    (project.assignments_dir / "stray.yaml").write_text("x: 1")
    assert project.assignment_names() == ["alpha", "mid", "zeta"]
    assert [s.name for s in project.load_all()] == ["alpha", "mid", "zeta"]
    assert project.load("mid").reference_dir == tmp_path / "reference" / "mid"


def test_load_unknown_assignment(tmp_path: Path) -> None:
    project = make_project(tmp_path, ["beta", "alpha"])
    with pytest.raises(SpecError, match=r"no assignment named 'gamma'.*; known: alpha, beta$"):
        project.load("gamma")
    with pytest.raises(SpecError, match="known: alpha, beta"):
        project.load("../assignments/alpha")
    assert Project(tmp_path / "nowhere").assignment_names() == []


def test_load_all_reports_the_broken_assignment(tmp_path: Path) -> None:
    project = make_project(tmp_path, ["alpha"])
    write(tmp_path, BAD_POINTS.replace("name: toy", "name: broken"), name="broken")
    with pytest.raises(SpecError) as info:
        project.load_all()
    assert info.value.key == "parts[1].points"
    assert info.value.file is not None and info.value.file.parent.name == "broken"


# ----------------------------------------------------------------------------------------------
# Properties
# ----------------------------------------------------------------------------------------------

part_names = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)
points = st.one_of(
    st.integers(min_value=1, max_value=10**6),
    st.floats(min_value=1e-6, max_value=1e6, allow_nan=False, allow_infinity=False),
)
descriptions = st.text(alphabet=string.ascii_letters + string.digits + " .,:-'\"#", max_size=30)


@settings(derandomize=True, database=None, deadline=None, max_examples=60)
@given(
    st.lists(
        st.tuples(part_names, points, descriptions),
        min_size=1,
        max_size=8,
        unique_by=lambda t: t[0],
    )
)
def test_random_valid_parts_round_trip(parts: list[tuple[str, float, str]]) -> None:
    doc: dict[str, Any] = {
        "name": "toy",
        "title": "Toy",
        "version": "1.0",
        "files": ["toy.py"],
        "parts": [{"name": n, "points": p, "description": d} for n, p, d in parts],
    }
    with tempfile.TemporaryDirectory() as tmp:
        spec = load_spec(write(Path(tmp), yaml.safe_dump(doc, sort_keys=False)))
    assert spec.part_names == tuple(n for n, _, _ in parts)
    assert [p.points for p in spec.parts] == [float(p) for _, p, _ in parts]
    assert [p.description for p in spec.parts] == [d for _, _, d in parts]
    assert spec.max_score == sum(float(p) for _, p, _ in parts)
    for name, p, _ in parts:
        assert spec.part(name).points == float(p)


def base_doc() -> dict[str, Any]:
    return yaml.safe_load(FULL.replace("  path: ../../data/landmarks\n", ""))


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and abs(v) < 1e308 and v == v


def _nonblank(v: Any) -> bool:
    return isinstance(v, str) and bool(v.strip())


def _list_of(v: Any, kind: type) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, kind) for x in v)


# key path -> "this value is certainly accepted" (garbage is drawn from the rest)
ACCEPTED: dict[str, Any] = {
    "name": lambda v: v == "toy",
    "title": _nonblank,
    "version": lambda v: _nonblank(v) or _is_num(v),
    "files": lambda v: _list_of(v, str),
    "parts": lambda v: _list_of(v, dict),
    "parts[1].name": lambda v: isinstance(v, str),
    "parts[1].points": lambda v: _is_num(v) and v > 0,
    "parts[1].description": lambda v: isinstance(v, str),
    "tests": lambda v: v is None or isinstance(v, dict),
    "tests.public": _nonblank,
    "limits": lambda v: v is None or isinstance(v, dict),
    "limits.call_seconds": lambda v: _is_num(v) and v > 0,
    "limits.submission_seconds": lambda v: _is_num(v) and v > 0,
    "hypothesis.max_examples": lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0,
    "training": lambda v: v is None or isinstance(v, dict),
    "training.cap_seconds": lambda v: _is_num(v) and v > 0,
    "training.thresholds": lambda v: v is None or isinstance(v, dict),
    "training.thresholds.val_auroc": _is_num,
    "training.cuda": lambda v: v is None or isinstance(v, dict),
    "data.generator": lambda v: v is None or isinstance(v, str),
    "data.seed": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
    "data.path": lambda v: v is None or isinstance(v, str),
    "imports": lambda v: v is None or (
        isinstance(v, list)
        and all(isinstance(x, str) and re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", x, re.ASCII) for x in v)
        and len(set(v)) == len(v)
    ),
}

yaml_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(alphabet=string.ascii_letters + string.digits + " ._-/:", max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=5), inner, max_size=3
        )
    ),
    max_leaves=6,
)


def _set(doc: dict[str, Any], path: str, value: Any) -> None:
    steps = [s for part in path.split(".") for s in part.replace("]", "").split("[")]
    target: Any = doc
    for step in steps[:-1]:
        target = target[int(step)] if step.isdigit() else target[step]
    last = steps[-1]
    target[int(last) if last.isdigit() else last] = value


def _value_span(text: str, path: str) -> tuple[int, int]:
    """1-based first and last line of the value at `path` in `text`."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    steps = [s for part in path.split(".") for s in part.replace("]", "").split("[")]
    for step in steps:
        if step.isdigit():
            node = node.value[int(step)]
        else:
            node = next(v for k, v in node.value if k.value == step)
    return node.start_mark.line + 1, node.end_mark.line + 1


@settings(derandomize=True, database=None, deadline=None, max_examples=150)
@given(st.sampled_from(sorted(ACCEPTED)), st.data())
def test_garbage_at_any_key_is_a_spec_error_naming_it(path: str, data: st.DataObject) -> None:
    garbage = data.draw(yaml_values.filter(lambda v: not ACCEPTED[path](v)), label="garbage")
    doc = base_doc()
    _set(doc, path, garbage)
    text = yaml.safe_dump(doc, sort_keys=False)
    with tempfile.TemporaryDirectory() as tmp:
        file = write(Path(tmp), text)
        with pytest.raises(SpecError) as info:
            load_spec(file)
    err = info.value
    assert err.key is not None
    assert err.key == path or err.key.startswith((path + "[", path + ".")), (err.key, str(err))
    first, last = _value_span(text, path)
    assert err.line is not None and first <= err.line <= max(first, last), (err.line, first, last)
    assert "\n" not in str(err)
