"""Hidden tests of `train_target.freeze_layers` for every number of layers, on a stand-in network."""

import torch

from assignments.landmarks import nets
from grader.checks.modules import definition_of
from grader.checks.optim import assert_sgd_steps
from grader.testing import points

WIDTHS = (5, 6, 3)  # other widths than the public tests' stand-in


def _frozen(num_layers: int) -> set[str]:
    return {f"conv{i}.{kind}" for i in range(1, num_layers + 1) for kind in ("weight", "bias")}


def _check_steps(student, num_layers: int, seed: int, steps: int, lr: float) -> None:
    h = student.harness
    model = student.ship(nets).FreezeNet(seed=seed, widths=WIDTHS)
    student.train_target.freeze_layers(model, num_layers)
    g = torch.Generator().manual_seed(seed)
    batches = [(torch.randn(12, 3, 8, 8, generator=g), torch.randn(12, 2, generator=g)) for _ in range(steps)]
    assert_sgd_steps(
        student,
        model,
        definition_of(nets.FreezeNet(widths=WIDTHS)),  # its twin, built here
        batches,
        lr=lr,
        frozen=_frozen(num_layers),
        probes=[torch.randn(5, 3, 8, 8, generator=g)],
        what=f"the model after freeze_layers(model, {num_layers})",
        hints=lambda: {k: f"your model reports requires_grad={v}" for k, v in h.requires_grad(model).items()},
    )


@points(3, part="freeze_layers")
def test_exactly_the_right_tensors_frozen(student):
    """freeze_layers(model, n) for n = 0..3: in an SGD step, the weights and biases of conv1..conv{n} stay unchanged and every other tensor takes the step."""
    for n in range(4):
        _check_steps(student, n, seed=n, steps=1, lr=0.5)


@points(2, part="freeze_layers")
def test_optimizer_steps_leave_frozen_layers_unchanged(student):
    """freeze_layers(model, n) for n = 0..3: several SGD steps leave the frozen tensors unchanged and update the others exactly."""
    for n in range(4):
        _check_steps(student, n, seed=10 + n, steps=3, lr=0.1)
