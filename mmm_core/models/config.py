"""The model's configuration: defaults and the parsing of per-channel hyperparameters.

``adstock_rate`` and ``saturation_param`` each accept:

- ``"auto"``: searched per channel by cross-validation (the default);
- a float: one value for every channel (the reference's behaviour). For ``adstock_rate`` it is
  the geometric decay rate in ``[0, 1)``; for ``saturation_param`` it is the Hill
  half-saturation point as a multiple of the channel's typical spend (mean of its non-zero
  periods), with shape 1 — so 0.6 means half of the channel's maximum effect is reached at 60%
  of its typical spend;
- a dict by spend column, whose values are any of the above or a full specification:
  ``{"type": "geometric", "rate": 0.4}``, ``{"type": "weibull", "shape": 2.0, "scale": 3.0}``
  for adstock, ``{"half_saturation": 25000.0, "shape": 1.5}`` (absolute spend units) for
  saturation. Columns not named in the dict are searched.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from mmm_core.errors import Codes, MMModelError, suggest_name
from mmm_core.transforms import ADSTOCKS, Adstock

AUTO = "auto"

#: The reference's fixed configuration: ``EconometricMMM(**MMM_DEFAULT_CONFIG)``.
MMM_DEFAULT_CONFIG: dict[str, Any] = {
    "adstock_rate": 0.5,
    "saturation_param": 0.6,
    "regularization_alpha": 0.1,
    "include_baseline": True,
    "max_iterations": 1000,
}

#: Ridge strengths searched when ``regularization_alpha="auto"``.
ALPHA_GRID: tuple[float, ...] = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0)


def _invalid(message: str, hint: str) -> MMModelError:
    return MMModelError(Codes.INVALID_PARAMETER, message, hint=hint)


def _per_channel(value: Any, channels: Sequence[str], name: str) -> list[Any]:
    """Spread a scalar/"auto" over channels, or read a dict by channel (missing: "auto")."""
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in channels]
        if unknown:
            close = suggest_name(unknown[0], channels)
            raise MMModelError(
                Codes.UNKNOWN_CHANNEL,
                f"{name} names {unknown[0]!r}, which is not a spend column ({list(channels)}).",
                hint=f"did you mean {close!r}?" if close else "key the dict by spend column.",
            )
        return [value.get(c, AUTO) for c in channels]
    return [value] * len(channels)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def parse_adstock(
    value: Any, channels: Sequence[str], family: str, max_lag: int
) -> list[tuple[Adstock, dict[str, float]]]:
    """Per channel: the adstock family and its fixed parameters (empty dict: search all)."""
    if family not in ADSTOCKS:
        raise _invalid(
            f"adstock={family!r} is not a known adstock.", f"use one of {sorted(ADSTOCKS)}."
        )
    out = []
    for channel, spec in zip(channels, _per_channel(value, channels, "adstock_rate"), strict=True):
        if isinstance(spec, str) and spec == AUTO:
            out.append((ADSTOCKS[family](max_lag), {}))
            continue
        rate = _number(spec)
        if rate is not None:
            adstock = ADSTOCKS["geometric"](max_lag)
            params = {"rate": rate}
        elif isinstance(spec, Mapping) and spec.get("type", "geometric") in ADSTOCKS:
            adstock = ADSTOCKS[spec.get("type", "geometric")](int(spec.get("max_lag", max_lag)))
            missing = [p for p in adstock.param_names if p not in spec]
            if missing:
                raise _invalid(
                    f"adstock_rate for {channel!r} lacks {missing}.",
                    f"give all of {list(adstock.param_names)} or 'auto'.",
                )
            params = {p: float(spec[p]) for p in adstock.param_names}
        else:
            raise _invalid(
                f"adstock_rate for {channel!r} is {spec!r}, which is not understood.",
                "use 'auto', a rate in [0, 1), or {'type': 'weibull', 'shape': 2, 'scale': 3}.",
            )
        adstock.check(params)
        out.append((adstock, params))
    return out


def parse_saturation(
    value: Any, channels: Sequence[str], scales: Sequence[float]
) -> list[dict[str, float]]:
    """Per channel: fixed Hill parameters (``half_saturation``, ``shape_hill``) or ``{}``."""
    out = []
    specs = _per_channel(value, channels, "saturation_param")
    for channel, spec, scale in zip(channels, specs, scales, strict=True):
        if isinstance(spec, str) and spec == AUTO:
            out.append({})
            continue
        multiple = _number(spec)
        if multiple is not None:
            if not (multiple > 0 and math.isfinite(multiple)):
                raise _invalid(
                    f"saturation_param for {channel!r} must be > 0, got {spec!r}.",
                    "it is the half-saturation point as a multiple of typical spend, e.g. 0.6.",
                )
            out.append({"half_saturation": multiple * scale, "shape_hill": 1.0})
        elif isinstance(spec, Mapping) and {"half_saturation", "shape"} <= set(spec):
            k, s = _number(spec["half_saturation"]), _number(spec["shape"])
            if k is None or s is None or k <= 0 or s <= 0:
                raise _invalid(
                    f"saturation_param for {channel!r} needs positive numbers, got {dict(spec)}.",
                    "half_saturation is a spend per period, shape typically 0.7-3.",
                )
            out.append({"half_saturation": k, "shape_hill": s})
        else:
            raise _invalid(
                f"saturation_param for {channel!r} is {spec!r}, which is not understood.",
                "use 'auto', a positive multiple of typical spend, or "
                "{'half_saturation': 25000, 'shape': 1.5}.",
            )
    return out


def parse_alpha(value: Any) -> tuple[float, ...]:
    """The ridge strengths to consider: one fixed value, or the grid for ``"auto"``."""
    if isinstance(value, str) and value == AUTO:
        return ALPHA_GRID
    alpha = _number(value)
    if alpha is None or not (alpha >= 0 and math.isfinite(alpha)):
        raise _invalid(
            f"regularization_alpha must be a number >= 0 or 'auto', got {value!r}.",
            "0.1 is mild shrinkage (scikit-learn's Ridge convention); 'auto' chooses by CV.",
        )
    return (alpha,)
