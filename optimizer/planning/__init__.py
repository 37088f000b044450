"""Planning over many solves: budget sweeps, phased plans and whole cities."""
