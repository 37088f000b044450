"""`python -m lifecircle.optimizer.generate`: the generator's own command line (see district.main)."""

from lifecircle.optimizer.generate.district import main

main()
