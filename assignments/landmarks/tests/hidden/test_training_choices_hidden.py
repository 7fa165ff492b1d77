"""Hidden test of the training choices: make_criterion, make_optimizer and PATIENCE.

Decided by behaviour: the criterion's loss and gradient on logits this test chose, and the
parameters after two steps of the student's optimizer with gradients this test set, against
cross-entropy and Adam computed here. What the child reports (class names, param_groups) only
adds a hint to a failure message.
"""

import torch
import torch.nn.functional as F

from grader.checks.losses import assert_loss_matches
from grader.checks.modules import definition_of, random_state, report_hint
from grader.checks.optim import assert_optimizer_steps
from grader.sandbox.child.harness import tiny_model
from grader.testing import assert_equal, points

# module → (PATIENCE, Adam's weight_decay, number of classes)
EXPECTED = {"train_cnn": (5, 0.0, 2), "train_source": (10, 0.01, 8)}
LR = 1e-3


def _optimizer_hint(report: dict) -> str:
    groups = report.get("groups") or [{}]
    settings = ", ".join(f"{k}={groups[0][k]!r}" for k in ("lr", "weight_decay") if k in groups[0])
    return f" (your optimizer reports itself as {report.get('type')} with {settings})"


def _check_criterion(student, module: str, classes: int, g: torch.Generator) -> None:
    mod = getattr(student, module)
    criterion = mod.make_criterion()
    logits, labels = 3 * torch.randn(6, classes, generator=g), torch.randint(0, classes, (6,), generator=g)
    assert_loss_matches(
        student,
        criterion,
        F.cross_entropy,
        logits,
        labels,
        what=f"{module}.make_criterion() (expected cross-entropy)",
        hint=report_hint(lambda: student.harness.type_name(criterion), lambda t: f" (it reports itself as {t})"),
    )


def _check_optimizer(student, module: str, weight_decay: float, g: torch.Generator) -> None:
    mod = getattr(student, module)
    model = student.harness.tiny_model()  # a small stand-in; this process builds the same one
    local = tiny_model()
    optimizer = mod.make_optimizer(model)
    shapes = {k: tuple(v.shape) for k, v in local.state_dict().items()}
    start = random_state(shapes, generator=g)
    # Gradients much smaller than weight_decay·parameter, then ordinary ones: two steps that
    # tell Adam from SGD or AdamW, and pin the learning rate and the weight decay.
    grads = [random_state(shapes, generator=g, scale=1e-3), random_state(shapes, generator=g)]
    assert_optimizer_steps(
        student,
        optimizer,
        model,
        definition_of(local),
        lambda ps: torch.optim.Adam(ps, lr=LR, weight_decay=weight_decay),
        start=start,
        grads=grads,
        probes=[torch.randn(4, 3, 8, 8, generator=g)],
        what=f"{module}.make_optimizer(model) (expected Adam, lr {LR:g}, weight_decay {weight_decay:g})",
        hint=report_hint(lambda: student.harness.optimizer_settings(optimizer), _optimizer_hint),
    )


@points(3, part="training")
def test_training_choices(student):
    """make_criterion, make_optimizer and PATIENCE of train_cnn (target) and train_source."""
    g = torch.Generator().manual_seed(0)
    for module, (patience, weight_decay, classes) in EXPECTED.items():
        _check_criterion(student, module, classes, g)
        _check_optimizer(student, module, weight_decay, g)
        assert_equal(getattr(student, module).PATIENCE, patience, what=f"{module}.PATIENCE")
