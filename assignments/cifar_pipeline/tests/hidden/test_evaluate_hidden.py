"""Hidden tests of `train.evaluate`: a network with batch normalisation (whose running statistics
an evaluation must not touch), and models handed over in either mode."""

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.checks.modules import state_of
from grader.testing import assert_close, points

from ..public import pipeline_probes
from ..public.test_evaluate import (
    assert_evaluation,
    check_mode_probe,
    expected_evaluation,
    labelled,
    probes_in,
)


@points(2, part="evaluate")
@settings(max_examples=8)
@given(seed=st.integers(0, 2**16), n=st.integers(2, 20), batch_size=st.integers(1, 6))
def test_evaluate_leaves_batch_norm_statistics_alone(student, seed, n, batch_size):
    """evaluate on a network with batch norm (in train mode): the eval-mode loss and accuracy, its running statistics and parameters unchanged, train mode back."""
    x, y = labelled(seed, n, (3, 4, 4), 3)
    probes = probes_in(student)
    model = probes.TinyNet(seed)
    local = pipeline_probes.TinyNet(seed)
    got = student.train.evaluate(model, probes.loader(x, y, batch_size), student.harness.make_criterion())
    assert_evaluation(got, expected_evaluation(local, x, y), f"evaluate on a batch-norm network, {n} samples in batches of {batch_size}")
    after = state_of(model, what="the network after evaluate")
    for name, value in local.state_dict().items():
        assert_close(after[name], value, rtol=0, atol=0, what=f"`{name}` after evaluate (an evaluation changes nothing)")
    with torch.enable_grad():
        want = local.train()(x).detach()
    assert_close(probes.outputs_as_is(model, x), want, rtol=1e-5, atol=1e-6,
                 what="the network's outputs after evaluate (train mode, batch statistics)")


@points(1, part="evaluate")
@settings(max_examples=8)
@given(seed=st.integers(0, 2**16), n=st.integers(1, 15), batch_size=st.integers(1, 6), train_mode=st.booleans())
def test_evaluate_restores_either_mode(student, seed, n, batch_size, train_mode):
    """evaluate gives the eval-mode values and restores the mode the model was in, train or eval."""
    check_mode_probe(student, seed=seed, n=n, batch_size=batch_size, num_classes=3, train_mode=train_mode)
