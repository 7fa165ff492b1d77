"""Facts about a model in the child, decided from its behaviour checked in the trusted process.

Student code can patch everything the child runs (the harness, torch), so what the child
*reports* about a model (a parameter count, layer shapes, requires_grad) is only a hint for a
message. These helpers take the model's tensors by value, send tensors and inputs that the
grader chose, and compare what the model computes with what this process computes from the
same tensors with a `Definition` (the handout's network written with torch.nn.functional). A
model that matches a definition for random tensors on random inputs really has those layers.

Every call goes to the student's object itself (`module.state_dict()`, `module(x)`), not
through `student.harness`. `module` is a handle to an `nn.Module` in the child.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from grader.sandbox.host.client import Handle, StudentFailure
from grader.testing import assert_close

State = dict[str, torch.Tensor]
# A trusted computation: the module's output for input `x` when its tensors are `state`.
Definition = Callable[[Mapping[str, torch.Tensor], torch.Tensor], torch.Tensor]


def report_hint(report: Callable[[], Any], text: Callable[[Any], str]) -> Callable[[], str]:
    """A hint for a failure message: `text(report())` when asked, "" if either fails.

    `report` is typically a harness report (`lambda: h.requires_grad(model)`): forgeable, so it
    only ever adds words to a message that a behaviour check has already decided.
    """

    def make() -> str:
        with contextlib.suppress(Exception):
            return text(report())
        return ""

    return make


@contextlib.contextmanager
def hinted(hint: Callable[[], str] | None) -> Iterator[None]:
    """Append `hint()` to an AssertionError raised inside (the student's own errors pass as they are)."""
    try:
        yield
    except StudentFailure:
        raise
    except AssertionError as exc:
        note = ""
        if hint is not None:
            with contextlib.suppress(Exception):
                note = hint()
        if not note:
            raise
        raise AssertionError(f"{exc}{note}") from None


def _module(module: Any, what: str) -> Handle:
    if not isinstance(module, Handle):
        raise AssertionError(f"{what}: expected a model object, got plain data ({type(module).__name__})")
    return module


def state_of(module: Any, *, what: str = "the model") -> State:
    """`module.state_dict()` by value: its tensors by name, detached copies."""
    state = _module(module, what).state_dict()
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise AssertionError(f"{what}.state_dict() did not give a dict of names to tensors")
    return {k: v.detach() for k, v in state.items()}


def count_elements(state: Mapping[str, torch.Tensor]) -> int:
    """The number of elements of all tensors in `state`."""
    return sum(int(t.numel()) for t in state.values())


def assert_shapes(state: Mapping[str, torch.Tensor], shapes: Mapping[str, Sequence[int]], *, what: str) -> None:
    """`state` holds exactly the tensors named in `shapes`, each of its shape."""
    missing, extra = sorted(set(shapes) - set(state)), sorted(set(state) - set(shapes))
    if missing or extra:
        parts = [f"missing {missing}" if missing else "", f"unexpected {extra}" if extra else ""]
        raise AssertionError(f"{what}: tensors {', '.join(p for p in parts if p)} (it has {sorted(state)})")
    for name, shape in shapes.items():
        if tuple(state[name].shape) != tuple(shape):
            raise AssertionError(
                f"{what}: {name} has shape {tuple(state[name].shape)}, expected {tuple(shape)}"
            )


def random_state(
    shapes: Mapping[str, Sequence[int]],
    *,
    generator: torch.Generator,
    scale: float | Mapping[str, float] = 1.0,
) -> State:
    """Grader-chosen float32 tensors N(0, scale²), one per name (`scale` may be per name)."""
    out = {}
    for name, shape in shapes.items():
        s = scale[name] if isinstance(scale, Mapping) else scale
        out[name] = s * torch.randn(tuple(shape), generator=generator)
    return out


def load_state(module: Any, state: Mapping[str, torch.Tensor], *, what: str = "the model") -> None:
    """`module.load_state_dict(state, strict=True)` with the grader's tensors."""
    _module(module, what).load_state_dict({k: v.detach().clone() for k, v in state.items()}, strict=True)


def outputs(module: Any, x: torch.Tensor, *, what: str = "the model") -> torch.Tensor:
    """`module(x)` in eval mode, by value."""
    m = _module(module, what)
    m.eval()
    out = m(x.detach())
    if not isinstance(out, torch.Tensor):
        raise AssertionError(f"{what}(x) gave {type(out).__name__}, expected a tensor")
    return out.detach()


def _shape_text(x: torch.Tensor) -> str:
    return "×".join(str(d) for d in x.shape)


def assert_behaves_like(
    module: Any,
    expected: Callable[[torch.Tensor], torch.Tensor],
    inputs: Sequence[torch.Tensor],
    *,
    what: str,
    rtol: float = 1e-4,
    atol: float = 1e-5,
) -> None:
    """`module(x)` matches `expected(x)`, computed here, on each grader-chosen input."""
    for x in inputs:
        with torch.no_grad():
            want = expected(x)
        assert_close(outputs(module, x, what=what), want, rtol=rtol, atol=atol, what=f"{what} on a {_shape_text(x)} input")


def assert_computes(
    module: Any,
    definition: Definition,
    state: Mapping[str, torch.Tensor],
    inputs: Sequence[torch.Tensor],
    *,
    what: str,
    rtol: float = 1e-4,
    atol: float = 1e-5,
) -> None:
    """Load the grader's tensors `state` into `module`; its outputs must be `definition(state, x)`."""
    load_state(module, state, what=what)
    assert_behaves_like(module, lambda x: definition(state, x), inputs, what=what, rtol=rtol, atol=atol)


def definition_of(local: nn.Module) -> Definition:
    """The definition of a trusted module built here (e.g. a stand-in from the grader's text).

    The tensors given to it must be exactly the module's (AssertionError otherwise).
    """
    shapes = {k: tuple(v.shape) for k, v in local.state_dict().items()}

    def run(state: Mapping[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        assert_shapes(state, shapes, what="the model")
        local.eval()
        return torch.func.functional_call(local, dict(state), (x,))

    return run


def conv2d(**options: Any) -> Definition:
    """A conv layer's definition: `F.conv2d(x, weight, bias, **options)`."""
    return lambda p, x: F.conv2d(x, p["weight"], p.get("bias"), **options)


def linear() -> Definition:
    """A fully connected layer's definition: `F.linear(x, weight, bias)`."""
    return lambda p, x: F.linear(x, p["weight"], p.get("bias"))


def submodule(module: Any, path: str, *, what: str = "the model") -> Handle:
    """The submodule at a dotted `path` (`"conv1"`, `"features.0"`), as a handle."""
    try:
        sub = functools.reduce(getattr, path.split("."), _module(module, what))
    except StudentFailure:
        raise AssertionError(f"{what} has no layer `{path}`") from None
    return _module(sub, f"{what}.{path}")


def _pair(v: Any) -> tuple[int, ...]:
    return tuple(v) if isinstance(v, list | tuple) else (v, v)


def layer_definition(layer: Any, state: Mapping[str, torch.Tensor], *, what: str) -> tuple[Definition, tuple[int, ...]]:
    """What a conv2d or linear layer with tensors `state` computes, and a one-sample input shape.

    The kind follows from the weight (4-D: conv2d with zero padding, 2-D: linear). A conv's
    stride, padding, dilation and groups are read from the layer: reports, which the caller
    verifies by comparing the layer's outputs with this definition.
    """
    w = state.get("weight")
    if w is None or set(state) - {"weight", "bias"} or w.dim() not in (2, 4):
        raise AssertionError(f"{what}: only conv2d and linear layers can be checked (tensors {sorted(state)})")
    if w.dim() == 2:
        return linear(), (int(w.shape[1]),)
    options: dict[str, Any] = {}
    try:
        for key in ("stride", "padding", "dilation", "groups"):
            options[key] = getattr(layer, key)
    except StudentFailure:
        raise AssertionError(f"{what}: a 4-D weight, but no conv2d settings (stride, padding, …)") from None
    ok = all(
        isinstance(v, int | str) or (isinstance(v, list | tuple) and all(type(e) is int for e in v))
        for v in options.values()
    )
    if not ok or type(options["groups"]) is not int:
        raise AssertionError(f"{what}: conv2d settings that are not numbers ({options!r})")
    dilation = _pair(options["dilation"])
    side = max(d * (k - 1) + 1 for d, k in zip(dilation, w.shape[2:], strict=False)) + 4
    return conv2d(**options), (int(w.shape[1]) * options["groups"], side, side)


def verified_state(
    sub: Any,
    model: Any,
    *,
    generator: torch.Generator,
    trainable: bool = False,
    lr: float = 0.01,
    what: str = "the model",
) -> State:
    """`model.state_dict()` by value, each tensor shown to be used by its layer.

    Every tensor must be the weight or bias of a conv2d or linear layer (found by name:
    `conv1.weight` → `model.conv1`) whose outputs on a random input match that computation
    with these very tensors. With `trainable`, each layer must also take one exact SGD step
    (`assert_sgd_steps`): its tensors are learnable. Returns the state before that step.
    """
    from grader.checks.optim import assert_sgd_steps  # one module per concern; optim uses this one

    state = state_of(model, what=what)
    for name in sorted({k.rpartition(".")[0] for k in state}):
        own = {k.rpartition(".")[2]: v for k, v in state.items() if k.rpartition(".")[0] == name}
        label = f"{what}.{name}" if name else what
        layer = submodule(model, name, what=what) if name else model
        layer_state = state_of(layer, what=label)
        if set(layer_state) != set(own) or not all(torch.equal(layer_state[k], own[k]) for k in own):
            raise AssertionError(f"the tensors that {what}.state_dict() gives for `{name}` are not {label}'s own")
        definition, in_shape = layer_definition(layer, own, what=label)
        x = torch.randn((2, *in_shape), generator=generator)
        uses_own = functools.partial(definition, own)
        assert_behaves_like(layer, uses_own, [x], what=f"{label} with its own tensors")
        if trainable:
            g = torch.randn(uses_own(x).shape, generator=generator)
            assert_sgd_steps(
                sub, layer, definition, [(x, g)], lr=lr, probes=[torch.randn(x.shape, generator=generator)], what=label
            )
    return state


def init_tolerance(n: int, *, z: float = 5.0) -> float:
    """The relative tolerance on the root-mean-square of `n` N(0, σ²) draws: `z` standard errors.

    The RMS of n independent draws estimates σ with a relative standard error of about
    1/√(2n); `z` = 5 makes a false failure about a one-in-a-million event.
    """
    return z / math.sqrt(2 * max(n, 1))


def assert_init_statistics(
    samples: Mapping[str, Sequence[torch.Tensor]],
    sigma: Mapping[str, float],
    *,
    z: float = 5.0,
    what: str = "the model",
) -> None:
    """Each named weight, pooled over `samples[name]` (fresh models' tensors, by value), has
    mean ≈ 0 and root-mean-square ≈ `sigma[name]`, within tolerances derived from the count.

    Use it with tensors from `verified_state` (each shown to be used by its layer), so the
    statistics are those of the weights the model computes with.
    """
    for name, s in sigma.items():
        if name not in samples or not samples[name]:
            raise AssertionError(f"{what} has no parameter `{name}` (parameters: {sorted(samples)})")
        w = torch.cat([torch.as_tensor(t).detach().double().reshape(-1) for t in samples[name]]).numpy()
        rms = float(np.sqrt(np.mean(w**2)))
        pooled = f"pooled over {len(samples[name])} models, {w.size:,} values"
        assert_close(rms, s, rtol=init_tolerance(w.size, z=z), what=f"root-mean-square of {name} after initialisation (σ; {pooled})")
        assert_close(float(w.mean()), 0.0, atol=z * s / math.sqrt(w.size) + 1e-12, what=f"mean of {name} after initialisation ({pooled})")
