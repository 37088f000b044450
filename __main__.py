"""`python -m lifecircle`: the same command line as `lifecircle`."""

from lifecircle.cli import main

main(prog_name="lifecircle")
