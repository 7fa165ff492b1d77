"""Public tests of `transfer.load_pretrained`: torchvision's ResNet-18, and only `fc` learns.

Run with `weights=None` (no download may happen). Checked by behaviour: the network's tensors
come back by value and must compute what torchvision's ResNet-18 computes with them, and an
SGD step the grader drives must change `fc` and nothing else.
"""

import torch
from torchvision.models import resnet18

from grader.checks.modules import assert_computes, definition_of, state_of
from grader.checks.optim import assert_sgd_steps
from grader.testing import assert_equal, points


def model_state(model) -> dict:
    """The model's tensors by value, with a clear message for an untouched template."""
    state = state_of(model, what="load_pretrained(...)")
    if not state:
        raise AssertionError("load_pretrained returned a model without tensors")
    return state


def fc_keys(state) -> set[str]:
    return {k for k in state if k.startswith("fc.")}


def check_only_fc_learns(student, num_classes: int, steps: int, seed: int) -> None:
    """SGD steps driven by the grader (eval mode: batch norm statistics stay put) change exactly
    `fc.weight` and `fc.bias`, by the amounts computed here with torchvision's ResNet-18."""
    model = student.transfer.load_pretrained(num_classes, weights=None)
    model.eval()
    state = model_state(model)
    g = torch.Generator().manual_seed(seed)
    batches = [(torch.randn(2, 3, 64, 64, generator=g), torch.randn(2, num_classes, generator=g)) for _ in range(steps)]
    h = student.harness
    assert_sgd_steps(
        student,
        model,
        definition_of(resnet18(num_classes=num_classes)),
        batches,
        lr=0.5,
        frozen=set(state) - fc_keys(state),
        probes=[torch.randn(2, 3, 64, 64, generator=g)],
        what=f"load_pretrained({num_classes})",
        hints=lambda: {k: f"your model reports requires_grad={v}" for k, v in h.requires_grad(model).items()},
    )


@points(2, part="transfer")
def test_is_torchvisions_resnet18(student):
    """load_pretrained(5, weights=None): torchvision's ResNet-18 (its tensors, and what it computes with them), with a 5-way fc."""
    model = student.transfer.load_pretrained(5, weights=None)
    state = model_state(model)
    local = resnet18(num_classes=5)
    want = {k: tuple(v.shape) for k, v in local.state_dict().items()}
    assert_equal({k: tuple(v.shape) for k, v in state.items()}, want, what="names and shapes of the model's tensors")
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    model.eval()
    assert_computes(model, definition_of(local), state, [x], what="ResNet-18 logits with its own tensors")


@points(4, part="transfer")
def test_an_sgd_step_changes_only_fc(student):
    """load_pretrained(5, weights=None): every layer is frozen except the new fc, which learns (one SGD step)."""
    check_only_fc_learns(student, 5, steps=1, seed=1)
