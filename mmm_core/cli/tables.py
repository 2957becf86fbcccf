"""Output of the ``mmm`` command line: fixed-width tables, number formats, progress lines.

Every table is plain text: the first column left-aligned, the others right-aligned, a rule of
dashes under the header, two spaces between columns, no trailing blanks.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence

__all__ = [
    "Row",
    "compact",
    "format_table",
    "interval",
    "money",
    "num",
    "pct",
    "plural",
    "progress",
    "signed_money",
    "signed_pct",
]

Row = list[str]


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Plain fixed-width table: first column left-aligned, the others right-aligned.

    Examples
    --------
    >>> print(format_table(["channel", "roi"], [["tv", "1.50"], ["search", "3.00"]]))
    channel   roi
    -------  ----
    tv       1.50
    search   3.00
    """
    cells = [list(headers), *[list(r) for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        parts = [
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def _missing(value: float | None) -> bool:
    return value is None or not math.isfinite(value)


def num(value: float | None, digits: int = 2) -> str:
    """``1.23`` (``n/a`` for ``None`` or a non-finite number)."""
    return "n/a" if _missing(value) else f"{value:.{digits}f}"


def pct(value: float | None) -> str:
    """A fraction as a percentage: ``0.123`` -> ``12.3%``."""
    return "n/a" if _missing(value) else f"{100.0 * value:.1f}%"  # type: ignore[operator]


def signed_pct(value: float | None) -> str:
    """A percentage (already in percent) with its sign: ``-15.0`` -> ``-15.0%``."""
    return "n/a" if _missing(value) else f"{value:+.1f}%"


def interval(bounds: Sequence[float] | None, digits: int = 2) -> str:
    """``[lo, hi]`` with ``digits`` decimals (``n/a`` when unknown)."""
    if not bounds:
        return "n/a"
    return f"[{num(bounds[0], digits)}, {num(bounds[1], digits)}]"


def money(value: float | None) -> str:
    """An amount rounded to units with thousands separators: ``1234567.8`` -> ``1,234,568``."""
    return "n/a" if _missing(value) else f"{value:,.0f}"


def signed_money(value: float | None) -> str:
    """:func:`money` with its sign: ``+1,234`` / ``-56``."""
    return "n/a" if _missing(value) else f"{value:+,.0f}"


def compact(value: float | None) -> str:
    """A short amount for dense tables: ``950``, ``12.5k``, ``9.52M``, ``1.20B``.

    Examples
    --------
    >>> [compact(v) for v in (950, 12_500, 9_516_000, 1.2e9)]
    ['950', '12.5k', '9.52M', '1.20B']
    """
    if _missing(value):
        return "n/a"
    size = abs(value)  # type: ignore[arg-type]
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if size >= limit:
            scaled = value / limit  # type: ignore[operator]
            digits = 2 if abs(scaled) < 10 else 1 if abs(scaled) < 100 else 0
            return f"{scaled:.{digits}f}{suffix}"
    return f"{value:.0f}"


def plural(count: int, noun: str) -> str:
    """``1 channel``, ``3 channels``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def progress(message: str) -> None:
    """A short progress line on stderr (results go to stdout)."""
    print(message, file=sys.stderr, flush=True)
