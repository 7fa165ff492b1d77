"""Hidden tests of `seeds.seed_robustness`: each model is made right after its own seed was set,
and the statistics hold for any number of seeds (a single seed has standard deviation 0)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from grader.testing import assert_close, points

from ..public.test_evaluate import probes_in
from ..public.test_seeds import check_statistics


@points(1, part="seeds")
@settings(max_examples=10)
@given(values=st.lists(st.floats(0, 1, allow_nan=False).map(lambda v: round(v, 3)), min_size=1, max_size=6))
def test_seed_robustness_statistics_for_any_runs(student, values):
    """seed_robustness: the accuracies in order, their mean and population standard deviation, for 1 to 6 seeds."""
    check_statistics(student, values, [10 + i for i in range(len(values))])


@points(1, part="seeds")
def test_seed_robustness_seeds_before_each_model(student):
    """seed_robustness calls seed_everything(seed) before make_model() for every seed: each model starts from that seed's weights."""
    probes = probes_in(student)
    seeds = [3, 1, 4]
    got = student.seeds.seed_robustness(probes.make_model, seeds, probes.fingerprint)
    assert isinstance(got, tuple | list) and len(got) == 3, f"seed_robustness returned {got!r}, expected (accuracies, mean, std)"
    want = []
    for seed in seeds:
        student.seeds.seed_everything(seed)
        want.append(probes.fingerprint(probes.make_model()))
    assert_close([float(a) for a in got[0]], want, rtol=1e-6,
                 what="each seed's result with a run that reports the model's initial weights (seed_everything(seed) then make_model())")
