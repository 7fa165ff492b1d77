"""Public tests of `train_target.freeze_layers` on a small stand-in network with the Target's layer names.

Frozen is a behaviour: after freeze_layers, a plain SGD step over *all* parameters must leave
the frozen tensors unchanged and move every other one by exactly -lr·gradient. The test drives
that step and computes the expected parameters itself, with its own copy of the stand-in.
"""

import torch

from assignments.landmarks import nets
from grader.checks.modules import definition_of
from grader.checks.optim import assert_sgd_steps
from grader.testing import points

# A small network with the attribute names of Target (conv1, conv2, conv3, fc_1), built inside
# your process, so that these tests do not depend on your Target.


def _frozen(num_layers: int) -> set[str]:
    return {f"conv{i}.{kind}" for i in range(1, num_layers + 1) for kind in ("weight", "bias")}


def _check_step(student, num_layers: int) -> None:
    h = student.harness
    model = student.ship(nets).FreezeNet()
    student.train_target.freeze_layers(model, num_layers)
    g = torch.Generator().manual_seed(num_layers)
    x, grad_out = torch.randn(8, 3, 8, 8, generator=g), torch.randn(8, 2, generator=g)
    assert_sgd_steps(
        student,
        model,
        definition_of(nets.FreezeNet()),  # its twin, built here
        [(x, grad_out)],
        lr=0.5,
        frozen=_frozen(num_layers),
        probes=[torch.randn(4, 3, 8, 8, generator=g)],
        what=f"the model after freeze_layers(model, {num_layers})",
        hints=lambda: {k: f"your model reports requires_grad={v}" for k, v in h.requires_grad(model).items()},
    )


@points(3, part="freeze_layers")
def test_freeze_two_layers(student):
    """freeze_layers(model, 2): an SGD step leaves the weights and biases of conv1 and conv2 unchanged and updates conv3 and fc_1."""
    _check_step(student, 2)


@points(2, part="freeze_layers")
def test_frozen_layer_unchanged_by_a_step(student):
    """freeze_layers(model, 1): an SGD step leaves conv1 unchanged and still updates the other layers."""
    _check_step(student, 1)
