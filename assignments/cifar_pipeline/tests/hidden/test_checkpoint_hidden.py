"""Hidden tests of `train.load_checkpoint`: it reads a checkpoint written as the handout
specifies (by the grader, here), and it refuses a file that `weights_only=True` refuses, a
file that would run code when unpickled."""

import io
import os

import torch

from grader.sandbox.host.client import StudentError
from grader.testing import points

from ..public.test_checkpoint import Trained


def checkpoint_bytes(run: Trained, extra: dict | None = None) -> bytes:
    """`torch.save` of {"model_state", "optimizer"} of the twins here (and `extra`), as bytes."""
    buffer = io.BytesIO()
    torch.save({"model_state": run.local.state_dict(), "optimizer": run.local_opt.state_dict(), **(extra or {})}, buffer)
    return buffer.getvalue()


class _Call:
    """Pickles as a call of `os.path.join`: harmless, but no tensor, so weights_only refuses it."""

    def __reduce__(self):
        return (os.path.join, ("checkpoint", "note"))


@points(2, part="checkpoint")
def test_load_reads_a_checkpoint_written_as_specified(student):
    """load_checkpoint restores a network and Adam from a file holding `model_state` and `optimizer` (written by the grader)."""
    run = Trained(student, 11, 2)
    path = run.probes.temp_path("checkpoint.pt")
    run.probes.write_bytes(path, checkpoint_bytes(run))
    model, opt = run.fresh()
    student.train.load_checkpoint(path, model, opt)
    run.assert_restored(model, opt, "load_checkpoint of a file written by the grader")


@points(2, part="checkpoint")
def test_load_refuses_a_file_that_would_run_code(student):
    """load_checkpoint uses torch.load(..., weights_only=True): a file that holds anything but tensors and plain containers is refused, never unpickled."""
    run = Trained(student, 12, 1)
    path = run.probes.temp_path("checkpoint.pt")
    run.probes.write_bytes(path, checkpoint_bytes(run, {"note": _Call()}))
    model, opt = run.fresh()
    try:
        student.train.load_checkpoint(path, model, opt)
    except StudentError as exc:
        if exc.exc_type == "NotImplementedError":
            raise
        return
    raise AssertionError(
        "load_checkpoint read a file whose pickle calls os.path.join: it unpickled arbitrary code. "
        "Load with torch.load(path, map_location='cpu', weights_only=True), which refuses such files."
    )
