"""The core of the engine: the problem as arrays, statuses, solutions and their independent check."""
