"""`python -m lifecircle`: the same command line as `lifecircle`."""

from lifecircle.cli import main

# The guard matters: a workbench job's child process (multiprocessing "spawn") imports this module
# again as __mp_main__, and must not run the command line a second time.
if __name__ == "__main__":
    main(prog_name="lifecircle")
