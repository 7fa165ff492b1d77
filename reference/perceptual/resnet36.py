"""A 36-layer residual network and a way to widen it (TODO: the block, the network, `widen`).

Every convolution is bias-free and followed by batch normalisation (`nn.BatchNorm2d`).

`ResidualBlock3(in_ch, out_ch, stride, activation)`:

    x → conv 3×3 (in_ch → out_ch, stride, padding 1) → BN → act
      → conv 3×3 (out_ch → out_ch, padding 1) → BN → act
      → conv 3×3 (out_ch → out_ch, padding 1) → BN  ─┐
    x → shortcut ────────────────────────────────────(+) → act

The shortcut is the identity when the shape does not change (stride 1 and in_ch == out_ch);
otherwise, and only then, a projection: conv 1×1 (in_ch → out_ch, stride) → BN.

`ResNet36(num_classes, widths, blocks, activation)`:

| piece  | layers                                                                          |
| ------ | ------------------------------------------------------------------------------- |
| stem   | conv 7×7 (3 → widths[0], stride 2, padding 3) → BN → act,                        |
|        | conv 3×3 (widths[0] → widths[0], padding 1) → BN → act,                          |
|        | max-pool 3×3 (stride 2, padding 1)                                               |
| stage i| blocks[i] `ResidualBlock3`s of width widths[i]; the first has stride 1 in stage 0 |
|        | and stride 2 in the others (and takes the previous width in), the rest stride 1  |
| head   | global average pooling → flatten → linear (widths[-1] → num_classes, with bias)  |

With the default blocks (3, 3, 3, 2): 2 stem convolutions + 11 · 3 block convolutions + 1
linear layer = 36 weighted layers (the 1×1 shortcut projections are not counted). `activation`
is a class (or any callable without arguments) that makes an activation module, e.g. `nn.ReLU`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

Activation = Callable[[], nn.Module]


class ResidualBlock3(nn.Module):
    """Three 3×3 conv + BN stages (stride on the first) and a shortcut; act after the sum."""

    def __init__(self, in_ch: int, out_ch: int, stride: int = 1, activation: Activation = nn.ReLU) -> None:
        super().__init__()
        # BEGIN SOLUTION
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.conv3 = nn.Conv2d(out_ch, out_ch, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_ch)
        self.act = activation()
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_ch != out_ch:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_ch, out_ch, 1, stride=stride, bias=False), nn.BatchNorm2d(out_ch)
            )
        # END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×in_ch×H×W → N×out_ch×⌈H/stride⌉×⌈W/stride⌉."""
        # BEGIN SOLUTION
        out = self.act(self.bn1(self.conv1(x)))
        out = self.act(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.act(out + self.shortcut(x))
        # END SOLUTION


class ResNet36(nn.Module):
    """Stem, four stages of `ResidualBlock3`, global average pooling and one linear layer."""

    def __init__(
        self,
        num_classes: int,
        widths: Sequence[int] = (64, 128, 256, 512),
        blocks: Sequence[int] = (3, 3, 3, 2),
        activation: Activation = nn.ReLU,
    ) -> None:
        super().__init__()
        # The design, kept so that `widen` can build a wider model of it.
        self.num_classes = num_classes
        self.widths = tuple(widths)
        self.blocks = tuple(blocks)
        self.activation = activation
        # BEGIN SOLUTION
        w0 = self.widths[0]
        self.stem = nn.Sequential(
            nn.Conv2d(3, w0, 7, stride=2, padding=3, bias=False),
            nn.BatchNorm2d(w0),
            activation(),
            nn.Conv2d(w0, w0, 3, padding=1, bias=False),
            nn.BatchNorm2d(w0),
            activation(),
            nn.MaxPool2d(3, stride=2, padding=1),
        )
        stages, in_ch = [], w0
        for i, (width, count) in enumerate(zip(self.widths, self.blocks, strict=True)):
            layers = []
            for j in range(count):
                stride = 2 if i > 0 and j == 0 else 1
                layers.append(ResidualBlock3(in_ch, width, stride, activation))
                in_ch = width
            stages.append(nn.Sequential(*layers))
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_ch, num_classes)
        # END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×3×H×W images → N×num_classes logits (any H, W)."""
        # BEGIN SOLUTION
        x = self.stages(self.stem(x))
        return self.fc(torch.flatten(self.pool(x), 1))
        # END SOLUTION


def widen(model: ResNet36, factor: float) -> ResNet36:
    """A new ResNet36 of the same design (classes, blocks, activation) whose every stage width
    is `round(width · factor)`, with fresh weights of the new shapes; `model` is left as it is."""
    # BEGIN SOLUTION
    widths = tuple(round(w * factor) for w in model.widths)
    return ResNet36(model.num_classes, widths=widths, blocks=model.blocks, activation=model.activation)
    # END SOLUTION
