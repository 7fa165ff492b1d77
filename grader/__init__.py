"""grader: a grading and assignment harness for deep-learning (PyTorch, CNN) courses."""

__version__ = "0.1.0"
