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
        # TODO

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×in_ch×H×W → N×out_ch×⌈H/stride⌉×⌈W/stride⌉."""
        # TODO: implement ResidualBlock3.forward
        raise NotImplementedError("ResidualBlock3.forward: TODO")


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
        # TODO

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N×3×H×W images → N×num_classes logits (any H, W)."""
        # TODO: implement ResNet36.forward
        raise NotImplementedError("ResNet36.forward: TODO")


def widen(model: ResNet36, factor: float) -> ResNet36:
    """A new ResNet36 of the same design (classes, blocks, activation) whose every stage width
    is `round(width · factor)`, with fresh weights of the new shapes; `model` is left as it is."""
    # TODO: implement widen
    raise NotImplementedError("widen: TODO")
