"""Experiments as calibration targets for the model (as Robyn's ``calibration_input``).

An experiment (a geo test, a conversion-lift study) measured the incremental KPI a channel
produced over a window. Given as::

    {"channel": "tv_spend", "start": "2023-03-06", "end": "2023-04-24",
     "lift": 412000.0, "ci": [350000.0, 474000.0]}     # or "se": 37700.0

``ci`` is a 90% interval (``se = (hi - lo) / 3.29``). ``start``/``end`` are dates when the data
have a date column, else row positions (inclusive). The search then prefers hyperparameters
whose implied contribution over the window agrees with the lift: each experiment adds
``0.5 * ((implied - lift) / se)^2`` to the score, the experiment's Gaussian log-likelihood.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mmm_core.errors import Codes, DataIntegrationError, suggest_name
from mmm_core.models.search import CalibrationTarget
from mmm_core.models.validation import PreparedData

Z90 = 1.6448536269514722


def _error(message: str, hint: str) -> DataIntegrationError:
    return DataIntegrationError(Codes.DATA_ERROR, f"calibration: {message}", hint=hint)


def _window(spec: Mapping[str, Any], prepared: PreparedData) -> np.ndarray:
    n = prepared.n_rows
    start, end = spec.get("start"), spec.get("end")
    if start is None or end is None:
        raise _error("each experiment needs 'start' and 'end'.", "give the test window.")
    if prepared.dates is not None:
        try:
            lo, hi = pd.Timestamp(start), pd.Timestamp(end)
        except (TypeError, ValueError) as exc:
            raise _error(
                f"cannot read the window {start!r}-{end!r} as dates.", "use ISO dates."
            ) from exc
        dates = (
            prepared.dates.tz_localize(None) if prepared.dates.tz is not None else prepared.dates
        )
        window = np.asarray((dates >= lo) & (dates <= hi))
    else:
        if not all(isinstance(v, int | np.integer) for v in (start, end)):
            raise _error(
                "without a date column the window is given by row positions.",
                "use integers for 'start' and 'end', or fit with a date column.",
            )
        window = (np.arange(n) >= int(start)) & (np.arange(n) <= int(end))
    if not window.any():
        raise _error(
            f"the window {start}-{end} holds no fitted period.",
            "check the dates: the experiment must fall inside the data.",
        )
    return window


def parse_calibration(
    experiments: Sequence[Mapping[str, Any]] | None,
    prepared: PreparedData,
    channels: Sequence[str],
    y_scale: float,
) -> tuple[list[CalibrationTarget], list[dict[str, Any]]]:
    """Search targets (scaled) and a plain description of each experiment."""
    if not experiments:
        return [], []
    if isinstance(experiments, Mapping):
        experiments = [experiments]
    targets, described = [], []
    for spec in experiments:
        if not isinstance(spec, Mapping):
            raise _error(
                f"an experiment must be a dict, got {spec!r}.", "see help(EconometricMMM.fit)."
            )
        channel = spec.get("channel")
        if channel not in channels:
            close = suggest_name(str(channel), channels)
            raise _error(
                f"channel {channel!r} is not a spend column.",
                f"did you mean {close!r}?" if close else f"use one of {list(channels)}.",
            )
        lift = spec.get("lift")
        if isinstance(lift, bool) or not isinstance(lift, int | float) or not np.isfinite(lift):
            raise _error(
                f"'lift' of the {channel} experiment must be a number.",
                "the measured incremental KPI.",
            )
        if "se" in spec:
            se = float(spec["se"])
        elif "ci" in spec and len(spec["ci"]) == 2:
            lo, hi = (float(v) for v in spec["ci"])
            se = (hi - lo) / (2 * Z90)
        else:
            raise _error(
                f"the {channel} experiment needs 'se' or a 90% 'ci' [lo, hi].",
                "the uncertainty decides how much the experiment weighs.",
            )
        if not (se > 0 and np.isfinite(se)):
            raise _error(
                f"the {channel} experiment's uncertainty must be > 0.", "give se > 0 or lo < hi."
            )
        window = _window(spec, prepared)
        j = list(channels).index(channel)
        targets.append(CalibrationTarget(j, window, float(lift) / y_scale, se / y_scale))
        described.append(
            {
                "channel": channel,
                "start": str(spec["start"]),
                "end": str(spec["end"]),
                "periods": int(window.sum()),
                "measured": float(lift),
                "se": se,
            }
        )
    return targets, described
