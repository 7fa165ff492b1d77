"""Generic, non-secret helpers that tests call *inside* the child (``student.harness``).

They build objects that student functions take as arguments (a loader, a model, an optimizer),
so that a test of, say, a training loop does not depend on the student's own model. Nothing
here knows an expected value. Student code runs beside this module and can patch it, so what
a helper *reports* (counts, shapes, type names, settings) is a hint for messages; verdicts come
from `grader.checks`, which compare behaviour with what the trusted process computes.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


def tiny_dataset(
    n: int = 32, seed: int = 0, shape: tuple[int, ...] = (3, 8, 8), num_classes: int = 2
) -> TensorDataset:
    """A seeded data set of `n` random float images and integer labels."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn((n, *shape), generator=g)
    y = torch.randint(0, num_classes, (n,), generator=g)
    return TensorDataset(x, y)


def tiny_loader(
    n: int = 32,
    seed: int = 0,
    shape: tuple[int, ...] = (3, 8, 8),
    num_classes: int = 2,
    batch_size: int = 8,
    shuffle: bool = False,
) -> DataLoader:
    """A DataLoader over `tiny_dataset`; with `shuffle`, its order is seeded too."""
    g = torch.Generator().manual_seed(seed)
    return DataLoader(
        tiny_dataset(n, seed, tuple(shape), num_classes),
        batch_size=batch_size,
        shuffle=shuffle,
        generator=g,
    )


def loader_from_tensors(
    x: torch.Tensor, y: torch.Tensor, batch_size: int = 32, shuffle: bool = False, seed: int = 0
) -> DataLoader:
    """A DataLoader over given tensors (on the grading device); a shuffled order is seeded."""
    dev = device()
    g = torch.Generator().manual_seed(seed)
    return DataLoader(
        TensorDataset(x.to(dev), y.to(dev)), batch_size=batch_size, shuffle=shuffle, generator=g
    )


def device() -> torch.device:
    """The device training checks use: CUDA when there is one, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def to_device(obj: Any) -> Any:
    """Move a module (a model, or a criterion holding class weights) to the grading device, in
    place, and return it; anything else (a plain loss function) is returned as it is."""
    return obj.to(device()) if isinstance(obj, nn.Module) else obj


def synchronize() -> None:
    """Wait for queued CUDA work, so that wall times are honest."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """Logits of `model` on `x` in eval mode without gradients, on the CPU; the mode is restored."""
    was_training = model.training
    model.eval()
    dev = next((p.device for p in model.parameters()), torch.device("cpu"))
    outs = []
    try:
        with torch.no_grad():
            for i in range(0, len(x), batch_size):
                outs.append(model(x[i : i + batch_size].to(dev)).detach().to("cpu"))
    finally:
        model.train(was_training)
    return torch.cat(outs) if outs else torch.empty(0)


def tiny_model(
    in_shape: tuple[int, ...] = (3, 8, 8), num_classes: int = 2, seed: int = 0
) -> nn.Module:
    """A small seeded conv net: conv(→4, 3×3) → ReLU → flatten → linear."""
    torch.manual_seed(seed)
    c, h, w = in_shape
    return nn.Sequential(
        nn.Conv2d(c, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * h * w, num_classes)
    )


def make_optimizer(model: nn.Module, name: str = "sgd", lr: float = 0.1, **kwargs: Any) -> Any:
    """An optimizer over `model`'s trainable parameters ("sgd" or "adam")."""
    params = [p for p in model.parameters() if p.requires_grad]
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, **kwargs)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, **kwargs)
    raise ValueError(f"unknown optimizer {name!r}")


def make_criterion(name: str = "cross_entropy") -> nn.Module:
    """A loss module ("cross_entropy" or "mse")."""
    return {"cross_entropy": nn.CrossEntropyLoss, "mse": nn.MSELoss}[name]()


def sgd_step(model: nn.Module, x: torch.Tensor, grad_output: torch.Tensor, lr: float) -> None:
    """One plain SGD step over `model.parameters()`: the gradient of sum(model(x) · grad_output).

    Parameters that do not require gradients get none and stay as they are. The grader
    computes the expected result itself; this only drives the step.
    """
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    optimizer.zero_grad()
    out = model(x)
    if out.requires_grad:
        out.backward(grad_output.to(out.dtype))
    optimizer.step()


def set_grads(model: nn.Module, grads: dict[str, torch.Tensor]) -> None:
    """Set the `.grad` of each named parameter of `model` to the given tensor (others: None)."""
    for name, p in model.named_parameters():
        p.grad = grads[name].detach().to(p).clone() if name in grads else None


