"""`python -m lifecircle.optimizer.generate`: the generator's own command line."""

from __future__ import annotations

import argparse

from lifecircle.optimizer.generate import district
from lifecircle.optimizer.generate.district import generate_district, write_bundled
from lifecircle.optimizer.generate.profiles import PROFILES


def main(argv=None):
    """Command line: ``python -m lifecircle.optimizer.generate OUT_DIR [--profile P] [--seed S] ...``."""
    parser = argparse.ArgumentParser(description=district.__doc__.splitlines()[0])
    parser.add_argument("out_dir", help="scenario folder, or the scenarios folder with --bundled")
    parser.add_argument("--bundled", action="store_true", help="regenerate every bundled district")
    parser.add_argument("--profile", default="hillside", choices=sorted(PROFILES))
    parser.add_argument("--n-demand", type=int)
    parser.add_argument("--n-sites", type=int)
    parser.add_argument("--n-existing", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--budget-cny", type=int)
    parser.add_argument("--name")
    opts = parser.parse_args(argv)
    if opts.bundled:
        paths = write_bundled(opts.out_dir)
    else:
        paths = [generate_district(
            opts.out_dir, profile=opts.profile, n_demand=opts.n_demand, n_sites=opts.n_sites,
            n_existing=opts.n_existing, seed=opts.seed, budget_cny=opts.budget_cny,
            name=opts.name,
        )]
    print("\n".join(str(p) for p in paths))


if __name__ == "__main__":
    main()
