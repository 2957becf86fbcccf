"""Calibration: does a fitted MMM agree with a measured lift?

An experiment measured the incremental KPI a channel produced over a window (a geo test with
:func:`~mmm_core.incrementality.geo.geo_lift`, a platform's conversion-lift study...). The
model's counterpart is its *implied lift*: what it predicts for the data as they happened
minus what it predicts with the channel's spend changed over the window::

    implied = sum_t predict(data)_t - sum_t predict(data with spend_c * (1 + change) on window)_t

summed over every row of ``data``, so the carry-over after the window (within the data) is
included; rows before the window do not differ. The sign follows "the spend in ``data``
minus the changed spend":

* the channel's contribution over the window, which a hold-out (spend switched off in the
  test) measures: ``data`` with the usual spend and ``spend_change=-1`` (the default);
* a heavy-up of +50% recorded in ``data``: ``spend_change=-1/3`` takes the spend back to
  the usual level (``1.5 * 2/3 = 1``), so the implied lift is the heavy-up's.

A geo test measures the treated geos only: scale the measured lift to the model's footprint
(e.g. divide by the treated geos' share of the KPI) before comparing with a national model.

Examples
--------
>>> from mmm_core import EconometricMMM
>>> from mmm_core.data.synthetic import generate_mmm_data
>>> data, truth = generate_mmm_data(weeks=104, channels=2, seed=1)
>>> mmm = EconometricMMM(adstock_rate=0.5, saturation_param=0.6, n_bootstrap=0)
>>> _ = mmm.fit(data, "revenue", truth.spend_columns)
>>> lift = mmm_implied_lift(mmm, data, truth.spend_columns[0], "2022-03-07", "2022-04-25")
>>> lift > 0
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from mmm_core.errors import Codes, DataIntegrationError, MMModelError, suggest_name
from mmm_core.incrementality.geo import invalid_option

__all__ = ["SCHEMA_VERSION", "compare_with_experiment", "mmm_implied_lift"]

SCHEMA_VERSION = 1


def mmm_implied_lift(
    mmm_model: Any,
    data: pd.DataFrame,
    channel: str,
    start: Any,
    end: Any,
    spend_change: float = -1.0,
) -> float:
    """The KPI the model attributes to changing a channel's spend over a window.

    Predicted KPI with the channel's spend as in ``data`` minus predicted KPI with that spend
    multiplied by ``1 + spend_change`` on ``[start, end]``, summed over all rows of ``data``
    (carry-over after ``end`` included). See the module docstring for the sign convention.

    Parameters
    ----------
    mmm_model : EconometricMMM
        A fitted model (anything with ``predict(data)`` in row order and ``spend_columns_``).
    data : DataFrame
        The model's columns, with its date column when it was fitted with one.
    channel : str
        A spend column of the model.
    start, end : date-like or int
        Inclusive window: dates when the model has a date column present in ``data``, else
        0-based row positions.
    spend_change : float, default -1.0
        Relative change of the channel's spend over the window (``-1``: switched off); ``>= -1``.

    Returns
    -------
    float
        The implied lift in KPI units.

    Raises
    ------
    MMModelError
        ``MMM_002`` unfitted model, ``MMM_008`` unknown channel, ``MMM_006`` bad
        ``spend_change``.
    DataIntegrationError
        ``EMPTY_DATA``, ``MISSING_COLUMN`` (channel not in data), ``BAD_DATES`` (window out of
        the data or not dates).
    """
    channels = _fitted_channels(mmm_model)
    if channel not in channels:
        close = suggest_name(str(channel), channels)
        raise MMModelError(
            Codes.UNKNOWN_CHANNEL,
            f"{channel!r} is not a channel of this model ({channels}).",
            hint=f"did you mean {close!r}?" if close else f"use one of {channels}.",
            details={"channel": str(channel)},
        )
    if (
        isinstance(spend_change, bool)
        or not isinstance(spend_change, int | float | np.integer | np.floating)
        or not math.isfinite(spend_change)
        or spend_change < -1
    ):
        raise MMModelError(
            Codes.INVALID_PARAMETER,
            f"spend_change={spend_change!r} must be a number >= -1 (-1: spend switched off).",
            hint="give the relative change of the spend, e.g. -1, -0.5 or 0.3.",
            details={"parameter": "spend_change"},
        )
    if not isinstance(data, pd.DataFrame) or data.shape[0] == 0:
        raise DataIntegrationError(
            Codes.EMPTY_DATA, "the data are empty.", hint="pass the model's data (a DataFrame)."
        )
    if channel not in data.columns:
        raise DataIntegrationError(
            Codes.MISSING_COLUMN,
            f"the spend column {channel!r} is not in the data.",
            hint="pass data with the model's spend columns.",
            details={"column": channel},
        )
    window = _window(mmm_model, data, start, end)
    spend = data[channel].to_numpy(dtype=float)
    changed = data.copy()
    changed[channel] = np.where(window, spend * (1.0 + float(spend_change)), spend)
    as_is = np.asarray(mmm_model.predict(data), dtype=float)
    counterfactual = np.asarray(mmm_model.predict(changed), dtype=float)
    return float(np.sum(as_is - counterfactual))


def compare_with_experiment(
    mmm_model: Any,
    data: pd.DataFrame,
    channel: str,
    start: Any,
    end: Any,
    measured_lift_abs: float,
    measured_ci_abs: Sequence[float],
    *,
    spend_change: float = -1.0,
    level: float = 0.9,
) -> dict[str, Any]:
    """Compare the model's implied lift with an experiment's measured lift and interval.

    ``z = (implied - measured) / se`` with ``se = (hi - lo) / (2 z_level)`` (the interval read
    as a normal one, as the model's calibration does); ``agrees`` when the implied lift lies
    inside the measured interval.

    Parameters
    ----------
    mmm_model, data, channel, start, end, spend_change
        As in :func:`mmm_implied_lift`.
    measured_lift_abs : float
        The experiment's lift in KPI units (``geo_lift(...)["lift_abs"]``, scaled to the
        model's footprint).
    measured_ci_abs : [lo, hi]
        Its interval (``geo_lift(...)["ci_abs"]``).
    level : float, default 0.9
        Level of ``measured_ci_abs``.

    Returns
    -------
    dict
        ``implied``, ``measured``, ``ci``, ``agrees`` (bool), ``z``, plus ``se``, ``level``,
        ``ratio`` (implied / measured, ``None`` when measured is 0), ``channel``, ``window``
        and ``spend_change``.

    Raises
    ------
    MMModelError
        ``MMM_006`` for a measured lift or interval that is not finite, or ``lo >= hi``;
        otherwise as :func:`mmm_implied_lift`.
    """
    measured = _finite("measured_lift_abs", measured_lift_abs)
    if (
        isinstance(measured_ci_abs, str | bytes)
        or not hasattr(measured_ci_abs, "__len__")
        or len(measured_ci_abs) != 2
    ):
        raise invalid_option("measured_ci_abs", measured_ci_abs, "must be [lo, hi]")
    lo = _finite("measured_ci_abs", measured_ci_abs[0])
    hi = _finite("measured_ci_abs", measured_ci_abs[1])
    if not lo < hi:
        raise invalid_option("measured_ci_abs", measured_ci_abs, "must have lo < hi")
    if not (isinstance(level, float | int) and 0 < level < 1):
        raise invalid_option("level", level, "must be between 0 and 1")
    implied = mmm_implied_lift(mmm_model, data, channel, start, end, spend_change)
    se = (hi - lo) / (2.0 * NormalDist().inv_cdf(0.5 + level / 2))
    return {
        "schema_version": SCHEMA_VERSION,
        "channel": channel,
        "window": {"start": _text(start), "end": _text(end)},
        "spend_change": float(spend_change),
        "implied": implied,
        "measured": measured,
        "ci": [lo, hi],
        "level": float(level),
        "se": se,
        "z": (implied - measured) / se,
        "agrees": bool(lo <= implied <= hi),
        "ratio": implied / measured if measured != 0 else None,
    }


def _fitted_channels(mmm_model: Any) -> list[str]:
    channels = getattr(mmm_model, "spend_columns_", None)
    if channels is None or not hasattr(mmm_model, "predict"):
        raise MMModelError(
            Codes.NOT_FITTED,
            "the MMM is not fitted (it has no spend_columns_).",
            hint="fit it first, or load a saved model with EconometricMMM.load(path).",
        )
    return list(channels)


def _window(mmm_model: Any, data: pd.DataFrame, start: Any, end: Any) -> np.ndarray:
    """Rows of ``data`` in the inclusive window, by date when the model has dates."""
    date_column = getattr(mmm_model, "date_column_", None)
    if date_column is not None and date_column in data.columns:
        try:
            dates = pd.to_datetime(data[date_column])
            lo, hi = pd.Timestamp(start), pd.Timestamp(end)
        except (TypeError, ValueError) as exc:
            raise DataIntegrationError(
                Codes.BAD_DATES,
                f"cannot read the window {start!r} to {end!r} or the dates of {date_column!r}.",
                hint="give ISO dates such as '2023-03-06'.",
            ) from exc
        if dates.dt.tz is not None:
            dates = dates.dt.tz_localize(None)
        window = ((dates >= lo) & (dates <= hi)).to_numpy()
        span = f"{dates.min().date()} to {dates.max().date()}"
    else:
        if not all(isinstance(v, int | np.integer) for v in (start, end)):
            raise DataIntegrationError(
                Codes.BAD_DATES,
                "without the model's date column in the data, the window is given by row "
                "positions.",
                hint="use integers for start and end, or include the date column.",
            )
        rows = np.arange(len(data))
        window = (rows >= int(start)) & (rows <= int(end))
        span = f"rows 0 to {len(data) - 1}"
    if not window.any():
        raise DataIntegrationError(
            Codes.BAD_DATES,
            f"the window {start} to {end} holds no row of the data ({span}).",
            hint="give a window inside the data.",
            details={"start": _text(start), "end": _text(end)},
        )
    return window


def _finite(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise invalid_option(name, value, "must be a number")
    if not math.isfinite(float(value)):
        raise invalid_option(name, value, "must be finite")
    return float(value)


def _text(value: Any) -> Any:
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return int(value)
    return str(value)
