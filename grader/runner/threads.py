"""The thread settings of the processes that grade (not of the sandboxed children).

A grading process mostly waits for its children, whose threads are set where they start
(grader/sandbox/host/launcher.py). Its own BLAS and OpenMP pools get one thread each: their
idle workers spin, and with two gradings on two cores that spinning took a third of the CPU
from the children (`grader verify landmarks`: 4:03 with the default threads, 2:40 with one).
"""

from __future__ import annotations

ONE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
