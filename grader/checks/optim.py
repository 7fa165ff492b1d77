"""Parameters before and after optimizer steps that the grader drives, checked here.

The child runs the step (`student.harness.sgd_step`, or the student's own optimizer's
`step()` after `student.harness.set_grads`); the trusted process computes the same steps itself
on the same tensors, compares the parameters that come back by value, and then checks that
they are the model's real ones (its outputs on fresh inputs match a `Definition` with them).
So freezing, learnability and optimizer settings are decided by behaviour, not by reported
`requires_grad` flags or `param_groups`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

import torch

from grader.checks.modules import (
    Definition,
    State,
    assert_behaves_like,
    hinted,
    load_state,
    state_of,
)
from grader.testing import assert_close

Step = tuple[torch.Tensor, torch.Tensor]  # (input x, output gradient G): the loss is sum(module(x)·G)


def expected_sgd_steps(
    definition: Definition,
    state: Mapping[str, torch.Tensor],
    steps: Sequence[Step],
    *,
    lr: float,
    frozen: Collection[str] = (),
) -> State:
    """The tensors after plain SGD steps on sum(definition(state, x)·G); `frozen` ones stay."""
    params = {k: v.detach().clone() for k, v in state.items()}
    for x, g in steps:
        live = {k: v.clone().requires_grad_(k not in frozen) for k, v in params.items()}
        names = [k for k in live if k not in frozen]
        loss = (definition(live, x) * g).sum()
        grads = torch.autograd.grad(loss, [live[k] for k in names], allow_unused=True)
        for k, grad in zip(names, grads, strict=True):
            if grad is not None:
                params[k] = params[k] - lr * grad
    return params


def _assert_tensor_close(got: torch.Tensor, want: torch.Tensor, *, what: str, rtol: float, atol: float) -> None:
    """Shapes must agree; values are shown flattened (short messages for 4-D weights)."""
    if tuple(got.shape) != tuple(want.shape):
        raise AssertionError(f"{what}: expected shape {tuple(want.shape)}, got shape {tuple(got.shape)}")
    assert_close(got.flatten(), want.flatten(), rtol=rtol, atol=atol, what=f"{what} (flattened)")


def _max_change(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.double() - b.double()).abs().max()) if a.numel() else 0.0


def assert_sgd_steps(
    sub: Any,
    module: Any,
    definition: Definition,
    steps: Sequence[Step],
    *,
    lr: float,
    probes: Sequence[torch.Tensor],
    frozen: Collection[str] = (),
    what: str = "the model",
    hints: Callable[[], Mapping[str, str]] | None = None,
    rtol: float = 1e-4,
    atol: float = 1e-5,
) -> State:
    """Drive plain SGD steps on `module` in the child and check every tensor afterwards.

    A `frozen` tensor must come back unchanged, every other one exactly as `expected_sgd_steps`
    computes it here; then `module`'s outputs on `probes` must match `definition` with the
    tensors that came back (so they are its real ones). Tensors that are not parameters
    (buffers) belong in `frozen`. `hints` (called only on failure; e.g. what the child reports
    about `requires_grad`) gives a note per tensor name for its message. Returns the tensors
    after the steps.
    """

    def note(name: str) -> str:
        with contextlib.suppress(Exception):
            text = hints().get(name) if hints is not None else None
            return f" ({text})" if text else ""
        return ""

    before = state_of(module, what=what)
    want = expected_sgd_steps(definition, before, steps, lr=lr, frozen=frozen)
    for name in want:
        if name not in frozen and _max_change(want[name], before[name]) <= 10 * atol:
            raise RuntimeError(f"the grader's steps do not move {name}; choose other inputs")
    for x, g in steps:
        sub.harness.sgd_step(module, x, g, lr)
    after = state_of(module, what=what)
    if set(after) != set(before):
        raise AssertionError(f"{what}: its tensors changed names in an SGD step ({sorted(before)} → {sorted(after)})")
    n = f"{len(steps)} plain SGD step{'s' if len(steps) > 1 else ''} (lr {lr:g})"
    for name in before:
        if after[name].shape != before[name].shape:
            raise AssertionError(f"{what}: {name} changed shape in an SGD step ({tuple(before[name].shape)} → {tuple(after[name].shape)})")
        moved = _max_change(after[name], before[name])
        if name in frozen:
            if moved != 0.0:
                raise AssertionError(f"{what}: {name} changed by up to {moved:.3g} in {n} although it should be frozen{note(name)}")
        elif moved == 0.0:
            raise AssertionError(f"{what}: {name} did not change in {n} although it should be trainable{note(name)}")
        else:
            with hinted(lambda name=name: note(name)):
                _assert_tensor_close(after[name], want[name], rtol=rtol, atol=atol, what=f"{what}: {name} after {n}")
    assert_behaves_like(
        module, lambda x: definition(after, x), probes, what=f"{what} with the tensors it gives after {n}"
    )
    return after


def expected_optimizer_steps(
    make: Callable[[list[torch.nn.Parameter]], torch.optim.Optimizer],
    start: Mapping[str, torch.Tensor],
    grads: Sequence[Mapping[str, torch.Tensor]],
) -> State:
    """The tensors after `make(parameters).step()` with each set of gradients in turn, run here."""
    params = {k: torch.nn.Parameter(v.detach().clone()) for k, v in start.items()}
    optimizer = make(list(params.values()))
    for g in grads:
        for k, p in params.items():
            p.grad = g[k].detach().clone() if k in g else None
        optimizer.step()
    return {k: p.detach().clone() for k, p in params.items()}


def assert_optimizer_steps(
    sub: Any,
    optimizer: Any,
    module: Any,
    definition: Definition,
    make: Callable[[list[torch.nn.Parameter]], torch.optim.Optimizer],
    *,
    start: Mapping[str, torch.Tensor],
    grads: Sequence[Mapping[str, torch.Tensor]],
    probes: Sequence[torch.Tensor],
    what: str,
    hint: Callable[[], str] | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> State:
    """Drive the student's `optimizer` (built over `module`'s parameters) and compare with `make` here.

    The grader loads `start` into `module`, sets each step's gradients (`harness.set_grads`)
    and calls `optimizer.step()`; the parameters that come back must be those of the same steps
    of `make(parameters)` run here (e.g. `lambda ps: torch.optim.Adam(ps, lr=1e-3)`). Two steps
    with gradients of mixed sizes tell optimizers, learning rates and weight decays apart.
    `hint` (called only on failure) may add what the child reports about the optimizer.
    """
    load_state(module, start, what=what)
    for g in grads:
        sub.harness.set_grads(module, dict(g))
        optimizer.step()
    after = state_of(module, what=what)
    want = expected_optimizer_steps(make, start, grads)
    n = f"{len(grads)} optimizer step{'s' if len(grads) > 1 else ''} with the grader's gradients"
    with hinted(hint):
        if set(after) != set(want):
            raise AssertionError(f"{what}: the model's tensors changed names ({sorted(want)} → {sorted(after)})")
        for name in want:
            _assert_tensor_close(after[name], want[name], rtol=rtol, atol=atol, what=f"{what}: {name} after {n}")
    assert_behaves_like(module, lambda x: definition(after, x), probes, what=f"{what}: the model after {n}")
    return after
