"""Public tests of `seeds.py`: `seed_everything` makes every generator a training run uses
repeat itself, and `seed_robustness` returns the per-seed accuracies with their mean and
population standard deviation.

The draws come from the grader's probe in the child (`pipeline_probes.draws`: Python's
`random`, numpy's global generator, torch's, a freshly initialised layer, a shuffled loader's
order) and are compared here.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.testing import assert_close, points

from .test_evaluate import probes_in

SOURCES = ("random", "numpy", "torch", "weights", "order")
WHAT = {"random": "Python's random.random()", "numpy": "np.random.rand(3)", "torch": "torch.rand(3)",
        "weights": "a new nn.Linear's initial weights", "order": "a shuffled DataLoader's batch order"}  # fmt: skip


def draws_after(student, seed: int) -> dict:
    """seed_everything(seed), then the probe's draws."""
    student.seeds.seed_everything(seed)
    return probes_in(student).draws()


def same(a, b) -> bool:
    """Equal draws (lists or arrays/tensors)."""
    return bool(np.array_equal(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)))


@points(4, part="seeds")
@settings(max_examples=8)
@given(seed=st.integers(0, 2**31 - 1))
def test_same_seed_gives_the_same_draws(student, seed):
    """seed_everything(s) twice: the same random numbers from random, numpy and torch, the same initial weights, the same batch order."""
    first, second = draws_after(student, seed), draws_after(student, seed)
    for key in SOURCES:
        assert same(first[key], second[key]), f"{WHAT[key]} differs after seed_everything({seed}) twice: that generator was not seeded"


@points(2, part="seeds")
@settings(max_examples=8)
@given(seed=st.integers(0, 2**31 - 2))
def test_different_seeds_give_different_draws(student, seed):
    """seed_everything with two different seeds: different random numbers from random, numpy and torch."""
    first, second = draws_after(student, seed), draws_after(student, seed + 1)
    for key in ("random", "numpy", "torch", "weights"):
        assert not same(first[key], second[key]), f"{WHAT[key]} is the same after seed_everything({seed}) and seed_everything({seed + 1})"


def check_statistics(student, values: list[float], seeds: list[int]) -> None:
    """seed_robustness with a run that returns `values` in turn: the list, its mean, its population std."""
    probes = probes_in(student)
    got = student.seeds.seed_robustness(probes.make_model, seeds, probes.Scripted(values))
    assert isinstance(got, tuple | list) and len(got) == 3, f"seed_robustness returned {got!r}, expected (accuracies, mean, std)"
    accuracies, mean, std = got
    what = f"seed_robustness over seeds {seeds} whose runs give {values}"
    assert_close([float(a) for a in accuracies], values, rtol=1e-12, what=f"accuracies of {what}")
    assert_close(float(mean), float(np.mean(values)), rtol=1e-9, atol=1e-12, what=f"mean of {what}")
    assert_close(float(std), float(np.std(values)), rtol=1e-9, atol=1e-12,
                 what=f"std of {what} (the population standard deviation: divided by the number of seeds)")


@points(2, part="seeds")
def test_seed_robustness_statistics(student):
    """seed_robustness returns each seed's accuracy in order, their mean and their population standard deviation."""
    check_statistics(student, [0.5, 0.75, 0.625, 0.875], [0, 1, 2, 3])
