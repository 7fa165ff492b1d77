"""Public tests of `train_target.freeze_layers` on a small stand-in network with the Target's layer names."""

import torch

from grader.testing import assert_equal, points

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

def sgd_step(model, x, y):
    """One SGD step over *all* parameters (frozen ones included) on the batch (x, y)."""
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    opt.zero_grad()
    F.cross_entropy(model(x), y).backward()
    opt.step()
'''

NAMES = [
    f"{layer}.{kind}"
    for layer in ("conv1", "conv2", "conv3", "fc_1")
    for kind in ("weight", "bias")
]


@points(3, part="freeze_layers")
def test_freeze_two_layers(student):
    """freeze_layers(model, 2): the weights and biases of conv1 and conv2 are frozen, conv3 and fc_1 stay trainable."""
    h = student.harness
    model = h.define(NET, "Net")()
    student.train_target.freeze_layers(model, 2)
    expected = {name: not name.startswith(("conv1.", "conv2.")) for name in NAMES}
    assert_equal(
        h.requires_grad(model),
        expected,
        what="requires_grad of each parameter after freeze_layers(model, 2)",
    )


@points(2, part="freeze_layers")
def test_frozen_layer_unchanged_by_a_step(student):
    """freeze_layers(model, 1): an optimizer step leaves conv1 unchanged and still updates the other layers."""
    h = student.harness
    model = h.define(NET, "Net")()
    student.train_target.freeze_layers(model, 1)
    before = h.parameters(model)
    g = torch.Generator().manual_seed(0)
    h.define(NET, "sgd_step")(model, torch.randn(8, 3, 8, 8, generator=g), torch.tensor([0, 1] * 4))
    after = h.parameters(model)
    for name in NAMES:
        changed = not torch.equal(after[name], before[name])
        if name.startswith("conv1."):
            assert not changed, f"{name} changed in an optimizer step although conv1 is frozen"
        else:
            assert changed, (
                f"{name} did not change in an optimizer step although it should be trainable"
            )
