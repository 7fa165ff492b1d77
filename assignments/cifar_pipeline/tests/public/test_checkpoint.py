"""Public tests of `train.save_checkpoint` and `train.load_checkpoint`.

The grader's `TinyNet` (with batch-norm statistics) and an Adam optimizer take a few steps with
gradients chosen here; you save them, and load the file into a fresh network and a fresh Adam
(another seed, another learning rate). Both must then behave as the originals: the same
outputs, and the same next Adam step, which needs Adam's moments and step count. The expected
values come from the twin network and a real Adam, run here. The grader never opens your file
here: the child loads it, and only outputs and tensors come back.
"""

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.checks.modules import random_state, state_of
from grader.testing import assert_close, points

from . import pipeline_probes
from .test_evaluate import probes_in

LR, FRESH_LR = 0.01, 0.05


def grads_for(local: torch.nn.Module, g: torch.Generator) -> dict[str, torch.Tensor]:
    """Random gradients for every parameter of `local`."""
    return {k: torch.randn(p.shape, generator=g) for k, p in local.named_parameters()}


class Trained:
    """A TinyNet and its Adam after `steps` steps, in the child and here (twins)."""

    def __init__(self, student, seed: int, steps: int) -> None:
        g = torch.Generator().manual_seed(seed)
        self.student, self.probes, self.h = student, probes_in(student), student.harness
        self.local = pipeline_probes.TinyNet(seed)
        buffers = {"bn.running_mean": (4,), "bn.running_var": (4,)}
        stats = random_state(buffers, generator=g, scale=0.5)
        stats["bn.running_var"] = stats["bn.running_var"].abs() + 0.5
        self.local.load_state_dict({**self.local.state_dict(), **stats})
        self.model = self.probes.TinyNet(seed)
        self.h.load_state(self.model, self.local.state_dict())
        self.local_opt = torch.optim.Adam(self.local.parameters(), lr=LR)
        self.opt = self.h.make_optimizer(self.model, "adam", lr=LR)
        for _ in range(steps):
            grads = grads_for(self.local, g)
            self.step_here(self.local, self.local_opt, grads)
            self.h.set_grads(self.model, grads)
            self.opt.step()
        self.next_grads = grads_for(self.local, g)
        self.probe_x = torch.randn(6, 3, 4, 4, generator=g)
        self.seed = seed

    @staticmethod
    def step_here(model, opt, grads) -> None:
        for k, p in model.named_parameters():
            p.grad = grads[k].clone()
        opt.step()

    def fresh(self):
        """A new TinyNet (another seed) and a new Adam (another learning rate), in the child."""
        model = self.probes.TinyNet(self.seed + 1000)
        return model, self.h.make_optimizer(model, "adam", lr=FRESH_LR)

    def assert_restored(self, model, opt, how: str) -> None:
        """`model` and `opt` behave as the originals: outputs now, and after one more Adam step."""
        self.local.eval()
        with torch.no_grad():
            want = self.local(self.probe_x)
        assert_close(self.h.forward(model, self.probe_x), want, rtol=1e-5, atol=1e-6,
                     what=f"outputs (eval mode) of a fresh network after {how}")
        self.step_here(self.local, self.local_opt, self.next_grads)
        self.h.set_grads(model, self.next_grads)
        opt.step()
        after = state_of(model, what="the restored network")
        for name, value in self.local.state_dict().items():
            assert_close(after[name], value, rtol=1e-5, atol=1e-6,
                         what=f"`{name}` after one more Adam step of the restored network and optimizer ({how}; "
                              "equal only when Adam's moments, step count and learning rate were restored)")


@points(4, part="checkpoint")
@settings(max_examples=4)
@given(seed=st.integers(0, 2**16), steps=st.integers(1, 4))
def test_round_trip_restores_outputs_and_adam_state(student, seed, steps):
    """save_checkpoint then load_checkpoint into a fresh network and Adam: the same outputs, and the same next Adam step."""
    run = Trained(student, seed, steps)
    path = run.probes.temp_path("checkpoint.pt")
    student.train.save_checkpoint(run.model, run.opt, path)
    model, opt = run.fresh()
    student.train.load_checkpoint(path, model, opt)
    run.assert_restored(model, opt, f"save_checkpoint/load_checkpoint after {steps} Adam steps")


@points(2, part="checkpoint")
def test_checkpoint_file_loads_with_weights_only(student):
    """The file save_checkpoint writes is a dict with `model_state` and `optimizer` that `torch.load(..., weights_only=True)` reads."""
    run = Trained(student, 7, 3)
    path = run.probes.temp_path("checkpoint.pt")
    student.train.save_checkpoint(run.model, run.opt, path)
    model, opt = run.fresh()
    run.probes.load_as_specified(path, model, opt)
    run.assert_restored(model, opt, "loading your checkpoint with torch.load(weights_only=True)")
