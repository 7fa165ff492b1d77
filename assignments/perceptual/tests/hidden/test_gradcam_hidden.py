"""Hidden tests of `gradcam.GradCAM`: a strided network whose target layer needs resizing, a
residual stand-in, repeated calls on one object, and each image's own class in a batch. The
expected maps are computed here with autograd on twins that hold the child's tensors."""

from __future__ import annotations

import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from grader.checks.modules import state_of, submodule
from grader.testing import assert_close, points

from ..public import probe_nets
from ..public.test_gradcam import cam_of, checked_maps, gradcam_here, twins
from . import standins


@points(2, part="gradcam")
@settings(max_examples=5)
@given(seed=st.integers(0, 1000), n=st.integers(1, 3), h=st.integers(6, 14), w=st.integers(6, 14),
       class_idx=st.one_of(st.none(), st.integers(0, 3)))
@example(seed=3, n=2, h=12, w=9, class_idx=None)
@example(seed=4, n=1, h=8, w=13, class_idx=1)
def test_matches_gradcam_on_a_strided_network(student, seed, n, h, w, class_idx):
    """GradCAM at a layer of lower resolution than the input (gradients that vary over positions): the handout's formula, resized bilinearly to H×W, scaled to [0, 1]."""
    child, local = twins(student, probe_nets.StridedCamNet, "StridedCamNet", seed=seed)
    x = torch.randn(n, 3, h, w, generator=torch.Generator().manual_seed(seed))
    want = gradcam_here(local, local.body[6], x, class_idx)
    got = cam_of(student, child, "body.6", x, class_idx)
    assert_close(got, want, rtol=1e-4, atol=2e-4, what=f"Grad-CAM maps at `body.6` for x of shape {tuple(x.shape)}, class {'argmax' if class_idx is None else class_idx}")


@points(1, part="gradcam")
def test_on_a_residual_network(student):
    """GradCAM at the residual block of a small residual network (the grader's stand-in)."""
    for seed in (0, 1):
        child = student.ship(standins).SmallResNet(None, seed=seed)
        local = standins.SmallResNet(None, seed=seed)
        local.load_state_dict(state_of(child, what="the grader's residual network"))
        x = torch.randn(2, 3, 7, 9, generator=torch.Generator().manual_seed(seed))
        got = cam_of(student, child, "block", x)
        assert_close(got, gradcam_here(local, local.block, x), rtol=1e-4, atol=2e-4, what=f"Grad-CAM maps at the residual block (seed {seed})")


@points(1, part="gradcam")
def test_each_call_uses_its_own_input(student):
    """One GradCAM object called three times with different inputs: each map is that input's own (nothing kept from an earlier call)."""
    child, local = twins(student, probe_nets.StridedCamNet, "StridedCamNet", seed=21)
    cam = student.gradcam.GradCAM(child, submodule(child, "body.6", what="StridedCamNet"))
    try:
        for i, (h, w) in enumerate([(10, 10), (12, 8), (10, 10)]):
            x = torch.randn(2, 3, h, w, generator=torch.Generator().manual_seed(100 + i))
            got = checked_maps(cam(x), (2, h, w), f"call {i + 1} of one GradCAM object")
            assert_close(got, gradcam_here(local, local.body[6], x), rtol=1e-4, atol=2e-4, what=f"Grad-CAM maps of call {i + 1} of one GradCAM object")
    finally:
        cam.close()


@points(1, part="gradcam")
def test_each_image_gets_its_own_class(student):
    """GradCAM without class_idx on a batch: each image's map is for its own largest logit, as if it were alone."""
    child, local = twins(student, probe_nets.StridedCamNet, "StridedCamNet", seed=31)
    pool = 4 * torch.randn(64, 3, 8, 8, generator=torch.Generator().manual_seed(31))
    with torch.no_grad():
        classes = local(pool).argmax(dim=1).tolist()
    firsts = {c: classes.index(c) for c in sorted(set(classes))}
    if len(firsts) < 2:
        raise RuntimeError("choose another network: every image picks the same class")
    index = sorted(set(list(firsts.values())[:3]) | {0, 1})[:4]
    x = pool[index]
    picked = [classes[i] for i in index]
    want = torch.cat([gradcam_here(local, local.body[6], x[i : i + 1]) for i in range(len(index))])
    got = cam_of(student, child, "body.6", x)
    assert_close(got, want, rtol=1e-4, atol=2e-4, what=f"Grad-CAM maps of a batch whose images pick classes {picked}")
