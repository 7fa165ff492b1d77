"""Hidden tests of `interpret` on random grader networks: feature maps, CAM of a GAP + linear net,
guided backpropagation against an implementation here, the model left as it was, plot sizes."""

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.checks.modules import outputs
from grader.testing import assert_close, assert_equal, points

from ..public.test_interpret import (
    assert_grid_png,
    assert_maps_match,
    checked_maps,
    guided_saliency,
    must_raise,
    probe_net_pair,
    probes_in,
)

ALL_NAMES = ["features", "features.0", "features.1", "features.2", "features.3", "features.4", "pool", "drop", "fc"]


@points(2, part="interpret")
@settings(max_examples=6)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 3),
    size=st.tuples(st.integers(3, 10), st.integers(3, 10)),
    names=st.lists(st.sampled_from(ALL_NAMES), min_size=1, max_size=4, unique=True),
)
@example(seed=7, n=2, size=(5, 9), names=["features.0", "features.3", "features"])
def test_feature_maps_match_for_random_networks(student, seed, n, size, names):
    """feature_maps: each named module's output (nested names too) for random networks, batch sizes and image sizes."""
    g = torch.Generator().manual_seed(seed)
    x = 2 * torch.randn(n, 3, *size, generator=g)
    if "features.0" not in names:
        names = [*names, "features.0"]
    assert_maps_match(student, seed, x, names)


@points(1, part="interpret")
def test_feature_maps_cleans_up_when_the_forward_pass_fails(student):
    """feature_maps: when the forward pass raises (a 1-channel image for a 3-channel net), no hook is left and the mode is restored."""
    probes = probes_in(student)
    child, _ = probe_net_pair(student, 2)
    child.train()
    x = torch.randn(2, 3, 8, 8)
    checked_maps(student.interpret.feature_maps(child, x, ["features.0"]), ["features.0"], "feature_maps(model, x, ['features.0'])")
    must_raise(lambda: student.interpret.feature_maps(child, torch.randn(2, 1, 8, 8), ["features.0", "fc"]))
    n = probes.hook_count(child)
    assert n == 0, f"after feature_maps failed on a bad input, {n} hook(s) are still registered on the model"
    assert all(probes.modes(child)), "a model in train mode is not in train mode after feature_maps failed"


@st.composite
def cam_cases(draw):
    """K×H×W features, a C×K weight matrix and a class index (wider ranges than the public test)."""
    k, h, w, c = draw(st.integers(1, 16)), draw(st.integers(1, 12)), draw(st.integers(1, 12)), draw(st.integers(1, 12))
    floats = st.floats(-100, 100, width=32)
    features = draw(hnp.arrays(np.float32, (k, h, w), elements=floats))
    weight = draw(hnp.arrays(np.float32, (c, k), elements=floats))
    return features, weight, draw(st.integers(0, c - 1))


@points(2, part="interpret")
@given(case=cam_cases())
@example(case=(np.arange(24, dtype=np.float32).reshape(2, 3, 4) - 10, np.array([[0.5, -1.0], [2.0, 3.0], [-1.0, 0.25]], dtype=np.float32), 2))
def test_cam_matches_the_formula_for_any_shapes(student, case):
    """class_activation_map: Σ_k w[c, k] · f_k (an H×W map) for any K, H, W, C and class c."""
    features, weight, c = case
    expected = np.einsum("k,khw->hw", weight[c].astype(np.float64), features.astype(np.float64))
    got = student.interpret.class_activation_map(torch.from_numpy(features), torch.from_numpy(weight), c)
    scale = float(np.abs(weight[c]).astype(np.float64) @ np.abs(features).reshape(len(features), -1).max(axis=1).astype(np.float64))
    assert_close(got, expected, rtol=1e-4, atol=1e-5 * max(scale, 1.0), what=f"class_activation_map of {features.shape} features, {weight.shape} weights, class {c}")


