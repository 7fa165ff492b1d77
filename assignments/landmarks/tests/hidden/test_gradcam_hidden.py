"""Hidden tests of Grad-CAM: definitions on random inputs, linearity, and the full `gradcam` on small models.

The full method is compared with an independent implementation that runs here, in the grading
process, on a copy of the same small model (same definition, same weights).
"""

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from assignments.landmarks import nets
from grader.testing import assert_close, assert_equal, points

FLOATS = st.floats(-10, 10, width=32)
SHAPES = st.tuples(st.integers(1, 5), st.integers(1, 7), st.integers(1, 7))
ARRAYS = SHAPES.flatmap(lambda s: hnp.arrays(np.float32, s, elements=FLOATS))
EXAMPLE = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4) - 10  # K=2, H=3, W=4


@st.composite
def maps_and_weights(draw):
    """K×H×W activations and K weights, any signs."""
    acts = draw(ARRAYS)
    return acts, draw(hnp.arrays(np.float32, acts.shape[:1], elements=FLOATS))


@st.composite
def linearity_cases(draw):
    """Activations, two non-negative weight vectors and a factor c ≥ 0."""
    acts = draw(ARRAYS)
    weights = hnp.arrays(np.float32, acts.shape[:1], elements=st.floats(0, 10, width=32))
    return acts, draw(weights), draw(weights), draw(st.floats(0, 4, width=32))


def _independent_gradcam(model, x, target_class, layer, align_corners):
    store = {}
    handle = layer.register_forward_hook(lambda _m, _i, out: store.__setitem__("a", out))
    try:
        logits = model(x[None])
    finally:
        handle.remove()
    acts = store["a"]
    (grads,) = torch.autograd.grad(logits[0, target_class], acts)
    alphas = grads[0].mean(dim=(1, 2))
    cam = F.relu((alphas[:, None, None] * acts[0]).sum(dim=0)).detach()
    cam = F.interpolate(
        cam[None, None], size=x.shape[-2:], mode="bilinear", align_corners=align_corners
    )[0, 0]
    peak = cam.max()
    return cam / peak if peak > 0 else cam


@points(1, part="gradcam")
@given(grads=ARRAYS)
@example(grads=EXAMPLE)
def test_weights_match_definition(student, grads):
    """gradcam_weights: α_k = mean of grads[k] over H×W, for any K×H×W gradients."""
    got = student.gradcam.gradcam_weights(torch.from_numpy(grads))
    assert_close(
        got,
        grads.astype(np.float64).mean(axis=(1, 2)),
        rtol=1e-4,
        atol=1e-5,
        what=f"gradcam_weights of {grads.shape} gradients",
    )


@points(1, part="gradcam")
@given(case=maps_and_weights())
@example(case=(EXAMPLE, np.array([0.5, -0.25], dtype=np.float32)))
def test_map_matches_definition(student, case):
    """gradcam_map: ReLU(Σ_k α_k A^k) for any K×H×W activations and K weights."""
    acts, alphas = case
    expected = np.maximum((alphas.astype(np.float64)[:, None, None] * acts).sum(axis=0), 0)
    got = student.gradcam.gradcam_map(torch.from_numpy(acts), torch.from_numpy(alphas))
    assert_close(
        got, expected, rtol=1e-4, atol=1e-3, what=f"gradcam_map of {acts.shape} activations"
    )


@points(1, part="gradcam")
@given(case=linearity_cases())
@example(
    case=(
        EXAMPLE,
        np.array([0.5, 2.0], dtype=np.float32),
        np.array([1.0, 0.0], dtype=np.float32),
        np.float32(3.0),
    )
)
def test_map_is_linear_in_alpha(student, case):
    """gradcam_map: scaling α by c ≥ 0 scales the map by c; with non-negative A, α ↦ map is additive."""
    acts, a1, a2, c = case
    pos = np.abs(acts)
    gmap = student.gradcam.gradcam_map
    t = torch.from_numpy
    base = np.asarray(gmap(t(acts), t(a1)), dtype=np.float64)
    scaled = np.asarray(gmap(t(acts), t(np.float32(c) * a1)), dtype=np.float64)
    assert_close(
        scaled,
        float(c) * base,
        rtol=1e-4,
        atol=1e-3,
        what=f"gradcam_map(A, {c:g}·α) compared with {c:g}·gradcam_map(A, α)",
    )
    total = np.asarray(gmap(t(pos), t(a1 + a2)), dtype=np.float64)
    parts = np.asarray(gmap(t(pos), t(a1)), dtype=np.float64) + np.asarray(
        gmap(t(pos), t(a2)), dtype=np.float64
    )
    assert_close(
        total,
        parts,
        rtol=1e-4,
        atol=1e-3,
        what="gradcam_map(A, α1 + α2) compared with gradcam_map(A, α1) + gradcam_map(A, α2) for A ≥ 0",
    )


@points(2, part="gradcam")
@settings(max_examples=8)
@given(
    seed=st.integers(0, 10_000),
    size=st.tuples(st.integers(4, 13), st.integers(4, 13)),
    target_class=st.integers(0, 2),
    layer=st.sampled_from(["conv1", "conv2"]),
)
@example(seed=0, size=(6, 9), target_class=1, layer="conv2")
def test_gradcam_matches_independent_implementation(student, seed, size, target_class, layer):
    """gradcam: hooks the layer, α from the gradients, ReLU map upsampled to H×W and scaled to [0, 1] (random small models)."""
    h = student.harness
    child_model = student.ship(nets).GradcamNet(seed=seed)  # built in the child; its twin here
    params = h.parameters(child_model)
    model = nets.GradcamNet(seed=0)
    model.load_state_dict(params)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(3, *size, generator=g)
    cam = student.gradcam.gradcam(child_model, x, target_class, getattr(child_model, layer))
    cam = np.asarray(cam, dtype=np.float64)
    assert_equal(
        cam.shape, tuple(size), what=f"shape of the Grad-CAM map for a 3×{size[0]}×{size[1]} input"
    )
    assert cam.min() >= 0 and cam.max() <= 1 + 1e-6, (
        f"the Grad-CAM map should lie in [0, 1], got [{cam.min():.4g}, {cam.max():.4g}]"
    )
    candidates = [
        _independent_gradcam(model, x, target_class, getattr(model, layer), ac)
        for ac in (False, True)
    ]
    if any(np.allclose(cam, c.numpy(), rtol=1e-4, atol=1e-5) for c in candidates):
        return
    # Not within tolerance of either upsampling convention: report against the usual one.
    assert_close(
        cam,
        candidates[0],
        rtol=1e-4,
        atol=1e-5,
        what=f"Grad-CAM map of class {target_class} at {layer}",
    )
