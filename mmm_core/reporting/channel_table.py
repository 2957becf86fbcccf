"""The detailed table: one row per channel with every number the results hold for it.

Nested entries are flattened with ``_`` (``adstock_rate``, ``saturation_half_saturation``),
``[lo, hi]`` pairs become ``<name>_lo`` and ``<name>_hi`` (``roi_interval`` gives ``roi_lo``,
``roi_hi``, placed right after ``roi``), and new keys in future results appear as new columns.
With an optimization, ``optimization_*`` columns follow (amounts over its horizon).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from numbers import Real
from typing import Any

from mmm_core.reporting.inputs import channel_names, number, section

_INTERVAL = "_interval"


def channel_table(
    mmm_results: Mapping[str, Any], summary: Mapping[str, Any]
) -> tuple[list[str], list[dict[str, Any]]]:
    """Columns and rows (one per channel, in the results' order) of the detailed table.

    Parameters
    ----------
    mmm_results : dict
        Checked fit results.
    summary : dict
        :func:`summary.executive_summary` of them (for the uncertainty flags and the moves).

    Returns
    -------
    (list of str, list of dict)
    """
    columns = ["channel"]
    uncertain = {c["channel"]: c["uncertain"] for c in summary["channels"]}
    moves = {m["channel"]: m for m in (summary["optimization"] or {}).get("channels", [])}
    binding: dict[str, list[str]] = {}
    for item in (summary["optimization"] or {}).get("binding_constraints", []):
        binding.setdefault(item["channel"] or "", []).append(item["constraint"] or "")
    rows = []
    for name, entry in zip(
        channel_names(mmm_results), mmm_results["channels"].values(), strict=True
    ):
        row: dict[str, Any] = {"channel": name}
        _flatten(entry, "", row, columns)
        curve = section(mmm_results, "response_curves", name)
        extras: dict[str, Any] = {
            "mean_spend_per_period": number(curve, "mean_spend"),
            "mean_revenue_per_period": number(curve, "mean_revenue"),
            "vif": number(mmm_results, "diagnostics", "vif", name),
            "roi_uncertain": uncertain.get(name),
        }
        if name in moves:
            move = moves[name]
            extras |= {
                f"optimization_{key}": move[key]
                for key in ("current", "optimal", "change", "change_pct", "marginal_roi")
            }
            lo, hi = move["bounds"] or (None, None)
            extras |= {"optimization_bounds_lo": lo, "optimization_bounds_hi": hi}
            extras["optimization_binding"] = "; ".join(binding.get(name, []))
        _flatten(extras, "", row, columns)
        rows.append(row)
    return columns, rows


def _flatten(
    entry: Mapping[str, Any], prefix: str, row: dict[str, Any], columns: list[str]
) -> None:
    for key, value in entry.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            _flatten(value, f"{name}_", row, columns)
        elif isinstance(value, list | tuple):
            pair = [number({"v": v}, "v") for v in value]
            if len(pair) == 2 and None not in pair:
                base = name.removesuffix(_INTERVAL)
                _add(row, columns, {f"{base}_lo": pair[0], f"{base}_hi": pair[1]}, after=base)
        elif value is None or isinstance(value, bool | int | str):
            _add(row, columns, {name: value}, after=None)
        elif isinstance(value, Real):  # floats and numpy scalars; NaN and inf become empty
            _add(row, columns, {name: number({"v": value}, "v")}, after=None)


def _add(row: dict[str, Any], columns: list[str], cells: dict[str, Any], after: str | None) -> None:
    row.update(cells)
    new = [c for c in cells if c not in columns]
    if not new:
        return
    at = columns.index(after) + 1 if after in columns else len(columns)
    columns[at:at] = new


def to_csv(columns: list[str], rows: list[dict[str, Any]]) -> str:
    """The table as CSV text (empty cells for missing values)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buffer.getvalue()
