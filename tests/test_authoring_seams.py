"""The seams an assignment plugs into: its folder as a package, files shipped to the child,
and a training check (grader.checks.training) in any part.

Each test writes a small project in a temporary folder and grades it with `run_session`, in
this process, as `grader grade` does.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from grader.runner import packages
from grader.runner.session import run_session
from grader.spec import load_spec


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


def _assignment(root: Path, name: str, parts: dict[str, int], files: dict[str, str], extra: str = "") -> Path:
    part_text = "".join(f"  - name: {p}\n    points: {n}\n" for p, n in parts.items())
    yaml = f"name: {name}\ntitle: {name}\nversion: '1'\nfiles: [code.py]\nparts:\n{part_text}{extra}"
    _write(root / "assignments" / name, {"assignment.yaml": yaml, **files})
    return root / "assignments" / name / "assignment.yaml"


# --------------------------------------------------------------------- two assignments, one process

# The same relative paths in both assignments: a bare `import standins` on sys.path would give
# the second assignment the first one's module.
HELPER = """
WHO = {who!r}

def double(x):
    return 2 * x
"""
TEST = """
from grader.testing import points

from . import standins


@points(1, part="p")
def test_own_helper(student):
    assert standins.WHO == {who!r}, f"got the helper of {{standins.WHO}}"
    shipped = student.ship(standins)
    assert student.value(shipped.WHO) == {who!r}
    assert student.value(shipped.double(21)) == standins.double(21) == 42
    assert student.code.answer() == {answer}
"""


def test_two_assignments_graded_in_one_process_keep_their_own_helpers(tmp_path: Path) -> None:
    specs = {}
    for who, answer in (("alpha", 1), ("beta", 2)):
        files = {
            "tests/public/standins.py": HELPER.format(who=who),
            "tests/public/test_same_name.py": TEST.format(who=who, answer=answer),
        }
        specs[who] = load_spec(_assignment(tmp_path, who, {"p": 1}, files))
        _write(tmp_path / "subs" / who, {"code.py": f"def answer():\n    return {answer}\n"})
    for _ in range(2):  # and again, in the other order's wake
        for who in ("alpha", "beta"):
            result = run_session(specs[who], tmp_path / "subs" / who)
            assert result.errors == [] and result.score == 1.0, [t.message for t in result.tests]
    assert sys.modules["assignments.alpha.tests.public.standins"].WHO == "alpha"
    assert sys.modules["assignments.beta.tests.public.standins"].WHO == "beta"
    assert "standins" not in sys.modules  # never imported by a bare name


def test_a_package_of_the_same_name_from_another_folder_replaces_the_old_one(tmp_path: Path) -> None:
    first = load_spec(_assignment(tmp_path / "one", "same", {"p": 1}, {"helper.py": "WHERE = 1\n"}))
    second = load_spec(_assignment(tmp_path / "two", "same", {"p": 1}, {"helper.py": "WHERE = 2\n"}))
    assert packages.import_from(first, "helper").WHERE == 1
    assert packages.import_from(second, "helper").WHERE == 2
    assert packages.module_name_for(second, second.root / "tests" / "public" / "test_x.py") == (
        "assignments.same.tests.public.test_x"
    )
    assert packages.module_name_for(second, tmp_path / "elsewhere.py") is None


def test_a_shipped_file_reaches_the_child_under_a_name_without_the_graders_paths(tmp_path: Path) -> None:
    files = {
        "helpers/boom.py": "def explode():\n    raise ValueError('from the helper')\n",
        "tests/public/test_boom.py": """
            from grader.testing import points

            from ...helpers import boom


            @points(1, part="p")
            def test_boom(student):
                student.ship(boom).explode()
        """,
    }
    spec = load_spec(_assignment(tmp_path, "shipping", {"p": 1}, files))
    _write(tmp_path / "sub", {"code.py": "X = 1\n"})
    result = run_session(spec, tmp_path / "sub")
    (test,) = result.tests
    assert test.outcome == "failed" and "from the helper" in (test.message or "")
    assert str(tmp_path) not in (test.message or "") + (test.traceback or "")


# --------------------------------------------------------------------------- a training check

REFERENCE = """
import torch
from torch import nn


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.fc = nn.Linear(2, 2)

    def forward(self, x):
        return self.fc(x)


def train_epoch(loader, model, criterion, optimizer):
    model.train()
    for x, y in loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()


def make_optimizer(model):
    return torch.optim.SGD(model.parameters(), lr=0.5)
