"""Whole-class grading: `grader batch`, its gradebook and the class report (docs/batch.md)."""
