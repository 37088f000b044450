"""Seeded synthetic districts, cities and instances.

``from lifecircle.optimizer.generate import generate_district, generate_city`` is the documented
way in (the bundled scenarios' README files show the exact calls).
"""

from lifecircle.optimizer.generate.city import generate_city
from lifecircle.optimizer.generate.district import generate_district, write_bundled

__all__ = ["generate_city", "generate_district", "write_bundled"]
