"""Everything between files and formulations: scenarios, geometry, problems, backends, outputs."""

__version__ = "0.1.0"
