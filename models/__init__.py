"""Formulations: arrays in, a solver-neutral sparse MILP out, and decode back. No files, no geometry."""
