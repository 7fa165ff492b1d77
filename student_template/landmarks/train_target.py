"""Transfer learning: start a Target from the best Source checkpoint and fine-tune it.

TODO: ``freeze_layers``. ``main()`` loads the best source checkpoint into a Target (all but the
output layer), then fine-tunes one model for each number of frozen conv layers, 0 to 3.
"""

from __future__ import annotations

from torch import nn


def freeze_layers(model: nn.Module, num_layers: int = 0) -> None:
    """Freeze the first `num_layers` convolutional layers of `model`.

    Every parameter (weight and bias) of ``conv1`` … ``conv{num_layers}`` gets
    ``requires_grad = False``; all other parameters stay trainable
    (``requires_grad = True``). `num_layers` is 0, 1, 2 or 3; 0 freezes nothing.
    """
    # TODO: implement freeze_layers
    raise NotImplementedError("freeze_layers: TODO")


def main() -> None:
    """Fine-tune the pretrained Target with 0, 1, 2 and 3 frozen conv layers."""
    import torch
    import utils
    from config import config
    from dataset import get_train_val_test_loaders
    from model.source import Source
    from model.target import Target
    from train_cnn import PATIENCE, make_criterion, make_optimizer
    from train_common import (
        best_epoch,
        clear_checkpoint,
        count_parameters,
        restore_checkpoint,
        saved_epochs,
        train_model,
    )

    source_dir = config("source.checkpoint")
    if not saved_epochs(source_dir):
        print(f"No source checkpoints in {source_dir}: run train_source.py first.")
        return
    _, _, source_stats = restore_checkpoint(Source(), source_dir)
    best = best_epoch(source_stats)
    print(f"Transferring from source epoch {best}.")
    results = {}
    for num_layers in range(4):
        torch.manual_seed(config("seed"))
        tr_loader, va_loader, te_loader, _ = get_train_val_test_loaders(
            task="target", batch_size=config("transfer.batch_size"), seed=config("seed")
        )
        model = Target()
        restore_checkpoint(model, source_dir, epoch=best, pretrain=True)
        freeze_layers(model, num_layers)
        print(f"{num_layers} frozen layers: {count_parameters(model)} trainable parameters")
        checkpoint_dir = config("transfer.checkpoint").format(num_layers=num_layers)
        clear_checkpoint(checkpoint_dir)
        axes = utils.make_training_plot(f"Target Training ({num_layers} frozen layers)")
        stats = train_model(
            model, tr_loader, va_loader, te_loader, make_criterion(), make_optimizer(model),
            patience=PATIENCE, checkpoint_dir=checkpoint_dir,
            max_epochs=config("transfer.max_epochs"), include_test=True, axes=axes,
        )  # fmt: skip
        utils.save_training_plot(axes, config("transfer.plot").format(num_layers=num_layers))
        utils.hold_training_plot(axes)
        e = best_epoch(stats)
        results[num_layers] = (stats[e][2], stats[e][8])
    print("frozen layers | val AUROC | test AUROC")
    for num_layers, (val_auc, test_auc) in results.items():
        print(f"{num_layers:13d} | {val_auc:9.4f} | {test_auc:10.4f}")


if __name__ == "__main__":
    main()
