"""``AttributionAnalyzer``: the reference's attribution methods side by side.

On aggregate (per-period) data it compares four rule-based methods, rebuilt for data without
user paths (:mod:`mmm_core.attribution.aggregate`), with the data-driven attribution of the
econometric MMM, and says where and how much they disagree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from mmm_core.attribution.aggregate import (
    HEURISTIC_DESCRIPTIONS,
    credit_revenue,
    heuristic_weights,
    lookback_windows,
)
from mmm_core.errors import Codes, MMModelError
from mmm_core.models.econometric_mmm import EconometricMMM
from mmm_core.models.validation import PreparedData, prepare_training_data

__all__ = ["SCHEMA_VERSION", "AttributionAnalyzer"]

SCHEMA_VERSION = 1
FloatArray = NDArray[np.float64]

DATA_DRIVEN = "data_driven"
METHODS = ("last_touch", "first_touch", "linear", "time_decay", DATA_DRIVEN)
DATA_DRIVEN_DESCRIPTION = (
    "Each channel's share of the media contribution estimated by the econometric MMM "
    "(carry-over, saturation, baseline, trend, seasonality and controls fitted to the revenue). "
    "Attributed revenue is what the model says media caused; the rest is baseline and controls. "
    "Misleads when the model is misspecified, when channels' spend moves together (see the share "
    "intervals and the model's warnings) or when the history is short."
)


class AttributionAnalyzer:
    """Attribution by several methods, compared on the same data.

    The constructor takes no arguments; each analysis is a method call. After
    :meth:`run_attribution_analysis` the MMM behind the data-driven method is kept in
    ``mmm_model_`` (``None`` when only results were given), so it can be reused.

    Examples
    --------
    >>> from mmm_core.data.synthetic import generate_mmm_data
    >>> data, truth = generate_mmm_data(weeks=104, channels=3, seed=1)
    >>> report = AttributionAnalyzer().run_attribution_analysis(
    ...     data, truth.spend_columns, "revenue", mmm_model=EconometricMMM(n_bootstrap=0)
    ... )
    >>> report["method"], round(sum(report["attribution"].values()), 6)
    ('data_driven', 1.0)
    """

    def run_attribution_analysis(
        self,
        data: pd.DataFrame,
        spend_columns: Sequence[str],
        revenue_column: str,
        *,
        mmm_model: EconometricMMM | None = None,
        mmm_results: Mapping[str, Any] | None = None,
        control_columns: Sequence[str] | None = None,
        date_column: str | bool | None = None,
        half_life: float = 2.0,
        window: int = 4,
    ) -> dict[str, Any]:
        """Attribute revenue to the spend channels by five methods and compare them.

        Aggregate data have no user paths, so the four rule-based methods are rebuilt from
        when and how much each channel spent. A channel *touches* a period when it spends in it;
        the revenue of period ``t`` is shared among the touches of its lookback window, periods
        ``t - window + 1 .. t`` (age 0 is ``t`` itself):

        * ``last_touch``: to the channels of the most recent touched period of the window (the
          period itself whenever something ran), split by their spend there. Rewards what is
          running when sales happen; ignores carry-over.
        * ``first_touch``: to the channels of the oldest touched period of the window, split by
          their spend there: a lagged spend share that swings with ``window``.
        * ``linear``: equally among the channels that spent at least once in the window,
          whatever they spent: rewards being switched on often.
        * ``time_decay``: in proportion to window spend weighted ``2^(-age / half_life)``: an
          assumed carry-over without saturation.
        * ``data_driven``: the MMM's contribution shares (fitted here unless given).

        The rule-based methods have no baseline: they hand out all revenue of the periods
        with spend in their window, including sales that would have happened without media,
        so their attributed revenue and ROI are inflated next to the MMM's; and since three of
        them follow spend, they give channels similar ROIs whatever the channels really
        return. Compare shares, and treat only the MMM's ROIs as effects.

        Parameters
        ----------
        data : DataFrame
            One row per period (week), sorted or with a date column.
        spend_columns : list of str
            Media spend columns, non-negative.
        revenue_column : str
            The revenue column.
        mmm_model : EconometricMMM, optional
            The data-driven model: used as fitted (its ``results_``), or fitted on ``data``
            when not fitted yet (a way to choose its settings). Default: a fresh
            ``EconometricMMM()`` fitted on ``data``.
        mmm_results : dict, optional
            Results of an MMM already fitted on ``data`` (``EconometricMMM.fit``'s output, or
            at least ``{"channels": {col: {"contribution": float}}}``); skips the fit.
        control_columns : list of str, optional
            Non-media drivers, passed to the MMM when it is fitted here.
        date_column : str, None or False
            As in :meth:`EconometricMMM.fit`: ``None`` detects it, ``False`` means rows are
            consecutive periods in the order given. Rows are put in date order first.
        half_life : float, default 2.0
            Periods over which a touch's weight halves under ``time_decay`` (``> 0``).
        window : int, default 4
            Periods in each lookback window, the current one included (``>= 1``).

        Returns
        -------
        dict
            JSON-serialisable:

            * ``attribution`` (data-driven shares) and ``method`` (``"data_driven"``): the
              reference's format;
            * ``methods``: per method ``attribution`` (shares summing to 1),
              ``attributed_revenue``, ``roi`` (attributed revenue / spend), ``unattributed_revenue``
              and ``description``; ``data_driven`` also has ``share_interval`` when known;
            * ``table``: one row per channel with ``spend``, ``<method>_share``, ``<method>_roi``
              and ``spread``;
            * ``spread``: per channel, the largest minus the smallest share across methods;
              ``disagreement``: their mean;
            * ``revenue_total``, ``parameters``, ``mmm`` (where the data-driven results came
              from and how well the model fits), ``notes`` (caveats in plain English) and
              ``schema_version``.

        Raises
        ------
        DataIntegrationError
            Bad input data (codes ``MMM_1xx``, from :func:`prepare_training_data`).
        MMModelError
            ``INVALID_PARAMETER`` for bad ``window``, ``half_life``, ``mmm_model`` or
            ``mmm_results`` (or both given); ``COLUMNS_MISMATCH`` when the MMM's channels are
            not ``spend_columns``; errors of the MMM fit.
        """
        window, half_life = _check_parameters(window, half_life)
        if mmm_model is not None and mmm_results is not None:
            raise MMModelError(
                Codes.INVALID_PARAMETER,
                "pass mmm_model or mmm_results, not both.",
                hint="give the fitted model, or its results, for the data-driven method.",
            )
        if mmm_model is not None and not isinstance(mmm_model, EconometricMMM):
            raise MMModelError(
                Codes.INVALID_PARAMETER,
                f"mmm_model must be an EconometricMMM, got {type(mmm_model).__name__}.",
                hint="pass EconometricMMM(...) (fitted or not), or its results as mmm_results.",
            )
        prepared = prepare_training_data(
            data, revenue_column, spend_columns, control_columns, date_column, min_rows=1
        )
        columns = list(spend_columns)
        revenue = prepared.y
        assert revenue is not None
        spend_total = prepared.spend.sum(axis=0)

        methods: dict[str, dict[str, Any]] = {}
        windows = lookback_windows(prepared.spend, window)
        for name, weights in heuristic_weights(windows, half_life).items():
            attributed, unattributed = credit_revenue(revenue, weights)
            methods[name] = _method_entry(
                columns, attributed, spend_total, unattributed, HEURISTIC_DESCRIPTIONS[name]
            )

        results, source = self._mmm_results(
            data, columns, revenue_column, mmm_model, mmm_results, control_columns, date_column
        )
        contribution, mmm_spend, interval = _read_mmm_results(results, columns)
        spend_for_roi = np.where(np.isfinite(mmm_spend), mmm_spend, spend_total)
        methods[DATA_DRIVEN] = _method_entry(
            columns,
            contribution,
            spend_for_roi,
            float(revenue.sum() - contribution.sum()),
            DATA_DRIVEN_DESCRIPTION,
        )
        if interval is not None:
            methods[DATA_DRIVEN]["share_interval"] = interval

        shares = np.array([[methods[k]["attribution"][c] for c in columns] for k in METHODS])
        spread = shares.max(axis=0) - shares.min(axis=0)
        table = [
            {
                "channel": col,
                "spend": float(spend_total[j]),
                **{f"{k}_share": methods[k]["attribution"][col] for k in METHODS},
                **{f"{k}_roi": methods[k]["roi"][col] for k in METHODS},
                "spread": float(spread[j]),
            }
            for j, col in enumerate(columns)
        ]
        performance = results.get("performance") if isinstance(results, Mapping) else None
        return {
            "schema_version": SCHEMA_VERSION,
            "attribution": dict(methods[DATA_DRIVEN]["attribution"]),
            "method": DATA_DRIVEN,
            "methods": methods,
            "table": table,
            "spread": {col: float(s) for col, s in zip(columns, spread, strict=True)},
            "disagreement": float(spread.mean()),
            "revenue_total": float(revenue.sum()),
            "parameters": {
                "window": window,
                "half_life": half_life,
                "periods": prepared.n_rows,
                "date_column": prepared.date_column,
            },
            "mmm": {
                "source": source,
                "r2_score": _float_or_none(performance, "r2_score"),
                "media_share_of_revenue": float(contribution.sum() / revenue.sum())
                if revenue.sum()
                else None,
            },
            "notes": _notes(prepared, columns, methods, spread, results, spend_total, mmm_spend),
        }

    def _mmm_results(
        self,
        data: pd.DataFrame,
        columns: list[str],
        revenue_column: str,
        mmm_model: EconometricMMM | None,
        mmm_results: Mapping[str, Any] | None,
        control_columns: Sequence[str] | None,
        date_column: str | bool | None,
    ) -> tuple[Mapping[str, Any], str]:
        """The data-driven method's results and where they came from."""
        if mmm_results is not None:
            self.mmm_model_: EconometricMMM | None = None
            return mmm_results, "results"
        model = EconometricMMM() if mmm_model is None else mmm_model
        if hasattr(model, "results_"):
            self.mmm_model_ = model
            return model.results_, "model"
        model.fit(
            data,
            revenue_column,
            columns,
            control_columns=control_columns,
            date_column=date_column,  # type: ignore[arg-type]  # False is accepted
        )
        self.mmm_model_ = model
        return model.results_, "fitted"


