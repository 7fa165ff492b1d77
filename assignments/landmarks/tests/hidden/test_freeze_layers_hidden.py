"""Hidden tests of `train_target.freeze_layers` for every number of layers, on a stand-in network."""

import torch

from grader.testing import assert_equal, points

# Same layer names as Target; built in the child, so the student's Target plays no part.
NET = '''
import torch
from torch import nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.conv1 = nn.Conv2d(3, 5, 3, stride=1, padding=1)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(5, 6, 3, padding=1)
        self.conv3 = nn.Conv2d(6, 3, 3, padding=1)
        self.fc_1 = nn.Linear(3 * 2 * 2, 2)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = F.relu(self.conv3(x))
        return self.fc_1(torch.flatten(x, 1))

def adam_steps(model, x, y, steps=3):
    """A few Adam steps over *all* parameters (frozen ones included)."""
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
'''

NAMES = [
    f"{layer}.{kind}"
    for layer in ("conv1", "conv2", "conv3", "fc_1")
    for kind in ("weight", "bias")
]


def _frozen(num_layers: int) -> set[str]:
    return {f"conv{i}.{kind}" for i in range(1, num_layers + 1) for kind in ("weight", "bias")}


@points(3, part="freeze_layers")
def test_exactly_the_right_tensors_frozen(student):
    """freeze_layers(model, n) for n = 0..3: weights and biases of conv1..conv{n} frozen, every other tensor trainable."""
    h = student.harness
    for n in range(4):
        model = h.define(NET, "Net")(seed=n)
        student.train_target.freeze_layers(model, n)
        expected = {name: name not in _frozen(n) for name in NAMES}
        assert_equal(
            h.requires_grad(model),
            expected,
            what=f"requires_grad of each parameter after freeze_layers(model, {n})",
        )


@points(2, part="freeze_layers")
def test_optimizer_steps_leave_frozen_layers_unchanged(student):
    """freeze_layers(model, n) for n = 0..3: optimizer steps leave the frozen tensors unchanged and update the others."""
    h = student.harness
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(12, 3, 8, 8, generator=g), torch.randint(0, 2, (12,), generator=g)
    for n in range(4):
        model = h.define(NET, "Net")(seed=10 + n)
        student.train_target.freeze_layers(model, n)
        before = h.parameters(model)
        h.define(NET, "adam_steps")(model, x, y)
        after = h.parameters(model)
        for name in NAMES:
            changed = not torch.equal(after[name], before[name])
            if name in _frozen(n):
                assert not changed, (
                    f"{name} changed during optimizer steps after freeze_layers(model, {n})"
                )
            else:
                assert changed, (
                    f"{name} did not change during optimizer steps after freeze_layers(model, {n}); it should be trainable"
                )
