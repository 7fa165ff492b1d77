"""Public tests of `gradcam.GradCAM`: map shape and range, the hand formula on a tiny net,
hooks removed by close() and by the context manager.

The networks are the grader's (`probe_nets.CamNet`), built in the child and handed to your
class; their twins here, with the child's very tensors, give the expected maps.
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch
import torch.nn.functional as F
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from grader.checks.modules import state_of, submodule
from grader.testing import assert_close, assert_equal, points

from . import probe_nets


def probes_in(student: Any) -> Any:
    """The grader's networks and probes, loaded in the child."""
    return student.ship(probe_nets)


def twins(student: Any, make: Any, name: str, **kwargs: Any) -> tuple[Any, torch.nn.Module]:
    """A grader network in the child and its twin here, with the child's very tensors."""
    child = getattr(probes_in(student), name)(**kwargs)
    local = make(**kwargs)
    local.load_state_dict(state_of(child, what=f"the grader's {name}"))
    return child, local


def minmax(up: torch.Tensor) -> torch.Tensor:
    """Each N×H×W map scaled to [0, 1]: (m − min) / (max − min), zeros where max = min."""
    lo = up.amin(dim=(1, 2), keepdim=True)
    span = up.amax(dim=(1, 2), keepdim=True) - lo
    return torch.where(span > 0, (up - lo) / torch.where(span > 0, span, torch.ones_like(span)), torch.zeros_like(up))


def checked_maps(got: Any, shape: tuple[int, ...], what: str) -> torch.Tensor:
    """`got` is a tensor of the given shape, finite."""
    assert isinstance(got, torch.Tensor), f"{what} returned {type(got).__name__}, expected a tensor"
    assert_equal(tuple(got.shape), shape, what=f"shape of {what}")
    assert bool(torch.isfinite(got).all()), f"{what} has non-finite values"
    return got.detach().double()


def cam_of(student: Any, model: Any, layer: str, x: torch.Tensor, class_idx: int | None = None) -> torch.Tensor:
    """GradCAM(model, model.<layer>)(x, class_idx) in the child, closed afterwards; the maps by value."""
    cam = student.gradcam.GradCAM(model, submodule(model, layer, what="the grader's network"))
    try:
        got = cam(x, class_idx) if class_idx is not None else cam(x)
    except BaseException:
        with contextlib.suppress(Exception):  # the call's own failure is the one to show
            cam.close()
        raise
    cam.close()
    n, _, h, w = x.shape
    return checked_maps(got, (n, h, w), f"GradCAM(model, model.{layer})(x{'' if class_idx is None else f', {class_idx}'}) for x of shape {tuple(x.shape)}")


@points(2, part="gradcam")
@settings(max_examples=8)
@given(seed=st.integers(0, 1000), n=st.integers(1, 3), h=st.integers(3, 10), w=st.integers(3, 10))
@example(seed=0, n=2, h=6, w=8)
def test_maps_have_input_resolution_and_span_0_to_1(student, seed, n, h, w):
    """GradCAM(model, layer)(x): one H×W map per image, in [0, 1]: its minimum 0 and its maximum 1 (all 0 only when the map is flat)."""
    model = probes_in(student).CamNet(seed=seed)
    x = torch.randn(n, 3, h, w, generator=torch.Generator().manual_seed(seed))
    got = cam_of(student, model, "features", x)
    for i in range(n):
        lo, hi = float(got[i].min()), float(got[i].max())
        assert lo >= 0.0 and hi <= 1.0 + 1e-6, f"map {i} spans [{lo:.4g}, {hi:.4g}], outside [0, 1]"
        assert hi == 0.0 or (abs(lo) <= 1e-6 and abs(hi - 1.0) <= 1e-5), f"map {i} spans [{lo:.4g}, {hi:.4g}]: expected min 0 and max 1 after (m − min) / (max − min)"


@points(2, part="gradcam")
@settings(max_examples=5)
@given(seed=st.integers(0, 1000), class_idx=st.one_of(st.none(), st.integers(0, 2)))
@example(seed=1, class_idx=None)
@example(seed=2, class_idx=2)
def test_hand_formula_on_a_gap_linear_net(student, seed, class_idx):
    """GradCAM on features → global average pooling → fc: α_k = w[c, k] / (h·w), so the map is minmax(ReLU(Σ_k w[c, k]·A_k)) (c: the class given, else the largest logit)."""
    child, local = twins(student, probe_nets.CamNet, "CamNet", seed=seed)
    x = torch.randn(2, 3, 7, 6, generator=torch.Generator().manual_seed(seed + 1))
    with torch.no_grad():
        a = local.features(x)
        logits = local(x)
    c = logits.argmax(dim=1) if class_idx is None else torch.full((2,), class_idx)
    w = local.fc.weight[c]  # N×K
    raw = torch.relu(torch.einsum("nk,nkhw->nhw", w, a) / (a.shape[2] * a.shape[3]))
    spans = raw.amax(dim=(1, 2)) - raw.amin(dim=(1, 2))
    assume(bool(((spans == 0) | (spans > 1e-3)).all()))  # a near-flat map would only measure rounding
    want = minmax(raw).double()
    got = cam_of(student, child, "features", x, class_idx)
    assert_close(got, want, rtol=1e-4, atol=1e-4, what=f"Grad-CAM maps of class {'argmax' if class_idx is None else class_idx} against the hand formula")


@points(1, part="gradcam")
def test_close_and_the_context_manager_remove_the_hooks(student):
    """GradCAM: after close(), and after a `with GradCAM(...) as cam:` block, no hook is left on the model."""
    probes = probes_in(student)
    x = torch.randn(2, 3, 6, 6, generator=torch.Generator().manual_seed(4))
    model = probes.CamNet(seed=4)
    cam = student.gradcam.GradCAM(model, submodule(model, "features", what="CamNet"))
    checked_maps(cam(x), (2, 6, 6), "GradCAM(...)(x)")
    cam.close()
    n = probes.hook_count(model)
    assert n == 0, f"after close(), {n} hook(s) are still registered on the model"
    model = probes.CamNet(seed=5)
    got = probes.cam_in_context(student.gradcam.GradCAM, model, submodule(model, "features.2", what="CamNet"), x)
    checked_maps(got, (2, 6, 6), "GradCAM(...)(x) inside a with block")
    n = probes.hook_count(model)
    assert n == 0, f"after a `with GradCAM(...) as cam:` block, {n} hook(s) are still registered on the model"


def gradcam_here(model: torch.nn.Module, layer: torch.nn.Module, x: torch.Tensor, class_idx: int | None = None) -> torch.Tensor:
    """Grad-CAM computed here with autograd: the handout's formula, bilinear resize, min-max."""
    kept: dict[str, torch.Tensor] = {}
    handle = layer.register_forward_hook(lambda _m, _i, o: kept.__setitem__("a", o))
    try:
        logits = model(x)
    finally:
        handle.remove()
    a = kept["a"]
    c = logits.argmax(dim=1) if class_idx is None else torch.full((len(x),), class_idx)
    (grads,) = torch.autograd.grad(logits.gather(1, c[:, None]).sum(), a)
    cam = torch.relu((grads.mean(dim=(2, 3), keepdim=True) * a).sum(dim=1, keepdim=True))
    up = F.interpolate(cam, size=tuple(x.shape[-2:]), mode="bilinear", align_corners=False)[:, 0]
    return minmax(up.detach()).double()