# ------------------------------------------------------------------------------------ helpers


def _is_finite_number(value: Any) -> bool:
    """A finite real number (bool excluded)."""
    return (
        isinstance(value, int | float | np.integer | np.floating)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def _check_parameters(window: Any, half_life: Any) -> tuple[int, float]:
    if isinstance(window, bool) or not isinstance(window, int | np.integer) or window < 1:
        raise MMModelError(
            Codes.INVALID_PARAMETER,
            f"window must be an integer >= 1 (periods looked back, the current one included), "
            f"got {window!r}.",
            hint="pass e.g. window=4 for four weeks of weekly data.",
        )
    if not _is_finite_number(half_life) or half_life <= 0:
        raise MMModelError(
            Codes.INVALID_PARAMETER,
            f"half_life must be a finite number > 0 (periods), got {half_life!r}.",
            hint="pass e.g. half_life=2.0: a touch two periods old counts half as much.",
        )
    return int(window), float(half_life)


def _method_entry(
    columns: list[str],
    attributed: FloatArray,
    spend: FloatArray,
    unattributed: float,
    description: str,
) -> dict[str, Any]:
    total = attributed.sum()
    shares = attributed / total if total > 0 else np.zeros_like(attributed)
    roi = np.divide(attributed, spend, out=np.zeros_like(attributed), where=spend > 0)
    return {
        "attribution": {c: float(v) for c, v in zip(columns, shares, strict=True)},
        "attributed_revenue": {c: float(v) for c, v in zip(columns, attributed, strict=True)},
        "roi": {c: float(v) for c, v in zip(columns, roi, strict=True)},
        "unattributed_revenue": float(unattributed),
        "description": description,
    }


def _invalid_results(message: str) -> MMModelError:
    return MMModelError(
        Codes.INVALID_PARAMETER,
        f"mmm_results {message}",
        hint="pass the dict EconometricMMM.fit returned, or "
        "{'channels': {column: {'contribution': float}}} for every spend column.",
    )


def _read_mmm_results(
    results: Mapping[str, Any], columns: list[str]
) -> tuple[FloatArray, FloatArray, dict[str, list[float]] | None]:
    """Contributions, spend (NaN when absent) and share intervals (or None) per column."""
    channels = results.get("channels") if isinstance(results, Mapping) else None
    if not isinstance(channels, Mapping):
        raise _invalid_results("must be a dict with a 'channels' dict.")
    if set(channels) != set(columns):
        raise MMModelError(
            Codes.COLUMNS_MISMATCH,
            f"the MMM's channels {sorted(map(str, channels))} are not the spend columns "
            f"{sorted(columns)}.",
            hint="fit the MMM on the same spend columns as the attribution, or pass them all.",
            details={"mmm_channels": sorted(map(str, channels)), "spend_columns": columns},
        )
    contribution = np.empty(len(columns))
    spend = np.full(len(columns), np.nan)
    intervals: dict[str, list[float]] = {}
    for j, col in enumerate(columns):
        entry = channels[col]
        value = entry.get("contribution") if isinstance(entry, Mapping) else None
        if not _is_finite_number(value) or value < 0:
            raise _invalid_results(
                f"has no finite, non-negative contribution for {col!r} (got {value!r})."
            )
        contribution[j] = float(value)
        given = entry.get("spend")
        if _is_finite_number(given) and given > 0:
            spend[j] = float(given)
        interval = entry.get("share_interval")
        if isinstance(interval, list | tuple) and len(interval) == 2:
            intervals[col] = [float(interval[0]), float(interval[1])]
    return contribution, spend, intervals if len(intervals) == len(columns) else None


def _float_or_none(mapping: Any, key: str) -> float | None:
    value = mapping.get(key) if isinstance(mapping, Mapping) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _percent(part: float, whole: float) -> str:
    return f"{part / whole:.0%}" if whole > 0 else "n/a"


def _range(values: Mapping[str, float]) -> str:
    return f"{min(values.values()):.2f} to {max(values.values()):.2f}"


def _notes(
    prepared: PreparedData,
    columns: list[str],
    methods: dict[str, dict[str, Any]],
    spread: FloatArray,
    results: Mapping[str, Any],
    spend_total: FloatArray,
    mmm_spend: FloatArray,
) -> list[str]:
    assert prepared.y is not None
    revenue = float(prepared.y.sum())
    rules = [k for k in METHODS if k != DATA_DRIVEN]
    handed_out = revenue - methods["linear"]["unattributed_revenue"]
    media = revenue - methods[DATA_DRIVEN]["unattributed_revenue"]
    notes = [
        "The data are totals per period, not user paths: last-touch, first-touch, linear and "
        "time-decay are rebuilt from when and how much each channel spent, not from who saw what.",
        f"The rule-based methods have no baseline: they hand out {handed_out:,.0f} of "
        f"{revenue:,.0f} revenue ({_percent(handed_out, revenue)}: every period with spend in its "
        f"window), while the MMM credits media with {media:,.0f} ({_percent(media, revenue)}) "
        "and the rest to baseline and controls. Their attributed revenue and ROI are inflated "
        "accordingly; compare their shares, not their ROIs, with the MMM's.",
        f"ROIs under time-decay range from {_range(methods['time_decay']['roi'])} because its "
        f"credit follows spend; the MMM's range from {_range(methods[DATA_DRIVEN]['roi'])}. Only "
        "the MMM estimates what each unit of spend drove.",
    ]
    unattributed = methods["linear"]["unattributed_revenue"]
    if unattributed > 0:
        notes.append(
            f"Revenue of {unattributed:,.0f} falls in periods with no spend in their lookback "
            "window; the rule-based methods credit it to no channel."
        )
    negative = int((prepared.y < 0).sum())
    if negative:
        notes.append(
            f"Revenue is negative in {negative} period(s); the rule-based methods pass negative "
            "revenue on to the channels too, so their shares can fall outside 0 to 1."
        )
    worst = int(np.argmax(spread))
    notes.append(
        f"The five methods' shares differ by {spread.mean():.1%} on average per channel; most "
        f"for {columns[worst]} ({spread[worst]:.1%}: from "
        f"{min(methods[k]['attribution'][columns[worst]] for k in METHODS):.1%} to "
        f"{max(methods[k]['attribution'][columns[worst]] for k in METHODS):.1%})."
    )
    if media <= 0:
        notes.append("The MMM credits no revenue to media: its shares are all zero.")
    if any(sum(methods[k]["attributed_revenue"].values()) <= 0 for k in rules):
        notes.append(
            "The revenue the rule-based methods credit nets to zero or less, so their shares "
            "are set to zero."
        )
    known = np.isfinite(mmm_spend)
    if known.any() and not np.allclose(mmm_spend[known], spend_total[known], rtol=1e-6):
        notes.append(
            "The MMM results were computed on data whose spend totals differ from these data: "
            "the data-driven shares describe that data, not this one."
        )
    diagnostics = results.get("diagnostics") if isinstance(results, Mapping) else None
    warnings = diagnostics.get("warnings") if isinstance(diagnostics, Mapping) else None
    if isinstance(warnings, list):
        notes.extend(f"MMM: {w}" for w in warnings if isinstance(w, str))
    return notes