"""
# The loop forgets optimizer.step(): nothing is learnt.
BROKEN_LOOP = REFERENCE.replace("        optimizer.step()\n", "")

CHECK_TESTS = {
    # Sorted first by name, but run last: it uses the training check's fixture.
    "tests/hidden/test_a_fit.py": """
        import numpy as np
        import torch

        from grader.checks.metrics import accuracy
        from grader.checks.training import Piece, TrainingCheck, TrainingData
        from grader.testing import points

        from . import standins


        def blobs(_data_dir, _heldout_dir):
            g = torch.Generator().manual_seed(0)

            def part(n):
                y = torch.arange(n) % 2
                x = torch.randn(n, 2, generator=g) + 3 * (2 * y[:, None] - 1)
                return x.float(), y

            (xt, yt), (xs, ys), (xh, yh) = part(64), part(32), part(32)
            return TrainingData(xt, yt, xs, ys.numpy(), xh, yh.numpy())


        check = TrainingCheck(
            model=Piece("Model", lambda sub: sub.code.Model()),
            train_epoch=Piece(
                "train_epoch", lambda sub: sub.code.train_epoch, part="loop",
                standin=lambda sub: sub.ship(standins).train_epoch,
            ),
            criterion=lambda sub, model: sub.harness.make_criterion(),
            optimizer=lambda sub, model: sub.code.make_optimizer(model),
            data=blobs,
            metrics={"acc": accuracy},
        )
        trained = check.fixture(name="trained")


        @points(2, part="fit")
        def test_accuracy(trained):
            trained.assert_metric("acc")
            ORDER.append("fit")


        @points(1, part="fit")
        def test_finite(trained):
            trained.assert_finite()


        ORDER = []
    """,
    "tests/hidden/test_b_loop.py": """
        from grader.testing import points

        from . import test_a_fit


        @points(1, part="loop")
        def test_loop_updates(student):
            h = student.harness
            model = student.code.Model()
            before = h.parameters(model)
            loader = h.tiny_loader(n=8, shape=(2,), batch_size=4)
            student.code.train_epoch(loader, model, h.make_criterion(), student.code.make_optimizer(model))
            after = h.parameters(model)
            assert not all((before[k] == after[k]).all() for k in before), "no parameter changed"
            test_a_fit.ORDER.append("loop")
    """,
    "tests/hidden/standins.py": """
        def train_epoch(loader, model, criterion, optimizer):
            model.train()
            for x, y in loader:
                optimizer.zero_grad()
                criterion(model(x), y).backward()
                optimizer.step()
    """,
    "tests/public/test_nothing.py": """
        from grader.testing import points


        @points(1, part="loop")
        def test_has_model(student):
            student.code.Model()
    """,
}
TRAINING = "training:\n  thresholds: {acc: 0.9}\n  cpu: {max_epochs: 5, batch_size: 16, epoch_seconds: 20}\n"


@pytest.fixture(scope="module")
def check_spec(tmp_path_factory: pytest.TempPathFactory) -> object:
    root = tmp_path_factory.mktemp("check")
    spec = load_spec(_assignment(root, "fitting", {"fit": 3, "loop": 2}, CHECK_TESTS, TRAINING))
    _write(spec.reference_dir, {"code.py": REFERENCE})
    return spec


def test_a_training_check_in_any_part_runs_last_and_passes_the_reference(check_spec, tmp_path: Path) -> None:
    result = run_session(check_spec, check_spec.reference_dir)
    assert result.errors == [] and result.score == result.max_score == 5.0, [t.message for t in result.tests]
    order = sys.modules["assignments.fitting.tests.hidden.test_a_fit"].ORDER
    assert order == ["loop", "fit"]


def test_a_piece_that_lost_its_own_points_is_replaced_by_its_stand_in(check_spec, tmp_path: Path) -> None:
    _write(tmp_path / "sub", {"code.py": BROKEN_LOOP})
    result = run_session(check_spec, tmp_path / "sub")
    by_name = {t.name: t for t in result.tests}
    assert not by_name["test_loop_updates"].passed  # paid once, in its own part
    assert by_name["test_accuracy"].passed and by_name["test_finite"].passed
    assert result.score == 4.0


def test_without_the_stand_in_the_message_names_the_piece_that_raised(check_spec, tmp_path: Path) -> None:
    raising = REFERENCE.replace("        optimizer.step()\n", "        optimizer.step()\n        raise KeyError('oops')\n")
    _write(tmp_path / "sub", {"code.py": raising})
    result = run_session(check_spec, tmp_path / "sub", parts=("fit",))  # the loop's part not run
    test = next(t for t in result.tests if t.name == "test_accuracy")
    assert not test.passed
    assert "`train_epoch`" in (test.message or "") and "raised in `train_epoch`" in (test.message or "")


def test_the_reference_is_trained_once_per_set_of_stand_ins_in_a_process(check_spec, tmp_path: Path) -> None:
    from grader.checks.training import REFERENCE_RUNS, TRAINING_DATA

    REFERENCE_RUNS.clear()
    TRAINING_DATA.clear()
    run_session(check_spec, check_spec.reference_dir)
    assert len(REFERENCE_RUNS) == 1
    first = next(iter(REFERENCE_RUNS.values()))
    data = list(TRAINING_DATA.values())
    assert run_session(check_spec, check_spec.reference_dir).score == 5.0
    assert list(REFERENCE_RUNS.values()) == [first]  # not trained again
    assert len(data) == 1 and list(TRAINING_DATA.values())[0] is data[0]  # nor its data read again
    _write(tmp_path / "sub", {"code.py": BROKEN_LOOP})
    run_session(check_spec, tmp_path / "sub")
    assert len(REFERENCE_RUNS) == 2  # the train_epoch stand-in: a reference run of its own
    assert sorted(key[4] for key in REFERENCE_RUNS) == [(), ("train_epoch",)]


# The optimizer as a Piece: its own part judges it; the training check swaps in a stand-in.
OPTIMIZER_TESTS = {
    "tests/hidden/test_a_fit.py": CHECK_TESTS["tests/hidden/test_a_fit.py"].replace(
        "optimizer=lambda sub, model: sub.code.make_optimizer(model),",
        """optimizer=Piece(
                "make_optimizer", lambda sub, model: sub.code.make_optimizer(model), part="opt",
                standin=lambda sub, model: sub.ship(standins).sgd(model),
            ),""",
    ),
    "tests/hidden/test_b_opt.py": """
        from grader.testing import points


        @points(1, part="opt")
        def test_optimizer_learning_rate(student):
            lr = student.harness.optimizer_settings(student.code.make_optimizer(student.code.Model()))["groups"][0]["lr"]
            assert lr == 0.5, f"lr {lr}"
    """,
    "tests/hidden/standins.py": """
        import torch


        def sgd(model):
            return torch.optim.SGD(model.parameters(), lr=0.5)
    """,
}
# lr 0: the optimizer never moves the model.
FROZEN_OPTIMIZER = REFERENCE.replace("lr=0.5)", "lr=0.0)")


def test_an_optimizer_piece_that_lost_its_part_is_replaced_by_its_stand_in(tmp_path: Path) -> None:
    spec = load_spec(_assignment(tmp_path / "p", "optpiece", {"fit": 3, "opt": 1}, OPTIMIZER_TESTS, TRAINING))
    _write(spec.reference_dir, {"code.py": REFERENCE})
    assert run_session(spec, spec.reference_dir).score == 4.0
    _write(tmp_path / "sub", {"code.py": FROZEN_OPTIMIZER})
    result = run_session(spec, tmp_path / "sub")
    by_name = {t.name: t for t in result.tests}
    assert not by_name["test_optimizer_learning_rate"].passed  # paid once, in its own part
    assert by_name["test_accuracy"].passed, by_name["test_accuracy"].message
    assert result.score == 3.0
    # Judged alone (the optimizer's part not run), the student's optimizer trains: nothing learnt.
    alone = run_session(spec, tmp_path / "sub", parts=("fit",))
    assert not next(t for t in alone.tests if t.name == "test_accuracy").passed


def test_a_check_without_the_reference_never_trains_it(tmp_path: Path) -> None:
    from grader.checks.training import REFERENCE_RUNS

    tests = {
        "tests/hidden/test_a_fit.py": CHECK_TESTS["tests/hidden/test_a_fit.py"]
        .replace("data=blobs,", "data=blobs, against_reference=False,")
        .replace("trained.assert_finite()", "trained.assert_finite()\n            assert trained.reference is None"),
        "tests/hidden/standins.py": CHECK_TESTS["tests/hidden/standins.py"],
    }
    spec = load_spec(_assignment(tmp_path / "p", "alone", {"fit": 3}, tests, TRAINING))
    _write(spec.reference_dir, {"code.py": REFERENCE})
    REFERENCE_RUNS.clear()
    result = run_session(spec, spec.reference_dir)
    assert result.score == 3.0, [t.message for t in result.tests]
    assert REFERENCE_RUNS == {}
