"""The textbook location models on published instances: read, solve, benchmark, export."""
