"""Hidden tests of `train.train`: after a seeded tiny run, the network's tensors (parameters and
batch-norm statistics) and the whole history equal those of the grader's own loop, run here on
the twin network with the same batches. This catches a missing `zero_grad`, an optimizer that
steps twice, training steps in eval mode, an evaluation at the wrong step.

As in the public tests, the grader's `evaluate` stands in for yours while `train` runs.
"""

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.testing import assert_close, points

from ..public import pipeline_probes
from ..public.test_evaluate import expected_evaluation
from ..public.test_train_loop import KEYS, LR, MOMENTUM, run_train, sizes
from . import standins


def batches(x: torch.Tensor, y: torch.Tensor, batch_size: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The loader's batches, in order."""
    return [(x[i : i + batch_size], y[i : i + batch_size]) for i in range(0, len(x), batch_size)]


def reference_loop(seed, data, batch_size, num_epochs, eval_every, *, optimizer="sgd", start_in_eval=False):
    """The grader's own loop on the twin TinyNet: (history, state after)."""
    x_train, y_train, x_val, y_val = data
    model = pipeline_probes.TinyNet(seed).train(not start_in_eval)
    if optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
    history = {k: [] for k in KEYS}

    def record(step):
        values = (step, *expected_evaluation(model, x_train, y_train), *expected_evaluation(model, x_val, y_val))
        for k, v in zip(KEYS, values, strict=True):
            history[k].append(float(v))

    record(0)
    step = 0
    for _ in range(num_epochs):
        model.train()
        for x, y in batches(x_train, y_train, batch_size):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
            step += 1
            if step % eval_every == 0:
                record(step)
    return history, {k: v.detach().clone() for k, v in model.state_dict().items()}


def assert_same_state(got: dict, want: dict, what: str) -> None:
    """Every tensor of the network equals the grader loop's."""
    for name, value in want.items():
        assert name in got, f"{what}: the state has no `{name}`"
        assert_close(got[name], value, rtol=1e-4, atol=1e-5, what=f"`{name}` of {what}")


@points(6, part="train_loop")
@settings(max_examples=10)
@given(**sizes())
def test_weights_after_training_equal_the_reference_loop(student, seed, n_train, batch_size, num_epochs, eval_every):
    """After a seeded tiny run (SGD with momentum), every weight and batch-norm statistic equals the grader's loop's: zero_grad, one forward/backward/step per batch in train mode."""
    _, state, data = run_train(student, seed, n_train, 4, batch_size, num_epochs, eval_every,
                              evaluate=student.ship(standins).evaluate)
    _, want = reference_loop(seed, data, batch_size, num_epochs, eval_every)
    assert_same_state(state, want, f"the network after {num_epochs} epochs of {n_train} samples in batches of {batch_size}")


@points(2, part="train_loop")
@settings(max_examples=5)
@given(seed=st.integers(0, 2**16), n_train=st.integers(2, 9), batch_size=st.integers(2, 4), eval_every=st.integers(1, 3))
def test_history_equals_the_reference_loop(student, seed, n_train, batch_size, eval_every):
    """Every history entry is the loss and accuracy of the model at its step, as in the grader's loop."""
    history, _, data = run_train(student, seed, n_train, 5, batch_size, 2, eval_every, evaluate=student.ship(standins).evaluate)
    want, _ = reference_loop(seed, data, batch_size, 2, eval_every)
    for k in KEYS:
        assert_close(history[k], want[k], rtol=1e-4, atol=1e-5, what=f"history['{k}']")


@points(2, part="train_loop")
@settings(max_examples=5)
@given(seed=st.integers(0, 2**16), n_train=st.integers(2, 9), batch_size=st.integers(2, 4))
def test_adam_run_from_a_model_handed_over_in_eval_mode(student, seed, n_train, batch_size):
    """With Adam, and a model handed over in eval mode: the training steps still run in train mode; the weights equal the grader's loop's."""
    _, state, data = run_train(student, seed, n_train, 4, batch_size, 2, 3, optimizer="adam", start_in_eval=True,
                                evaluate=student.ship(standins).evaluate)
    _, want = reference_loop(seed, data, batch_size, 2, 3, optimizer="adam", start_in_eval=True)
    assert_same_state(state, want, "the network after 2 epochs with Adam (handed over in eval mode)")
