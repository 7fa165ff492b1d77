"""Public test of `imbalance.make_weighted_criterion`: cross-entropy weighing cats 1 and dogs 20.

The loss is judged by what it computes on logits and labels chosen here (its value and its
gradient), against the weighted definition written out here: Σ_i w_{y_i}·CE_i / Σ_i w_{y_i}
with w = [1, 20] (cat = 0, dog = 1).
"""

import torch

from grader.checks.losses import assert_loss_matches
from grader.checks.modules import report_hint
from grader.testing import points

WEIGHT = torch.tensor([1.0, 20.0])  # cat (0), dog (1)


def weighted_cross_entropy(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Σ_i w_{y_i}·CE_i / Σ_i w_{y_i}, written out here."""
    ce = -(z - torch.logsumexp(z, dim=1, keepdim=True))[torch.arange(len(y)), y]
    w = WEIGHT[y]
    return (w * ce).sum() / w.sum()


@points(2, part="weighted_loss")
def test_weighted_criterion_on_a_mixed_batch(student):
    """make_weighted_criterion(): on a batch of cats and dogs, the cross-entropy weighted 1 for cats and 20 for dogs (value and gradient)."""
    g = torch.Generator().manual_seed(5)
    logits = 2 * torch.randn(8, 2, generator=g)
    labels = torch.tensor([0, 0, 1, 0, 0, 0, 1, 0])
    criterion = student.imbalance.make_weighted_criterion()
    assert_loss_matches(
        student,
        criterion,
        weighted_cross_entropy,
        logits,
        labels,
        what="imbalance.make_weighted_criterion() (expected cross-entropy with weight [1, 20])",
        hint=report_hint(
            lambda: student.harness.type_name(criterion), lambda t: f" (it reports itself as {t})"
        ),
    )
