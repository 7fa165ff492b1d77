"""The course's tester notebook, written with nbformat: ``tester.ipynb`` in the reference
folder (so the student template gets it too). ``python -m`` is not needed: `write(folder)`
is called by the repository test that keeps the committed notebook in sync with this file.

Run from the assignment's folder, the notebook compares the student's ``Conv2D`` and
``MSELoss`` with PyTorch on a few shapes (the largest differences), times forward + backward
against PyTorch on the graded input, and runs the public tests with ``grader check``.
"""

from __future__ import annotations

from pathlib import Path

NAME = "tester.ipynb"

INTRO = """# MyTorch tester

Run the cells from top to bottom in the folder that holds `mytorch/`. Each cell compares your
code with PyTorch and prints the largest difference; the last one runs the public tests, as the
grader will. A cell that raises `NotImplementedError` is a TODO you have not done yet."""

SETUP = """import time

import numpy as np
import torch
import torch.nn.functional as F

from mytorch.conv import Conv2D
from mytorch.loss import MSELoss

rng = np.random.default_rng(0)
torch.set_default_dtype(torch.float64)"""

FORWARD = """# Conv2D.forward against F.conv2d: (N, C_in, C_out, H, W, kernel, stride, padding)
CASES = [(2, 3, 4, 7, 9, 3, 1, 0), (2, 3, 4, 7, 9, 3, 2, 1), (1, 2, 5, 8, 6, 2, 3, 2), (3, 1, 1, 5, 5, 5, 1, 0)]
for n, c, o, h, w, k, s, p in CASES:
    A = rng.normal(size=(n, c, h, w))
    conv = Conv2D(c, o, k, stride=s, padding=p)
    Z = conv.forward(A)
    want = F.conv2d(torch.tensor(A), torch.tensor(conv.W), stride=s, padding=p).numpy()
    diff = np.abs(Z - want).max() if Z.shape == want.shape else f"shape {Z.shape}, expected {want.shape}"
    print(f"forward  {(n, c, o, h, w, k, s, p)}: max |difference| {diff}")"""

BACKWARD = """# Conv2D.backward against autograd: dL/dA and dL/dW for L = sum(Z * G)
for n, c, o, h, w, k, s, p in CASES:
    A = rng.normal(size=(n, c, h, w))
    conv = Conv2D(c, o, k, stride=s, padding=p)
    Z = conv.forward(A)
    G = rng.normal(size=Z.shape)
    dLdA = conv.backward(G)
    At, Wt = torch.tensor(A, requires_grad=True), torch.tensor(conv.W, requires_grad=True)
    (F.conv2d(At, Wt, stride=s, padding=p) * torch.tensor(G)).sum().backward()
    print(f"backward {(n, c, o, h, w, k, s, p)}: dLdA {np.abs(dLdA - At.grad.numpy()).max():.2e}, "
          f"dLdW {np.abs(conv.dLdW - Wt.grad.numpy()).max():.2e}")"""

SPEED = """# forward + backward on the graded input (64×3×32×32, 16 filters 5×5), against PyTorch
A = rng.normal(size=(64, 3, 32, 32))
conv = Conv2D(3, 16, 5)


def mine():
    conv.backward(np.ones_like(conv.forward(A)))


def pytorch():
    At, Wt = torch.tensor(A, requires_grad=True), torch.tensor(conv.W, requires_grad=True)
    F.conv2d(At, Wt).sum().backward()


def median_seconds(fn, repeats=5):
    fn()  # warm up
    times = []
    for _ in range(repeats):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return float(np.median(times))


yours, theirs = median_seconds(mine), median_seconds(pytorch)
print(f"yours {yours * 1000:.1f} ms, PyTorch {theirs * 1000:.1f} ms: ratio {yours / theirs:.1f}")"""

MSE = """# MSELoss against the definition
A, Y = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
loss = MSELoss()
print("forward  difference", abs(loss.forward(A, Y) - np.mean((A - Y) ** 2)))
print("backward difference", np.abs(loss.backward() - 2 * (A - Y) / A.size).max())"""

CHECK = """# The public tests, as the grader runs them (seconds)
!grader check mytorch_conv ."""


def build() -> object:
    """The notebook (an nbformat v4 NotebookNode), without outputs."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    cells = [new_markdown_cell(INTRO)] + [new_code_cell(src) for src in (SETUP, FORWARD, BACKWARD, SPEED, MSE, CHECK)]
    nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    for i, cell in enumerate(nb.cells):  # stable ids: the file does not change between builds
        cell["id"] = f"cell-{i}"
    nbformat.validate(nb)
    return nb


def write(folder: Path | str) -> Path:
    """Write ``tester.ipynb`` into `folder` (the reference solution's); return its path."""
    import nbformat

    path = Path(folder) / NAME
    path.write_text(nbformat.writes(build()) + "\n", encoding="utf-8")
    return path