def value_and_grad(fn: Any, x: torch.Tensor, *args: Any) -> tuple[Any, torch.Tensor | None]:
    """`fn(x, *args)` and, when it is a differentiable scalar tensor, its gradient with respect to `x`."""
    x = x.detach().clone().requires_grad_(True)
    out = fn(x, *args)
    if not isinstance(out, torch.Tensor) or out.dim() != 0 or not out.requires_grad:
        return out, None
    out.backward()
    return out.detach(), x.grad


def parameters(model: nn.Module) -> dict[str, torch.Tensor]:
    """Every parameter of `model`, detached copies, by name."""
    return {k: v.detach().clone() for k, v in model.named_parameters()}


def requires_grad(model: nn.Module) -> dict[str, bool]:
    """Whether each named parameter is trainable."""
    return {k: bool(v.requires_grad) for k, v in model.named_parameters()}


def load_state(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Copy the given tensors into `model`'s parameters and buffers (strict)."""
    model.load_state_dict(state, strict=True)


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """The number of (trainable) parameter elements."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def forward(model: nn.Module, x: torch.Tensor, train: bool = False) -> torch.Tensor:
    """`model(x)` in eval (default) or train mode, without gradient tracking."""
    model.train(train)
    with torch.no_grad():
        return model(x)


def layer_output_shapes(model: nn.Module, x: torch.Tensor) -> dict[str, list[int]]:
    """The output shape of every named submodule on input `x`, via forward hooks."""
    shapes: dict[str, list[int]] = {}
    hooks = []
    for name, module in model.named_modules():
        if not name:
            continue

        def hook(_m: nn.Module, _i: Any, out: Any, name: str = name) -> None:
            if isinstance(out, torch.Tensor):
                shapes[name] = list(out.shape)

        hooks.append(module.register_forward_hook(hook))
    try:
        model.eval()
        with torch.no_grad():
            model(x)
    finally:
        for h in hooks:
            h.remove()
    return shapes


def module_types(model: nn.Module) -> dict[str, str]:
    """The class name of every named submodule."""
    return {name: type(m).__name__ for name, m in model.named_modules() if name}


class Recording(nn.Module):
    """A criterion that keeps every scalar loss it returns (a training check's step hints)."""

    def __init__(self, inner: Any) -> None:
        super().__init__()
        self.inner = inner
        self.losses: list[torch.Tensor] = []

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The inner criterion's loss, remembered."""
        loss = self.inner(*args, **kwargs)
        if isinstance(loss, torch.Tensor) and loss.dim() == 0:
            self.losses.append(loss.detach())
        return loss


def recording(criterion: Any) -> Recording:
    """`criterion` wrapped so that the losses of each step are kept (see `take_losses`)."""
    return Recording(criterion)


def take_losses(recorder: Recording) -> list[float]:
    """The losses recorded since the last call, as floats; the record is emptied."""
    losses, recorder.losses = recorder.losses, []
    return torch.stack(losses).double().cpu().tolist() if losses else []


def type_name(obj: Any) -> str:
    """The class name of `obj` (e.g. "Adam", "CrossEntropyLoss")."""
    return type(obj).__name__


def optimizer_settings(optimizer: Any) -> dict[str, Any]:
    """The optimizer's class name and its hyperparameters per group (no parameters)."""
    return {
        "type": type(optimizer).__name__,
        "groups": [{k: v for k, v in g.items() if k != "params"} for g in optimizer.param_groups],
    }


class NetworkAttempted(RuntimeError):
    """Code tried to open a connection or resolve a host name."""


def offline(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`fn(*args, **kwargs)` with every socket connection and name lookup an error.

    The sandbox has no network anyway; this turns a download attempt into one clear error
    (`NetworkAttempted`) instead of whatever a library makes of a refused socket.
    """

    def refuse(*_a: Any, **_k: Any) -> Any:
        raise NetworkAttempted("network access attempted (a download?); nothing may be downloaded")

    saved = socket.socket.connect, socket.create_connection, socket.getaddrinfo
    socket.socket.connect, socket.create_connection, socket.getaddrinfo = refuse, refuse, refuse  # type: ignore[method-assign]
    try:
        return fn(*args, **kwargs)
    finally:
        socket.socket.connect, socket.create_connection, socket.getaddrinfo = saved  # type: ignore[method-assign]
