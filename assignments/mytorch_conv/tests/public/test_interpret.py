"""Public tests of `interpret`: feature maps, class activation maps, guided backpropagation, plots.

The networks are the grader's own (`cnn_probes.ProbeNet`, `cnn_probes.tiny_mlp`), built in the
child and handed to your functions; their twins, built here with the same weights, give the
expected values.
"""

import io
import math

import numpy as np
import torch
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from grader.checks.modules import state_of
from grader.sandbox.host.client import StudentError
from grader.testing import assert_close, assert_equal, points

from . import cnn_probes

MAP_NAMES = ["features.0", "features.1", "features.2", "features.3", "pool", "fc"]


def probes_in(student):
    """The grader's networks and probes, loaded in the child."""
    return student.ship(cnn_probes)


def probe_net_pair(student, seed: int = 0, num_classes: int = 3):
    """A ProbeNet in the child and its twin here, with the child's very tensors."""
    child = probes_in(student).ProbeNet(seed=seed, num_classes=num_classes)
    local = cnn_probes.ProbeNet(seed=seed, num_classes=num_classes)
    local.load_state_dict(state_of(child, what="the grader's ProbeNet"))
    local.eval()
    return child, local


def expected_maps(net: torch.nn.Module, x: torch.Tensor, names) -> dict[str, torch.Tensor]:
    """Each named module's output on `x`, in eval mode, captured here."""
    modules, out = dict(net.named_modules()), {}
    handles = [
        modules[n].register_forward_hook(lambda _m, _i, o, n=n: out.__setitem__(n, o.detach().clone()))
        for n in names
    ]
    try:
        net.eval()
        with torch.no_grad():
            net(x)
    finally:
        for h in handles:
            h.remove()
    return out


def checked_maps(got, names, what: str) -> dict:
    """`got` must be a dict with exactly the names asked for, each a tensor."""
    assert isinstance(got, dict), f"{what} returned {type(got).__name__}, expected a dict name → tensor"
    assert_equal(sorted(got), sorted(names), what=f"keys of {what}")
    for n in names:
        assert isinstance(got[n], torch.Tensor), f"{what}[{n!r}] is {type(got[n]).__name__}, not a tensor"
    return got


def assert_maps_match(student, seed, x, names) -> None:
    child, local = probe_net_pair(student, seed)
    want = expected_maps(local, x, names)
    if "features.0" in names and not (want["features.0"] < 0).any():
        raise RuntimeError("choose another input: the first convolution has no negative output")
    what = f"feature_maps(model, x, {names})"
    got = checked_maps(student.interpret.feature_maps(child, x, names), names, what)
    for n in names:
        assert_close(got[n], want[n], rtol=1e-4, atol=1e-5,
                     what=f"feature map of `{n}` ({type(dict(local.named_modules())[n]).__name__}'s output as it gave it)")


class GuidedReLU(torch.autograd.Function):
    """ReLU whose backward passes only positive gradients, and only where its input was positive."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad.clamp(min=0) * (x > 0).to(grad.dtype)


class _Guided(torch.nn.Module):
    def forward(self, x):
        return GuidedReLU.apply(x)


def guided_saliency(net: torch.nn.Module, x: torch.Tensor, target_class: int) -> torch.Tensor:
    """Guided backpropagation computed here: a copy of `net` with every nn.ReLU guided."""
    import copy

    net = copy.deepcopy(net).eval()
    for name, m in list(net.named_modules()):
        if type(m) is torch.nn.ReLU:
            parent, _, attr = name.rpartition(".")
            holder = net.get_submodule(parent) if parent else net
            if attr.isdigit():
                holder[int(attr)] = _Guided()
            else:
                setattr(holder, attr, _Guided())
    x = x.detach().clone().requires_grad_(True)
    net(x)[:, target_class].sum().backward()
    return x.grad.detach()


def png_of(student, path: str) -> Image.Image:
    """The PNG the child wrote at `path`, opened here."""
    data = probes_in(student).read_bytes(path)
    assert data, "no file was written at the path given"
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "the file written is not a PNG"
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def grid(n: int) -> tuple[int, int]:
    """(rows, cols) with cols = ⌈√n⌉."""
    cols = max(1, math.ceil(math.sqrt(n)))
    return max(1, math.ceil(n / cols)), cols


def assert_grid_png(student, plot, data, n: int, what: str) -> None:
    path = probes_in(student).temp_png()
    plot(data, path)
    rows, cols = grid(n)
    image = png_of(student, path)
    assert_equal(image.size, (150 * cols, 150 * rows),
                 what=f"pixel size (width, height) of the PNG of {what}: a {rows}×{cols} grid of 150-pixel cells")


def must_raise(call) -> None:
    """Run `call`; the student's own error is expected (an untouched TODO still fails)."""
    try:
        call()
    except StudentError as exc:
        if exc.exc_type == "NotImplementedError":
            raise


# ------------------------------------------------------------------------------- feature maps


