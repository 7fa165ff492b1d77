"""grader.checks.modules / optim / losses: verdicts from behaviour, whatever the child reports."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from grader.checks.losses import assert_loss_matches
from grader.checks.modules import (
    assert_computes,
    conv2d,
    count_elements,
    definition_of,
    random_state,
    report_hint,
    state_of,
    verified_state,
)
from grader.checks.optim import assert_optimizer_steps, assert_sgd_steps
from grader.sandbox.host.client import Sandbox, Submission

MOD = '''
import torch
import torch.nn.functional as F
from torch import nn

import grader.sandbox.child.harness as h


class Net(nn.Module):
    def __init__(self, relu=True):
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 4 * 4, 2)
        self.relu = relu

    def forward(self, x):
        x = self.conv(x)
        return self.fc(torch.flatten(F.relu(x) if self.relu else x, 1))


class Liar(Net):
    """conv has 4 filters, but its state_dict claims 8."""

    def state_dict(self, *args, **kwargs):
        state = super().state_dict(*args, **kwargs)
        state["conv.weight"] = torch.zeros(8, 3, 3, 3)
        state["conv.bias"] = torch.zeros(8)
        return state


def frozen_net():
    net = Net()
    net.conv.requires_grad_(False)
    return net


def freeze_conv(model):
    model.conv.requires_grad_(False)


def freeze_nothing(model):
    pass


REAL = {}


def forge_reports():
    """Make the harness report a frozen conv that never changes."""
    REAL.update(requires_grad=h.requires_grad, parameters=h.parameters)
    first = {}

    def parameters(model):
        now = REAL["parameters"](model)
        old = first.setdefault(id(model), now)
        return {k: old[k] if k.startswith("conv.") else v for k, v in now.items()}

    h.requires_grad = lambda model: {k: not k.startswith("conv.") for k, _ in model.named_parameters()}
    h.parameters = parameters


def restore_reports():
    for k, v in REAL.items():
        setattr(h, k, v)


def adam(model, lr=1e-3, weight_decay=0.0):
    return torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)


def adamw(model):
    return torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)


def sgd(model):
    return torch.optim.SGD(model.parameters(), lr=1e-3)


def cross_entropy():
    return torch.nn.CrossEntropyLoss()


def mse_on_one_hot():
    return lambda logits, y: F.mse_loss(logits, F.one_hot(y, logits.shape[1]).float())


def detached_cross_entropy():
    return lambda logits, y: F.cross_entropy(logits.detach(), y)
'''


@pytest.fixture(scope="module")
def box(tmp_path_factory):
    root = tmp_path_factory.mktemp("sub")
    (root / "m.py").write_text(MOD)
    with Sandbox(root, call_seconds=20) as sb:
        yield sb


@pytest.fixture
def student(box):
    box.set_deadline(None)
    return Submission(box)


def _local_net() -> torch.nn.Module:
    """The submission's Net, built here from the same source (the test's own text)."""
    namespace: dict[str, object] = {"__name__": "behaviour_twin"}
    exec(compile(MOD, "<m.py>", "exec"), namespace)  # noqa: S102 - this test's own source
    return namespace["Net"]()  # type: ignore[operator]


def _definition() -> object:
    return definition_of(_local_net())


def test_verified_state_counts_tensors_the_layers_compute_and_learn_with(student):
    state = verified_state(student, student.m.Net(), generator=torch.Generator().manual_seed(0), trainable=True)
    assert count_elements(state) == 4 * 3 * 9 + 4 + 64 * 2 + 2
    assert set(state) == {"conv.weight", "conv.bias", "fc.weight", "fc.bias"}


def test_a_state_dict_that_lies_about_a_layer_is_caught(student):
    model = student.m.Liar()
    assert count_elements(state_of(model)) == 8 * 3 * 9 + 8 + 64 * 2 + 2  # the lie, by value
    with pytest.raises(AssertionError, match="for `conv` are not .*conv's own"):
        verified_state(student, model, generator=torch.Generator().manual_seed(0))


def test_tensors_that_do_not_learn_are_not_learnable(student):
    g = torch.Generator().manual_seed(0)
    verified_state(student, student.m.frozen_net(), generator=g)  # they are the layers' own
    with pytest.raises(AssertionError, match="the model.conv: weight did not change .* should be trainable"):
        verified_state(student, student.m.frozen_net(), generator=g, trainable=True)


def test_a_forward_is_checked_against_a_definition_with_the_graders_tensors(student):
    g = torch.Generator().manual_seed(0)
    shapes = {k: tuple(v.shape) for k, v in _local_net().state_dict().items()}
    x = torch.randn(3, 3, 4, 4, generator=g)
    definition = _definition()
    assert_computes(student.m.Net(), definition, random_state(shapes, generator=g), [x], what="Net")
    with pytest.raises(AssertionError, match="Net on a 3×3×4×4 input"):
        assert_computes(student.m.Net(False), definition, random_state(shapes, generator=g), [x], what="Net")
    layer = student.m.Net().conv
    assert_computes(layer, conv2d(padding=1), random_state({"weight": (4, 3, 3, 3), "bias": (4,)}, generator=g), [x], what="conv")
    with pytest.raises(AssertionError, match="expected shape"):
        assert_computes(layer, conv2d(padding=0), random_state({"weight": (4, 3, 3, 3), "bias": (4,)}, generator=g), [x], what="conv")


def _sgd(student, model, g: torch.Generator, **kw: object) -> None:
    assert_sgd_steps(
        student,
        model,
        _definition(),
        [(torch.randn(5, 3, 4, 4, generator=g), torch.randn(5, 2, generator=g)) for _ in range(2)],
        lr=0.1,
        frozen={"conv.weight", "conv.bias"},
        probes=[torch.randn(2, 3, 4, 4, generator=g)],
        **kw,
    )


def test_freezing_is_decided_by_a_step_not_by_reports(student):
    g = torch.Generator().manual_seed(0)
    h, m = student.harness, student.m
    model = m.Net()
    m.freeze_conv(model)
    _sgd(student, model, g)
    m.forge_reports()
    try:
        model = m.Net()
        m.freeze_nothing(model)
        assert h.requires_grad(model)["conv.weight"] is False  # the forged report
        hints = report_hint(
            lambda: h.requires_grad(model), lambda r: {k: f"reports requires_grad={v}" for k, v in r.items()}
        )
        with pytest.raises(AssertionError, match=r"conv.weight changed .* should be frozen \(reports requires_grad=False\)"):
            _sgd(student, model, g, hints=hints)
    finally:
        m.restore_reports()


@pytest.mark.parametrize(
    ("factory", "kwargs", "ok"),
    [
        ("adam", {}, True),
        ("adam", {"weight_decay": 0.01}, False),
        ("adam", {"lr": 2e-3}, False),
        ("sgd", {}, False),
        ("adamw", {}, False),
    ],
)
def test_optimizer_steps_tell_optimizers_and_settings_apart(student, factory, kwargs, ok):
    g = torch.Generator().manual_seed(0)
    local = _local_net()
    shapes = {k: tuple(v.shape) for k, v in local.state_dict().items()}
    model = student.m.Net()
    optimizer = getattr(student.m, factory)(model, **kwargs)

    def run() -> None:
        assert_optimizer_steps(
            student,
            optimizer,
            model,
            definition_of(local),
            lambda ps: torch.optim.Adam(ps, lr=1e-3),
            start=random_state(shapes, generator=g),
            grads=[random_state(shapes, generator=g, scale=1e-3), random_state(shapes, generator=g)],
            probes=[torch.randn(2, 3, 4, 4, generator=g)],
            what="adam",
            hint=lambda: " (a hint)",
        )

    if ok:
        run()
    else:
        with pytest.raises(AssertionError, match=r"(?s)after 2 optimizer steps.*\(a hint\)"):
            run()


@pytest.mark.parametrize(
    ("factory", "match"),
    [("cross_entropy", None), ("mse_on_one_hot", "the loss on"), ("detached_cross_entropy", "autograd cannot")],
)
def test_a_loss_is_checked_by_value_and_gradient(student, factory, match):
    g = torch.Generator().manual_seed(0)
    logits, labels = torch.randn(6, 3, generator=g), torch.randint(0, 3, (6,), generator=g)
    criterion = getattr(student.m, factory)()
    if match is None:
        assert_loss_matches(student, criterion, F.cross_entropy, logits, labels, what="loss")
    else:
        with pytest.raises(AssertionError, match=match):
            assert_loss_matches(student, criterion, F.cross_entropy, logits, labels, what="loss")
