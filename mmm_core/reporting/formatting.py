"""How the reports write numbers for people: compact amounts, ratios, percentages, intervals.

Amounts carry no currency symbol (the model does not know the currency). Every function
accepts ``None`` (a number the results do not have) and writes ``"n/a"`` for it.

Examples
--------
>>> amount(35_494_951.8), amount(75_335.9), amount(-1234.4), ratio(1.8446), share(0.3062)
('35.5M', '75.3K', '-1.23K', '1.84', '30.6%')
>>> tick(1_000_000), tick(1_250_000), tick(8_000), tick(0.5)
('1M', '1.25M', '8K', '0.5')
>>> interval([1.3993, 2.619], ratio)
'1.40 to 2.62'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

NA = "n/a"


def _missing(value: float | None) -> bool:
    return value is None or not math.isfinite(value)


def amount(value: float | None) -> str:
    """Money or revenue, compact: ``1.23B``, ``35.5M``, ``75.3K``, ``9.88K``, ``950``."""
    if _missing(value):
        return NA
    size = abs(value)
    for unit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if size >= unit:
            scaled = value / unit
            digits = 2 if abs(scaled) < 10 else 1 if abs(scaled) < 100 else 0
            return f"{scaled:,.{digits}f}{suffix}"
    return f"{value:,.0f}"


def tick(value: float | None) -> str:
    """An axis tick: compact and without trailing zeros (``800K``, ``1.2M``, ``1M``, ``250``)."""
    if _missing(value):
        return ""
    for unit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= unit:
            return f"{value / unit:,.2f}".rstrip("0").rstrip(".") + suffix
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def signed_amount(value: float | None) -> str:
    """:func:`amount` with an explicit ``+`` for gains."""
    text = amount(value)
    return f"+{text}" if not _missing(value) and value > 0 else text


def full_amount(value: float | None) -> str:
    """An amount to the unit with thousands separators: ``19,032,000``."""
    return NA if _missing(value) else f"{value:,.0f}"


def ratio(value: float | None) -> str:
    """Revenue per unit of spend (ROI, mROI), two decimals."""
    return NA if _missing(value) else f"{value:,.2f}"


def share(value: float | None) -> str:
    """A fraction as a percentage with one decimal: ``0.306 -> '30.6%'``."""
    return NA if _missing(value) else f"{100 * value:.1f}%"


def percent(value: float | None, signed: bool = False) -> str:
    """A number already in percent (MAPE, change_pct): ``3.62 -> '3.6%'``."""
    if _missing(value):
        return NA
    return f"{value:+.1f}%" if signed else f"{value:.1f}%"


def interval(bounds: Sequence[float] | None, fmt: Callable[[float | None], str]) -> str:
    """``'lo to hi'`` with ``fmt`` applied to both ends, ``n/a`` without bounds."""
    if bounds is None or len(bounds) != 2 or any(_missing(b) for b in bounds):
        return NA
    return f"{fmt(bounds[0])} to {fmt(bounds[1])}"
