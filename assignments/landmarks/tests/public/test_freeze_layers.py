"""Public tests of `train_target.freeze_layers` on a small stand-in network with the Target's layer names.

Frozen is a behaviour: after freeze_layers, a plain SGD step over *all* parameters must leave
the frozen tensors unchanged and move every other one by exactly -lr·gradient. The test drives
that step and computes the expected parameters itself, with its own copy of the stand-in.
"""

import torch

from grader.checks.modules import definition_of
from grader.checks.optim import assert_sgd_steps
from grader.childlib.harness import define
from grader.testing import points

# A small network with the attribute names of Target (conv1, conv2, conv3, fc_1), built inside
# your process, so that these tests do not depend on your Target.
NET = '''
import torch
from torch import nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1)
        self.conv3 = nn.Conv2d(4, 4, 3, padding=1)
        self.fc_1 = nn.Linear(4 * 2 * 2, 2)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = F.relu(self.conv3(x))
        return self.fc_1(torch.flatten(x, 1))
'''


def _frozen(num_layers: int) -> set[str]:
    return {f"conv{i}.{kind}" for i in range(1, num_layers + 1) for kind in ("weight", "bias")}


def _check_step(student, num_layers: int) -> None:
    h = student.harness
    model = h.define(NET, "Net")()
    student.train_target.freeze_layers(model, num_layers)
    g = torch.Generator().manual_seed(num_layers)
    x, grad_out = torch.randn(8, 3, 8, 8, generator=g), torch.randn(8, 2, generator=g)
    assert_sgd_steps(
        student,
        model,
        definition_of(define(NET, "Net")()),  # the same stand-in, built here
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
