"""Synthetic data sets shared by several assignments."""
