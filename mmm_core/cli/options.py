"""Options shared by the subcommands, and the checks of their values.

A bad value raises :class:`UsageError` (``MMM_006``), which the entry point prints as one line
``error [MMM_006]: ... How to fix: ...`` with exit status 2.
"""

from __future__ import annotations

import argparse
import math
import re

from mmm_core.errors import Codes, MMModelError
from mmm_core.store.factory import DEFAULT_HOME, HOME_ENV

__all__ = [
    "DEFAULT_HOME",
    "HOME_ENV",
    "UsageError",
    "add_data_options",
    "add_home",
    "add_model",
    "parse_amount",
    "parse_fraction",
    "split_names",
]


class UsageError(MMModelError):
    """A command-line usage problem (unknown subcommand, missing or malformed option)."""

    default_code = Codes.INVALID_PARAMETER


def usage_error(message: str, hint: str) -> UsageError:
    """A :class:`UsageError` with code ``MMM_006``."""
    return UsageError(Codes.INVALID_PARAMETER, message, hint=hint)


def add_home(p: argparse.ArgumentParser) -> None:
    """``--home DIR``."""
    p.add_argument(
        "--home",
        metavar="DIR",
        help=f"where models and reports are stored (default: ${HOME_ENV}, else ./{DEFAULT_HOME})",
    )


def add_model(p: argparse.ArgumentParser, *, required: bool = True) -> None:
    """``--model PATH|ID``."""
    p.add_argument(
        "--model",
        required=required,
        metavar="PATH|ID",
        help="model.json, its folder, or a model id under <home>/models",
    )


def split_names(text: str | None, option: str, *, required: bool) -> list[str]:
    """Comma-separated names (blanks dropped); an empty list raises unless optional."""
    names = [part.strip() for part in (text or "").split(",") if part.strip()]
    if required and not names:
        raise usage_error(
            f"{option} names no column.",
            f"pass column names separated by commas, e.g. {option} tv_spend,search_spend.",
        )
    return names


_SUFFIXES = {"": 1.0, "k": 1e3, "m": 1e6, "b": 1e9}


def parse_amount(text: str, option: str) -> float:
    """A positive amount of money: ``250000``, ``250,000``, ``250_000``, ``250k``, ``1.5M``."""
    match = re.fullmatch(r"\s*([0-9][0-9,_]*\.?[0-9]*(?:e[+-]?[0-9]+)?)\s*([kmb]?)\s*", text, re.I)
    value = math.nan
    if match:
        try:
            value = float(match.group(1).replace(",", "").replace("_", ""))
            value *= _SUFFIXES[match.group(2).lower()]
        except ValueError:
            value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise usage_error(
            f"{option} must be a positive amount, got {text!r}.",
            f"pass e.g. {option} 250000 (or 250k, 1.5M): money over the planning horizon.",
        )
    return value


def parse_fraction(text: str, option: str, *, allow_none: bool = False) -> float | None:
    """A fraction ``>= 0`` such as ``0.3`` (``30%`` also works); ``none`` when allowed."""
    cleaned = text.strip().lower()
    if allow_none and cleaned == "none":
        return None
    try:
        value = float(cleaned[:-1]) / 100.0 if cleaned.endswith("%") else float(cleaned)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        extra = ", or 'none' to remove the default safety limits" if allow_none else ""
        raise usage_error(
            f"{option} must be a fraction >= 0, got {text!r}.",
            f"pass e.g. {option} 0.3 for ±30%{extra}.",
        )
    return value


def add_data_options(
    p: argparse.ArgumentParser,
    *,
    target_help: str,
    controls_help: str,
    dates_help: str,
    required: bool = True,
) -> None:
    """``--data --target --spend --controls --date-column``: a table of one row per period.

    With ``required=False`` the command checks them itself (another source may stand in).
    """
    p.add_argument("--data", required=required, metavar="FILE", help="a .csv or .parquet file")
    p.add_argument("--target", required=required, metavar="COL", help=target_help)
    p.add_argument(
        "--spend",
        required=required,
        metavar="A,B,C",
        help="comma-separated media spend columns (money per period)",
    )
    p.add_argument("--controls", metavar="X,Y", default="", help=controls_help)
    p.add_argument("--date-column", metavar="COL", help=dates_help)