@points(1, part="interpret")
@settings(max_examples=5)
@given(seed=st.integers(0, 10_000), size=st.tuples(st.integers(2, 9), st.integers(2, 9)), classes=st.integers(2, 6))
@example(seed=0, size=(7, 7), classes=4)
def test_cam_of_a_gap_linear_net_averages_to_the_logit(student, seed, size, classes):
    """class_activation_map on a GAP + linear network: the map's mean over H×W is the class's logit minus its bias."""
    _, local = probe_net_pair(student, seed, classes)
    x = torch.randn(1, 3, *size, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        features = local.features(x)[0]
        logits = local(x)[0]
    for c in range(classes):
        cam = student.interpret.class_activation_map(features, local.fc.weight.detach(), c)
        assert_equal(tuple(torch.as_tensor(cam).shape), tuple(size), what=f"shape of the CAM of {tuple(features.shape)} features")
        assert_close(float(torch.as_tensor(cam, dtype=torch.float64).mean()), float(logits[c] - local.fc.bias[c]), rtol=1e-4, atol=1e-5,
                     what=f"mean of the CAM of class {c}, compared with logit − bias")


@points(2, part="interpret")
@settings(max_examples=6)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 3),
    size=st.tuples(st.integers(3, 9), st.integers(3, 9)),
    target=st.integers(0, 2),
)
@example(seed=3, n=2, size=(6, 8), target=1)
def test_guided_backprop_matches_an_independent_implementation(student, seed, n, size, target):
    """guided_backprop on random small CNNs (batch norm, two ReLUs, GAP, dropout): the guided gradient of the class's logit summed over the batch, in eval mode."""
    child, local = probe_net_pair(student, seed)
    x = torch.randn(n, 3, *size, generator=torch.Generator().manual_seed(seed))
    want = guided_saliency(local, x, target)
    got = student.interpret.guided_backprop(child, x, target)
    assert_close(got, want, rtol=1e-4, atol=1e-6, what=f"guided_backprop saliency of class {target} for a {n}×3×{size[0]}×{size[1]} input")


@points(2, part="interpret")
def test_guided_backprop_leaves_the_model_as_it_was(student):
    """guided_backprop: afterwards the model computes as before, a plain backward pass gives the plain gradient (ReLUs restored, no hooks), the mode is restored and no parameter holds a gradient."""
    probes = probes_in(student)
    child, local = probe_net_pair(student, 5)
    x = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(5))
    child.train()
    got = student.interpret.guided_backprop(child, x, 0)
    assert isinstance(got, torch.Tensor) and tuple(got.shape) == tuple(x.shape), "guided_backprop did not return a tensor of x's shape"
    assert bool(torch.isfinite(got).all()) and bool(got.abs().sum() > 0), "guided_backprop returned zeros or non-finite values"
    assert all(probes.modes(child)), "a model in train mode is not in train mode after guided_backprop"
    n = probes.hook_count(child)
    assert n == 0, f"after guided_backprop, {n} hook(s) are still registered on the model"
    names = probes.grad_names(child)
    assert not names, f"after guided_backprop, parameters hold gradients: {names}"
    relus = probes.relu_count(child)
    assert_equal(relus, 2, what="nn.ReLU modules of the model after guided_backprop")
    assert_close(outputs(child, x, what="the model"), local(x).detach(), rtol=1e-5, atol=1e-6,
                 what="the model's eval-mode logits after guided_backprop")
    xg = x.clone().requires_grad_(True)
    local(xg)[:, 1].sum().backward()
    child.eval()
    assert_close(probes.input_gradient(child, x, 1), xg.grad, rtol=1e-4, atol=1e-6,
                 what="a plain gradient of the model after guided_backprop (ReLUs must pass negative gradients again)")


@points(1, part="interpret", per="test")
@pytest.mark.parametrize("shape", [(1, 3, 3, 3), (6, 3, 5, 5), (10, 1, 3, 3), (16, 4, 3, 3)])
def test_plot_filters_writes_a_png_grid(student, shape):
    """plot_filters: O filters (RGB or one channel) give a PNG of ⌈√O⌉ columns and ⌈O / cols⌉ rows of 150-pixel cells."""
    weight = torch.randn(*shape, generator=torch.Generator().manual_seed(shape[0]))
    assert_grid_png(student, student.interpret.plot_filters, weight, shape[0], f"{shape[0]} filters of shape {shape[1:]}")


@points(1, part="interpret", per="test")
@pytest.mark.parametrize("k", [1, 2, 7, 10])
def test_plot_feature_maps_writes_a_png_grid_for_any_count(student, k):
    """plot_feature_maps: K maps give a PNG of ⌈√K⌉ columns and ⌈K / cols⌉ rows of 150-pixel cells."""
    maps = torch.randn(k, 5, 7, generator=torch.Generator().manual_seed(k))
    assert_grid_png(student, student.interpret.plot_feature_maps, maps, k, f"{k} feature maps")
