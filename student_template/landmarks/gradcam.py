"""Grad-CAM, the worked exercise as code (TODO: all three functions).

For a class score y_c and the activations A (K×H×W) of a conv layer:
α_k = mean over positions of ∂y_c/∂A^k, and the map is ReLU(Σ_k α_k A^k).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def gradcam_weights(grads: torch.Tensor) -> torch.Tensor:
    """The Grad-CAM weights α of one image.

    `grads` has shape K×H×W (∂y_c/∂A^k for each of the K activation maps); return α with
    shape (K,), where α_k is the mean of ``grads[k]`` over the H×W positions.
    """
    # TODO: implement gradcam_weights
    raise NotImplementedError("gradcam_weights: TODO")


def gradcam_map(activations: torch.Tensor, alphas: torch.Tensor) -> torch.Tensor:
    """The Grad-CAM map ReLU(Σ_k α_k A^k).

    `activations` has shape K×H×W, `alphas` shape (K,); the result has shape H×W and no
    negative entries.
    """
    # TODO: implement gradcam_map
    raise NotImplementedError("gradcam_map: TODO")


def gradcam(model: nn.Module, x: torch.Tensor, target_class: int, layer: nn.Module) -> torch.Tensor:
    """The Grad-CAM heat map of `model` for `target_class` at `layer` (a submodule).

    `x` is one image, C×H×W or 1×C×H×W. Record `layer`'s output A (with a forward hook),
    compute the gradient of the class score ``model(x)[0, target_class]`` with respect to A,
    combine with ``gradcam_weights`` and ``gradcam_map``, upsample the map bilinearly to the
    input's H×W, and scale it to [0, 1] by dividing by its maximum (an all-zero map stays
    zero). Returns an H×W tensor (detached). The model's parameters and their ``.grad`` are
    left untouched and the hook is removed.
    """
    # TODO: implement gradcam
    raise NotImplementedError("gradcam: TODO")


def main() -> None:
    """Write Grad-CAM overlays of the newest Target checkpoint for a few validation images."""
    import numpy as np
    import utils
    from config import config
    from dataset import get_train_val_test_datasets
    from model.target import Target
    from train_common import restore_checkpoint

    _, va, _, standardizer = get_train_val_test_datasets(task="target")
    model = Target()
    restore_checkpoint(model, config("target.checkpoint"))
    model.eval()
    layer = getattr(model, config("gradcam.layer"))
    for i in range(min(4, len(va))):
        x = torch.from_numpy(va.X[i])
        label = int(va.y[i])
        cam = gradcam(model, x, label, layer).numpy()
        image = va.X[i].transpose(1, 2, 0) * standardizer.image_std + standardizer.image_mean
        out = f"{i}_{config('gradcam.out')}"
        utils.save_gradcam_overlay(
            np.clip(image, 0, 255).astype(np.uint8), cam, out, va.get_semantic_label(label)
        )
        print(f"Wrote {out}")


if __name__ == "__main__":
    main()
