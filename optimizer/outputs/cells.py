"""How one value is shown in the report and the printed text: escaped, bidi-isolated, numbers
with thousands separators, percentages, and the sort key the report's table script reads."""

from __future__ import annotations

import html
import math

import numpy as np

__all__ = ["esc", "money", "num", "pct", "sort_key", "text"]


def esc(value) -> str:
    """HTML-escape any value (quotes too, so the result is safe inside attributes)."""
    return html.escape("" if value is None else str(value), quote=True)


def num(value, digits: int = 0) -> str:
    """A number with thousands separators and ``digits`` decimals; "—" for None or not finite."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{value:,.{digits}f}"


def money(value_cny, digits: int = 0) -> str:
    """Yuan as officials read them: "800 元" below ten thousand, else "12.35 万元" (trailing zeros
    dropped, so a round 350,000 reads "35 万元"); "—" for None or not finite.

    ``digits`` are the decimals below ten thousand (a cost per person needs one).
    """
    if value_cny is None or (isinstance(value_cny, float) and not math.isfinite(value_cny)):
        return "—"
    value = float(value_cny)
    if abs(round(value, digits)) < 10_000:
        return f"{value:,.{digits}f} 元"
    wan = f"{value / 10_000:,.2f}".rstrip("0").rstrip(".")
    return f"{wan} 万元"


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
