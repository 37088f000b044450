"""Solving: the backends, any LinearModel, the coverage pipeline and its exact reductions."""
