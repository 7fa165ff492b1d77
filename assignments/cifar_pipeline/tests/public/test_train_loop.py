"""Public tests of `train.train`: the history's shape, its step-0 entry measured before any
update, its last entry measured on the trained model.

The network is the grader's `TinyNet` (`pipeline_probes.py`, with batch norm), trained with
SGD (momentum 0.9) and cross-entropy on seeded random data in fixed batches. The history's
entries are compared with what your own `evaluate` gives for the untrained and the trained
network, so a bug of `evaluate` costs points in its own part only. (The hidden tests run your
`train` with the grader's `evaluate` in place of yours, and compare with the grader's loop.)
"""

from contextlib import contextmanager

from hypothesis import given, settings
from hypothesis import strategies as st

from grader.checks.modules import state_of
from grader.testing import assert_close, assert_equal, points

from . import pipeline_probes
from .test_evaluate import labelled, probes_in

KEYS = ("steps", "train_loss", "train_acc", "val_loss", "val_acc")
LR, MOMENTUM = 0.1, 0.9


@contextmanager
def evaluate_replaced(student, standin):
    """`train.evaluate` replaced by `standin` (a handle) in the child while the block runs;
    nothing replaced when `standin` is None."""
    if standin is None:
        yield
        return
    module = student.train
    original = module.evaluate
    module.evaluate = standin
    try:
        yield
    finally:
        module.evaluate = original


def run_train(student, seed: int, n_train: int, n_val: int, batch_size: int, num_epochs: int, eval_every: int,
              *, optimizer: str = "sgd", start_in_eval: bool = False, evaluate=None):
    """Run the student's train on a TinyNet (with `evaluate`, a handle, in place of the
    student's when given); return (history, state after, the data)."""
    x_train, y_train = labelled(seed, n_train, (3, 4, 4), 3)
    x_val, y_val = labelled(seed + 1, n_val, (3, 4, 4), 3)
    probes, h = probes_in(student), student.harness
    model = probes.set_mode(probes.TinyNet(seed), not start_in_eval)
    opt = h.make_optimizer(model, "sgd", lr=LR, momentum=MOMENTUM) if optimizer == "sgd" else h.make_optimizer(model, "adam", lr=0.01)
    with evaluate_replaced(student, evaluate):
        history = student.train.train(model, opt, h.make_criterion(), probes.loader(x_train, y_train, batch_size),
                                      probes.loader(x_val, y_val, batch_size), num_epochs, eval_every)
    state = state_of(model, what="the network after train")
    return checked_history(history), state, (x_train, y_train, x_val, y_val)


def checked_history(history) -> dict:
    """`history` must be a dict with the five keys, each a list of numbers of one length."""
    assert isinstance(history, dict), f"train returned {type(history).__name__}, expected a dict"
    missing = [k for k in KEYS if k not in history]
    assert not missing, f"the history has no {', '.join(map(repr, missing))} (keys: {sorted(map(str, history))})"
    lengths = {k: len(history[k]) if isinstance(history[k], list | tuple) else None for k in KEYS}
    assert all(v is not None for v in lengths.values()), f"every history value must be a list: {lengths}"
    assert len(set(lengths.values())) == 1, f"the history's lists must have one length, got {lengths}"
    return {k: [float(v) for v in history[k]] for k in KEYS}


def expected_steps(n_train: int, batch_size: int, num_epochs: int, eval_every: int) -> list[int]:
    """Step 0, then every multiple of eval_every up to the number of steps taken."""
    total = num_epochs * -(-n_train // batch_size)
    return list(range(0, total + 1, eval_every))


def sizes():
    """Hypothesis arguments of a tiny run."""
    return {
        "seed": st.integers(0, 2**16), "n_train": st.integers(2, 12), "batch_size": st.integers(2, 5),
        "num_epochs": st.integers(1, 3), "eval_every": st.integers(1, 4),
    }  # fmt: skip


@points(4, part="train_loop")
@settings(max_examples=10)
@given(**sizes())
def test_history_has_an_entry_at_step_0_and_every_eval_every_steps(student, seed, n_train, batch_size, num_epochs, eval_every):
    """train returns the five lists of one length; steps are 0 and every multiple of eval_every (one step per batch, counted over all epochs)."""
    history, _, _ = run_train(student, seed, n_train, 4, batch_size, num_epochs, eval_every)
    assert_equal(history["steps"], expected_steps(n_train, batch_size, num_epochs, eval_every),
                 what=f"history['steps'] for {num_epochs} epochs of {n_train} samples in batches of {batch_size}, eval_every={eval_every}")


@points(4, part="train_loop")
@settings(max_examples=8)
@given(seed=st.integers(0, 2**16), n_train=st.integers(2, 10), batch_size=st.integers(2, 4))
def test_step_0_entry_is_measured_before_any_update(student, seed, n_train, batch_size):
    """The history's first entry is step 0: the untrained network's train and validation loss and accuracy (as your evaluate gives them)."""
    history, _, (x_train, y_train, x_val, y_val) = run_train(student, seed, n_train, 5, batch_size, 2, 1)
    assert_equal(history["steps"][0], 0, what="history['steps'][0]")
    probes = probes_in(student)
    untrained = probes.TinyNet(seed)
    assert_entry(student, history, 0, untrained, (x_train, y_train, x_val, y_val), batch_size,
                 "the untrained network's; measured before the first update")


def assert_entry(student, history: dict, index: int, model, data, batch_size: int, which: str) -> None:
    """history[...][index] equals your evaluate of `model` (a handle) on the train and validation loaders."""
    probes = probes_in(student)
    x_train, y_train, x_val, y_val = data
    criterion = student.harness.make_criterion()
    for key, (x, y) in (("train", (x_train, y_train)), ("val", (x_val, y_val))):
        got = student.train.evaluate(model, probes.loader(x, y, batch_size), criterion)
        assert isinstance(got, tuple | list) and len(got) == 2, f"evaluate returned {got!r}, expected (mean_loss, accuracy)"
        assert_close(history[f"{key}_loss"][index], float(got[0]), rtol=1e-5, atol=1e-6,
                     what=f"history['{key}_loss'][{index}] against your evaluate ({which})")
        assert_close(history[f"{key}_acc"][index], float(got[1]), rtol=1e-9, atol=1e-9,
                     what=f"history['{key}_acc'][{index}] against your evaluate ({which})")


@points(2, part="train_loop")
def test_last_entry_is_measured_on_the_trained_model(student):
    """With a number of steps that is a multiple of eval_every, the last entry is the trained network's loss and accuracy (as your evaluate gives them), and training changed the weights."""
    seed, n_train, batch_size = 5, 8, 2  # 4 steps per epoch, 8 in all, eval_every 4
    history, state, data = run_train(student, seed, n_train, 6, batch_size, 2, 4)
    assert_equal(history["steps"][-1], 8, what="history['steps'][-1] after 2 epochs of 4 steps with eval_every=4")
    local = pipeline_probes.TinyNet(seed)
    moved = max(float((state[k] - v).abs().max()) for k, v in local.state_dict().items() if v.is_floating_point())
    assert moved > 1e-4, "train did not change the network's weights"
    trained = probes_in(student).TinyNet(seed)
    student.harness.load_state(trained, state)
    assert_entry(student, history, -1, trained, data, batch_size, "the trained network's")
