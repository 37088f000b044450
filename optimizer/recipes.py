"""Circle-type recipes: the minimum number of new facilities of each type a circle of that type gets.

They ship as package data (``recipes.yaml`` beside this module), so an installed lifecircle solves
the same problem as a checkout, and they enter every scenario's checksum.
"""

from __future__ import annotations

from pathlib import Path

from lifecircle.optimizer.errors import LifecircleError

RECIPES_PATH = Path(__file__).resolve().with_name("recipes.yaml")


def load_recipes() -> dict:
    """{circle_type: {facility type: minimum new facilities}} from the packaged recipes.yaml.

    A missing file is an installation fault, never "no minimums": it is refused loudly.
    """
    import yaml

    try:
        text = RECIPES_PATH.read_text(encoding="utf-8")
    except OSError as error:
        raise LifecircleError(
            f"{RECIPES_PATH}: the packaged circle-type recipes cannot be read ({error.strerror}); "
            "reinstall lifecircle"
        ) from None
    data = yaml.safe_load(text) or {}
    return {str(k): dict(v or {}) for k, v in data.items()}
