"""Hidden tests of `transfer.load_pretrained`: other class counts, several steps, a fresh
`fc`, and no download: an empty torch cache gives random weights, a cached file is loaded."""

import torch
from torchvision.models import resnet18

from assignments.dogs import childside
from grader.checks.modules import state_of, submodule
from grader.testing import assert_equal, points

from ..public.test_transfer import check_only_fc_learns

FAKE_WEIGHTS_SEED = 1234


def _fc_shapes(model, what: str) -> dict:
    fc = submodule(model, "fc", what=what)
    return {k: tuple(v.shape) for k, v in state_of(fc, what=f"{what}.fc").items()}


@points(2, part="transfer")
def test_fc_is_a_new_linear_512_to_k(student):
    """load_pretrained(K, weights=None) for K = 2, 7: fc is a Linear(512, K) with a bias."""
    for k in (2, 7):
        model = student.transfer.load_pretrained(k, weights=None)
        assert_equal(_fc_shapes(model, f"load_pretrained({k})"), {"weight": (k, 512), "bias": (k,)}, what=f"fc of load_pretrained({k})")


@points(3, part="transfer")
def test_several_steps_change_only_fc(student):
    """load_pretrained(2, weights=None): three SGD steps change fc exactly and nothing else."""
    check_only_fc_learns(student, 2, steps=3, seed=2)


@points(2, part="transfer")
def test_no_download_with_an_empty_cache(student):
    """load_pretrained(3) with an empty torch cache: no network access, a working 3-way ResNet-18."""
    helper = student.ship(childside)
    helper.torch_home(None)
    model = student.harness.offline(student.transfer.load_pretrained, 3)
    assert_equal(_fc_shapes(model, "load_pretrained(3)"), {"weight": (3, 512), "bias": (3,)}, what="fc of load_pretrained(3)")
    out = student.harness.forward(model, torch.randn(2, 3, 64, 64))
    assert_equal(tuple(out.shape), (2, 3), what="shape of the logits for 2 images")


@points(2, part="transfer")
def test_cached_weights_are_loaded(student):
    """load_pretrained(4) with ResNet-18's weight file in the torch cache: its weights are used (no download), fc is new."""
    helper = student.ship(childside)
    helper.torch_home(FAKE_WEIGHTS_SEED)
    model = student.harness.offline(student.transfer.load_pretrained, 4)
    torch.manual_seed(FAKE_WEIGHTS_SEED)
    cached = resnet18(weights=None).state_dict()
    for layer in ("conv1", "layer3.0.conv1", "layer4.1.bn2"):
        got = state_of(submodule(model, layer, what="load_pretrained(4)"), what=layer)
        for name, value in got.items():
            assert torch.equal(value, cached[f"{layer}.{name}"]), f"{layer}.{name} is not the cached file's: the weights in the torch cache were not loaded"
    assert_equal(_fc_shapes(model, "load_pretrained(4)"), {"weight": (4, 512), "bias": (4,)}, what="fc of load_pretrained(4)")
