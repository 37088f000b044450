"""How one value is shown in the report and the printed text: escaped, bidi-isolated, numbers
with thousands separators, percentages, and the sort key the report's table script reads."""

from __future__ import annotations

import html
import math

import numpy as np

__all__ = ["esc", "num", "pct", "sort_key", "text"]


def esc(value) -> str:
    """HTML-escape any value (quotes too, so the result is safe inside attributes)."""
    return html.escape("" if value is None else str(value), quote=True)


def num(value, digits: int = 0) -> str:
    """A number with thousands separators and ``digits`` decimals; "—" for None or not finite."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{value:,.{digits}f}"


def pct(part, whole) -> str:
    """``part`` as a percentage of ``whole`` with one decimal; "—" when either is missing."""
    if part is None or not whole:
        return "—"
    return f"{100.0 * part / whole:.1f}%"


def sort_key(value) -> str:
    """``data-v`` for the sort script: numbers as numbers, missing ones last."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "1e308"
    return repr(float(value)) if isinstance(value, (int, float, np.number)) else esc(value)


def text(value) -> str:
    """Scenario text inside an isolated bidi run, so right-to-left names do not reorder the row."""
    return f"<bdi>{esc(value)}</bdi>"