@points(2, part="interpret")
def test_feature_maps_are_each_modules_output(student):
    """feature_maps: each named module's output, as it gave it (a convolution's before the ReLU), in eval mode."""
    x = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    assert_maps_match(student, 0, x, MAP_NAMES)


@points(1, part="interpret")
def test_feature_maps_removes_its_hooks_and_restores_the_mode(student):
    """feature_maps: afterwards the model has no hooks left and is in the mode it was in (train or eval)."""
    probes = probes_in(student)
    x = torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(1))
    for training in (True, False):
        child, _ = probe_net_pair(student, 1)
        child.train(training)
        names = ["features.0", "features.3", "fc"]
        checked_maps(student.interpret.feature_maps(child, x, names), names, f"feature_maps(model, x, {names})")
        n = probes.hook_count(child)
        assert n == 0, f"after feature_maps, {n} hook(s) are still registered on the model"
        mode = "train" if training else "eval"
        assert all(t == training for t in probes.modes(child)), f"a model in {mode} mode is not in {mode} mode after feature_maps"


# ------------------------------------------------------------------------------- class activation maps

FEATURES = torch.tensor([[[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]], [[0.0, 3.0, 1.0], [-1.0, 0.0, 2.0]]])
FC_WEIGHT = torch.tensor([[1.0, 1.0], [2.0, -1.0], [0.5, 0.0]])
# class 1: 2·f₁ − f₂
CAM_CLASS_1 = torch.tensor([[2.0, -3.0, -3.0], [5.0, 2.0, -2.0]])


@points(1, part="interpret")
def test_cam_worked_example(student):
    """class_activation_map: for class 1 with weights (2, −1), the map is 2·f₁ − f₂ (negative cells kept)."""
    cam = student.interpret.class_activation_map(FEATURES, FC_WEIGHT, 1)
    assert_close(cam, CAM_CLASS_1, rtol=1e-6, atol=1e-6, what="class_activation_map(features, fc_weight, 1) of the worked example")


@st.composite
def cam_cases(draw):
    """K×H×W features, a C×K weight matrix and a class index."""
    k, h, w, c = draw(st.integers(1, 6)), draw(st.integers(1, 7)), draw(st.integers(1, 7)), draw(st.integers(1, 5))
    floats = st.floats(-10, 10, width=32)
    features = draw(hnp.arrays(np.float32, (k, h, w), elements=floats))
    weight = draw(hnp.arrays(np.float32, (c, k), elements=floats))
    return features, weight, draw(st.integers(0, c - 1))


@points(1, part="interpret")
@given(case=cam_cases())
@example(case=(FEATURES.numpy(), FC_WEIGHT.numpy(), 0))
def test_cam_matches_the_formula(student, case):
    """class_activation_map: Σ_k w[c, k] · f_k for any K×H×W features, C×K weights and class c."""
    features, weight, c = case
    expected = np.einsum("k,khw->hw", weight[c].astype(np.float64), features.astype(np.float64))
    got = student.interpret.class_activation_map(torch.from_numpy(features), torch.from_numpy(weight), c)
    assert_close(got, expected, rtol=1e-4, atol=1e-3, what=f"class_activation_map of {features.shape} features, class {c}")


# ------------------------------------------------------------------------------- guided backpropagation

# tiny_mlp on the 2-channel 1×1 image x = (1, 1): hidden pre-activations W₁x = (−1, 3, 2).
# Class 0: ∂/∂relu = (1, −1, 2) → guided (0, 0, 2) (unit 1 is off, unit 2's gradient is negative)
#          → W₁ᵀ(0, 0, 2) = (2, 2).  (Plain gradient: (0, 1).)
# Class 1: ∂/∂relu = (0.5, 1, −1) → guided (0, 1, 0) → W₁ᵀ(0, 1, 0) = (2, 1).  (Plain: (1, 0).)
GUIDED = {0: [2.0, 2.0], 1: [2.0, 1.0]}


@points(2, part="interpret")
def test_guided_backprop_worked_example(student):
    """guided_backprop on a tiny net: only positive gradients pass back through the ReLU, and only where its input was positive."""
    model = probes_in(student).tiny_mlp()
    x = torch.ones(1, 2, 1, 1)
    for target, expected in GUIDED.items():
        got = student.interpret.guided_backprop(model, x, target)
        assert_close(got, torch.tensor(expected).reshape(1, 2, 1, 1), rtol=1e-6, atol=1e-6,
                     what=f"guided_backprop(tiny net, x = (1, 1), class {target})")


# ------------------------------------------------------------------------------- plots


@points(1, part="interpret")
def test_plot_feature_maps_writes_a_png_grid(student):
    """plot_feature_maps: 5 maps give a PNG of 3 columns × 2 rows of 150-pixel cells (450×300 pixels)."""
    maps = torch.randn(5, 6, 6, generator=torch.Generator().manual_seed(2))
    assert_grid_png(student, student.interpret.plot_feature_maps, maps, 5, "5 feature maps")
