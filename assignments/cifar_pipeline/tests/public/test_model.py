"""Public tests of model.py: `MyNet` (sizes, layers, forward pass) and `MyNetRegularized`
(no biases, its tensors, dropout only in train mode).

Every fact is decided by behaviour: the model's tensors come back by value, and the model must
compute with tensors this test chooses what the handout's table says, written here with
`torch.nn.functional`.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from grader.checks.modules import (
    assert_computes,
    assert_shapes,
    conv2d,
    count_elements,
    linear,
    random_state,
    state_of,
    submodule,
    verified_state,
)
from grader.testing import assert_equal, points

CONVS = {"conv1": (16, 3), "conv2": (32, 16), "conv3": (64, 32)}  # out, in channels; 3×3, padding 1
FCS = {"fc1": (500, 1024), "fc2": (10, 500)}
MYNET_PARAMETERS = 541_094
REGULARIZED_PARAMETERS = 540_696

MYNET_SHAPES: dict[str, tuple[int, ...]] = {}
for _name, (_out, _in) in CONVS.items():
    MYNET_SHAPES |= {f"{_name}.weight": (_out, _in, 3, 3), f"{_name}.bias": (_out,)}
for _name, (_out, _in) in FCS.items():
    MYNET_SHAPES |= {f"{_name}.weight": (_out, _in), f"{_name}.bias": (_out,)}

REGULARIZED_SHAPES: dict[str, tuple[int, ...]] = {k: v for k, v in MYNET_SHAPES.items() if k.endswith("weight")}
for _i, (_out, _in) in enumerate(CONVS.values(), start=1):
    REGULARIZED_SHAPES |= {f"bn{_i}.{k}": (_out,) for k in ("weight", "bias", "running_mean", "running_var")}
    REGULARIZED_SHAPES[f"bn{_i}.num_batches_tracked"] = ()
BUFFERS = frozenset(k for k in REGULARIZED_SHAPES if k.rpartition(".")[2] in {"running_mean", "running_var", "num_batches_tracked"})


def scale_of(name: str, shape: tuple[int, ...]) -> float:
    """A weight's σ (1/√fan_in keeps activations near 1); 0.1 for a bias."""
    return 1 / math.sqrt(math.prod(shape[1:])) if name.endswith("weight") else 0.1


def mynet(p: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """The handout's MyNet: three conv(3×3, padding 1) → ReLU → max-pool 2 blocks, flatten, fc1 → ReLU, fc2."""
    for name in CONVS:
        x = F.max_pool2d(F.relu(F.conv2d(x, p[f"{name}.weight"], p[f"{name}.bias"], padding=1)), 2)
    x = F.relu(F.linear(torch.flatten(x, 1), p["fc1.weight"], p["fc1.bias"]))
    return F.linear(x, p["fc2.weight"], p["fc2.bias"])


def mynet_state(g: torch.Generator) -> dict[str, torch.Tensor]:
    """Random tensors for MyNet, of the handout's shapes."""
    return random_state(MYNET_SHAPES, generator=g, scale={k: scale_of(k, v) for k, v in MYNET_SHAPES.items()})


def own_state(model: Any, what: str) -> dict[str, torch.Tensor]:
    """The model's tensors by value; a clear message for an untouched template."""
    state = state_of(model, what=what)
    if not state:
        raise AssertionError(f"TODO not done yet: {what} has no layers")
    return state


def regularized_state(model: Any) -> dict[str, torch.Tensor]:
    """MyNetRegularized's tensors by value, with a plain message for a bias that is still there."""
    state = own_state(model, "MyNetRegularized()")
    biases = sorted(k for k in state if k.endswith(".bias") and not k.startswith("bn"))
    if biases:
        raise AssertionError(f"MyNetRegularized still has biases {biases}: its convolutions and linear layers take bias=False")
    assert_shapes(state, REGULARIZED_SHAPES, what="MyNetRegularized()")
    return state


@points(2, part="model")
def test_mynet_parameter_count(student):
    """MyNet(): 541,094 learnable parameters, each used by its layer and learnable."""
    model = student.model.MyNet()
    assert_equal(count_elements(own_state(model, "MyNet()")), MYNET_PARAMETERS, what="learnable parameters of MyNet")
    verified_state(student, model, generator=torch.Generator().manual_seed(0), trainable=True, what="MyNet")


@points(2, part="model")
def test_mynet_layer_shapes(student):
    """MyNet(): conv1..conv3 are 3×3 convolutions with padding 1 (3→16→32→64 channels); fc1 is 1024→500, fc2 500→10."""
    model = student.model.MyNet()
    assert_shapes(own_state(model, "MyNet()"), MYNET_SHAPES, what="MyNet()")
    g = torch.Generator().manual_seed(1)
    for name, (out, inp) in CONVS.items():
        shapes = {"weight": (out, inp, 3, 3), "bias": (out,)}
        assert_computes(submodule(model, name, what="MyNet"), conv2d(padding=1), random_state(shapes, generator=g, scale=0.3),
                        [torch.randn(2, inp, 9, 9, generator=g)], what=f"output of `{name}` with random weights")
    for name, (out, inp) in FCS.items():
        shapes = {"weight": (out, inp), "bias": (out,)}
        assert_computes(submodule(model, name, what="MyNet"), linear(), random_state(shapes, generator=g, scale=0.05),
                        [torch.randn(2, inp, generator=g)], what=f"output of `{name}` with random weights")


@points(2, part="model")
def test_mynet_forward(student):
    """MyNet.forward: three conv → ReLU → max-pool blocks, flatten, fc1 → ReLU, fc2: N×10 logits (random weights)."""
    model = student.model.MyNet()
    assert_shapes(own_state(model, "MyNet()"), MYNET_SHAPES, what="MyNet()")
    g = torch.Generator().manual_seed(2)
    assert_computes(model, mynet, mynet_state(g), [torch.randn(4, 3, 32, 32, generator=g)],
                    what="MyNet logits with random weights")


@points(1, part="model")
def test_regularized_has_no_biases_and_batchnorm_after_each_conv(student):
    """MyNetRegularized(): conv1..conv3, fc1, fc2 without biases; bn1..bn3 = BatchNorm2d(16, 32, 64); 540,696 parameters."""
    state = regularized_state(student.model.MyNetRegularized())
    learnable = {k: v for k, v in state.items() if k not in BUFFERS}
    assert_equal(count_elements(learnable), REGULARIZED_PARAMETERS, what="learnable parameters of MyNetRegularized")


@points(1, part="model")
def test_regularized_dropout_only_in_train_mode(student):
    """MyNetRegularized: in train mode two passes over the same images differ (dropout); in eval mode they are identical."""
    model = student.model.MyNetRegularized()
    regularized_state(model)
    x = torch.randn(8, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    model.train()
    a, b = model(x), model(x)
    assert isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor), "MyNetRegularized()(x) did not give a tensor"
    assert_equal(tuple(a.shape), (8, 10), what="shape of MyNetRegularized()(x) for a batch of 8")
    assert not torch.equal(a, b), "in train mode, two passes over the same batch gave identical logits: no dropout is active"
    model.eval()
    c, d = model(x), model(x)
    assert_equal(c, d, what="MyNetRegularized logits of two passes over the same batch in eval mode (dropout must be off)")
