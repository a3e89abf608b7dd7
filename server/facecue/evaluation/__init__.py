"""Evaluation on real data: the development set and the lip-sync metrics."""
