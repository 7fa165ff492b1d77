"""Transfer learning: an ImageNet ResNet-18 with a new, trainable last layer (TODO).

No code here downloads anything: ``local_weights()`` gives the ImageNet weights only when
they are already in the local torch cache (``torch.hub.get_dir()/checkpoints``), else None
(a randomly initialised network; everything still runs, the features are just not useful).
To use real weights offline, copy ``resnet18-f37072fd.pth`` into that folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import torch
from torch import nn
from torchvision import models
from torchvision.models import ResNet18_Weights

EPOCHS = int(os.environ.get("DOGS_EPOCHS", "5"))  # DOGS_EPOCHS: a shorter run
LOCAL = "local"


def local_weights() -> ResNet18_Weights | None:
    """``ResNet18_Weights.IMAGENET1K_V1`` if its file is in the local torch cache, else None."""
    weights = ResNet18_Weights.IMAGENET1K_V1
    name = os.path.basename(urlparse(weights.url).path)
    return weights if (Path(torch.hub.get_dir()) / "checkpoints" / name).is_file() else None


def load_pretrained(num_classes: int, weights: ResNet18_Weights | str | None = LOCAL) -> nn.Module:
    """torchvision's ResNet-18 with `weights`, every parameter frozen, and ``fc`` replaced by a
    fresh, trainable ``nn.Linear(512, num_classes)``.

    ``weights="local"`` (the default) means ``local_weights()``; ``None`` means random
    initialisation. Never pass weights that are not cached: torchvision would download them.
    """
    if isinstance(weights, str) and weights == LOCAL:
        weights = local_weights()
    # BEGIN SOLUTION
    model = models.resnet18(weights=weights)
    for p in model.parameters():
        p.requires_grad = False
    model.fc = nn.Linear(model.fc.in_features, num_classes)
    return model
    # END SOLUTION


def trainable_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The parameters an optimizer should update (those with requires_grad)."""
    return [p for p in model.parameters() if p.requires_grad]


def main() -> None:
    """Fine-tune the last layer of ResNet-18 on cats vs dogs; print the val accuracy."""
    from dataset import DogCatDataset
    from train import LEARNING_RATE, MOMENTUM, make_criterion, train

    torch.manual_seed(0)
    weights = local_weights()
    print("ImageNet weights: " + ("from the local cache" if weights else "not cached; random initialisation"))
    model = load_pretrained(2, weights)
    train_loader, val_loader = DogCatDataset().get_loaders(32, seed=0)
    optimizer = torch.optim.SGD(trainable_parameters(model), lr=LEARNING_RATE, momentum=MOMENTUM)
    stats = train(model, train_loader, val_loader, make_criterion(), optimizer,
                  max_epochs=EPOCHS, checkpoint_dir="checkpoints/transfer")  # fmt: skip
    print(f"val accuracy after {len(stats)} epochs: {stats[-1][2]:.3f}")


if __name__ == "__main__":
    main()
