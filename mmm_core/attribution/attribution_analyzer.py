"""``AttributionAnalyzer``: the reference's attribution methods side by side.

On aggregate (per-period) data it compares four rule-based methods, rebuilt for data without
user paths (:mod:`mmm_core.attribution.aggregate`), with the data-driven attribution of the
econometric MMM, and says where and how much they disagree.

On customer journeys (:meth:`AttributionAnalyzer.analyze_journeys`, the API's
``/attribution/analyze``) it runs one multi-touch model: the rules of
:mod:`~mmm_core.attribution.heuristics`, the Markov chain of :mod:`~mmm_core.attribution.markov`
or the Shapley value of :mod:`~mmm_core.attribution.shapley`, on journeys read by
:mod:`~mmm_core.attribution.journeys`.
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
from mmm_core.attribution.heuristics import (
    DEFAULT_HALF_LIFE_DAYS,
    DEFAULT_POSITION_WEIGHTS,
    HEURISTICS,
    check_half_life,
    check_position_weights,
    heuristic_attribution,
)
from mmm_core.attribution.journeys import JourneyData, parse_journeys, select_touches
from mmm_core.attribution.markov import markov_attribution
from mmm_core.attribution.shapley import (
    DEFAULT_MAX_EXACT_CHANNELS,
    DEFAULT_SHAPLEY_SAMPLES,
    shapley_attribution,
)
from mmm_core.errors import Codes, MMModelError, suggest_name
from mmm_core.models.econometric_mmm import EconometricMMM
from mmm_core.models.validation import PreparedData, prepare_training_data

__all__ = ["JOURNEY_MODELS", "SCHEMA_VERSION", "AttributionAnalyzer"]

SCHEMA_VERSION = 1
FloatArray = NDArray[np.float64]

DATA_DRIVEN = "data_driven"
METHODS = ("last_touch", "first_touch", "linear", "time_decay", DATA_DRIVEN)
JOURNEY_MODELS = (*HEURISTICS, "markov", "shapley")
#: Options of analyze_journeys per model (with their defaults); after_conversion is for all.
JOURNEY_OPTIONS: dict[str, dict[str, Any]] = {
    "time_decay": {"half_life": DEFAULT_HALF_LIFE_DAYS},
    "position_based": {"position_weights": DEFAULT_POSITION_WEIGHTS},
    "markov": {"order": 1},
    "shapley": {
        "max_exact_channels": DEFAULT_MAX_EXACT_CHANNELS,
        "n_samples": DEFAULT_SHAPLEY_SAMPLES,
        "seed": 0,
    },
}
JOURNEY_DESCRIPTIONS: dict[str, str] = {
    "first_touch": "Each conversion goes to the first touch of its journey (in the window).",
    "last_touch": "Each conversion goes to the last touch before it.",
    "linear": "Each conversion is split equally among the touches of its journey.",
    "time_decay": "Each conversion is split among its journey's touches with weights halving "
    "every half_life days before the last touch.",
    "position_based": "Each conversion gives position_weights[0] to the first touch, "
    "position_weights[2] to the last and position_weights[1] to the touches between, split "
    "equally (one touch takes all; two split first : last).",
    "markov": "Journeys are walks of a Markov chain over channels (order k: the last k "
    "channels) ending in conversion or null; a channel is credited in proportion to its "
    "removal effect, the share of the chain's conversion probability lost when the channel is "
    "removed (computed exactly).",
    "shapley": "The conversions of the journeys exposed to a set of channels are shared among "
    "those channels by the Shapley value of the game whose worth is the conversion rate of "
    "journeys exposed to exactly a coalition (Dalessandro et al. 2012); exact for sets of up to "
    "max_exact_channels channels, sampled beyond.",
}

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

    def analyze_journeys(
        self,
        journeys: Sequence[Mapping[str, Any]] | pd.DataFrame | JourneyData,
        attribution_model: str = "markov",
        lookback_window: float | None = 30,
        include_view_through: bool = True,
        **options: Any,
    ) -> dict[str, Any]:
        """Multi-touch attribution of the conversions (and value) of customer journeys.

        Parameters
        ----------
        journeys : list of dict, DataFrame or JourneyData
            The API's ``customer_journeys`` list (one dict per journey with ``touchpoints``,
            ``converted``, ``conversion_value``...) or the long frame (one row per touch:
            ``journey_id``, ``timestamp``, ``channel``, ``interaction``, ``converted``,
            ``conversion_value``; a converted journey converts at its last touch). See
            :mod:`mmm_core.attribution.journeys` for the fields and how awkward input is
            handled. The parsed journeys are kept in ``journey_data_`` and can be passed back.
        attribution_model : str, default "markov"
            ``first_touch``, ``last_touch``, ``linear``, ``time_decay``, ``position_based``,
            ``markov`` or ``shapley``.
        lookback_window : float or None, default 30
            Days before the conversion (before the last touch for a journey that did not
            convert) within which touches count; older ones are dropped. ``None``: no limit.
        include_view_through : bool, default True
            Keep view (impression) touches; ``False`` drops them and keeps clicks only.
        **options
            ``half_life`` (days, default 7; ``time_decay``), ``position_weights`` ((first,
            middle, last), default (0.4, 0.2, 0.4); ``position_based``), ``order`` (default 1;
            ``markov``), ``max_exact_channels`` (15: channel sets up to this size are solved
            exactly, larger ones sampled), ``n_samples`` (1000 channel orders) and ``seed`` (0)
            (``shapley``), and for every model ``after_conversion`` (``"error"`` or ``"drop"``:
            touches later than the journey's ``conversion_timestamp``).

        Returns
        -------
        dict
            JSON-serialisable:

            * ``attribution``: ``{channel: share of the attributed conversions}``;
              ``attributed_conversions`` and ``attributed_value``: ``{channel: amount}``;
              ``value_attribution``: shares of the attributed value; ``method``: the model;
            * ``table``: one row per channel (``channel``, ``conversions``, ``value``, ``share``,
              ``value_share``, ``touches`` used);
            * ``totals``: journeys, conversions and value in the input, attributed and
              unattributed (conversions of journeys left without touches), touches given, used
              and dropped (``dropped_lookback``, ``dropped_view_through``). Attributed plus
              unattributed equals the input's conversions and value;
            * ``markov`` (``order``, ``removal_effects``, ``removal_effects_value``,
              ``conversion_probability``, ``value_per_journey``, ``transition_matrix``
              ``{from: {to: p}}``, ``n_states``) or ``shapley`` (``exact``, ``n_samples``,
              ``seed``, ``n_coalitions``, ``n_sampled_coalitions``, ``standard_error``,
              ``standard_error_value``) for those models;
            * ``parameters``, ``description``, ``notes`` and ``schema_version``.

        Raises
        ------
        DataIntegrationError
            Journeys that cannot be read (see :mod:`mmm_core.attribution.journeys`).
        MMModelError
            ``INVALID_PARAMETER`` for an unknown model or option, or a bad option value.

        Examples
        --------
        >>> journeys = [
        ...     {"journey_id": "u1", "converted": True, "conversion_value": 90.0,
        ...      "touchpoints": [
        ...          {"channel": "display", "timestamp": "2024-05-01", "interaction": "view"},
        ...          {"channel": "search", "timestamp": "2024-05-03", "interaction": "click"}]},
        ...     {"journey_id": "u2", "converted": False,
        ...      "touchpoints": [{"channel": "display", "timestamp": "2024-05-02"}]},
        ... ]
        >>> result = AttributionAnalyzer().analyze_journeys(journeys, "linear")
        >>> result["attribution"], result["attributed_value"]
        ({'display': 0.5, 'search': 0.5}, {'display': 45.0, 'search': 45.0})
        """
        model = _check_journey_model(attribution_model)
        lookback = _check_lookback(lookback_window)
        if not isinstance(include_view_through, bool | np.bool_):
            raise MMModelError(
                Codes.INVALID_PARAMETER,
                f"include_view_through must be true or false, got {include_view_through!r}.",
                hint="true keeps view (impression) touches; false keeps clicks only.",
            )
        settings = _journey_settings(model, options)
        after_conversion = settings.pop("after_conversion")
        data = parse_journeys(journeys, after_conversion=after_conversion)
        self.journey_data_ = data
        selected, dropped = select_touches(data, lookback, bool(include_view_through))

        extra: dict[str, Any] = {}
        notes = list(data.notes)
        if model in HEURISTICS:
            conversions, value = heuristic_attribution(selected, model, **settings)
        elif model == "markov":
            chain = markov_attribution(selected, settings["order"])
            conversions, value = chain.conversions, chain.value
            extra["markov"] = {
                "order": chain.order,
                "conversion_probability": chain.conversion_probability,
                "value_per_journey": chain.value_per_journey,
                "removal_effects": _by_channel(data.channels, chain.removal_effects),
                "removal_effects_value": _by_channel(data.channels, chain.removal_effects_value),
                "n_states": len(chain.state_names) - 3,
                "transition_matrix": chain.transition_matrix(),
            }
            rare = _rare_states(chain.counts)
            if chain.order > 1 and rare:
                notes.append(
                    f"{rare} of {len(chain.state_names) - 3} states of the order-{chain.order} "
                    "chain were left fewer than 10 times: their transition probabilities are "
                    "noisy; a lower order may attribute more reliably."
                )
        else:
            result = shapley_attribution(selected, **settings)
            conversions, value = result.conversions, result.value
            extra["shapley"] = {
                "exact": result.exact,
                "n_samples": result.n_samples,
                "seed": settings["seed"],
                "n_coalitions": result.n_coalitions,
                "n_sampled_coalitions": result.n_sampled_coalitions,
                "standard_error": _by_channel(data.channels, result.standard_error),
                "standard_error_value": _by_channel(data.channels, result.standard_error_value),
            }
            if (conversions < 0).any() or (value < 0).any():
                negative = [c for c, v in zip(data.channels, conversions, strict=True) if v < 0]
                notes.append(
                    "Negative Shapley credit for "
                    f"{', '.join(negative) or 'some channel value'}: journeys exposed to it "
                    "convert less (or are worth less) than comparable journeys without it."
                )
            if not result.exact:
                notes.append(
                    f"Shapley values of the {result.n_sampled_coalitions} channel set(s) with more "
                    f"than {settings['max_exact_channels']} channels were estimated from "
                    f"{result.n_samples} sampled channel orders (see shapley.standard_error)."
                )
        parameters = {
            "attribution_model": model,
            "lookback_window": lookback,
            "include_view_through": bool(include_view_through),
            "after_conversion": after_conversion,
            **{k: _plain_option(v) for k, v in settings.items()},
        }
        return {
            "schema_version": SCHEMA_VERSION,
            **_journey_report(model, data, selected, conversions, value, dropped, notes),
            "parameters": parameters,
            **extra,
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


# ------------------------------------------------------------------------- journey helpers


def _check_journey_model(name: Any) -> str:
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_") if name else ""
    if key not in JOURNEY_MODELS:
        guess = suggest_name(str(name), JOURNEY_MODELS)
        raise MMModelError(
            Codes.INVALID_PARAMETER,
            f"unknown attribution_model {name!r}; expected one of {list(JOURNEY_MODELS)}.",
            hint=f"did you mean {guess!r}?" if guess else "pick one of the listed models.",
        )
    return key


def _check_lookback(lookback: Any) -> float | None:
    if lookback is None:
        return None
    if not _is_finite_number(lookback) or lookback <= 0:
        raise MMModelError(
            Codes.INVALID_PARAMETER,
            f"lookback_window must be a number of days > 0 (or None), got {lookback!r}.",
            hint="pass e.g. lookback_window=30 to keep touches of the 30 days before conversion.",
        )
    return float(lookback)


def _journey_settings(model: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """The model's options with defaults, checked; unknown options are an error."""
    allowed = {**JOURNEY_OPTIONS.get(model, {}), "after_conversion": "error"}
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise MMModelError(
            Codes.INVALID_PARAMETER,
            f"option(s) {unknown} do not apply to attribution_model {model!r}; it takes "
            f"{sorted(allowed)}.",
            hint="drop the option, or pick the model it belongs to.",
        )
    settings = {**allowed, **options}
    if model == "time_decay":
        settings["half_life"] = check_half_life(settings["half_life"])
    if model == "position_based":
        settings["position_weights"] = check_position_weights(settings["position_weights"])
    return settings


def _plain_option(value: Any) -> Any:
    """An option's value for JSON: tuples as lists, numpy scalars as Python ones."""
    if isinstance(value, tuple | list):
        return [_plain_option(v) for v in value]
    return value.item() if isinstance(value, np.generic) else value


def _by_channel(channels: Sequence[str], values: FloatArray) -> dict[str, float]:
    return {c: float(v) for c, v in zip(channels, values, strict=True)}


def _shares(amounts: FloatArray) -> FloatArray:
    total = amounts.sum()
    return amounts / total if total != 0 else np.zeros_like(amounts)


def _rare_states(counts: Any) -> int:
    outgoing = np.asarray(counts.sum(axis=1)).ravel()[1:-2]
    return int((outgoing < 10).sum())


def _journey_report(
    model: str,
    data: JourneyData,
    selected: JourneyData,
    conversions: FloatArray,
    value: FloatArray,
    dropped: dict[str, int],
    notes: list[str],
) -> dict[str, Any]:
    """The model-independent part of analyze_journeys' answer."""
    channels = data.channels
    touched = selected.lengths > 0
    converted = data.converted
    input_conversions = float(converted.sum())
    input_value = float(data.value[converted].sum())
    covered_conversions = float((converted & touched).sum())
    covered_value = float(data.value[converted & touched].sum())
    lost = int((converted & ~touched).sum())
    if lost:
        notes.append(
            f"{lost} conversion(s) (value {input_value - covered_value:,.2f}) come from journeys "
            "with no touch left in the lookback window / after the view-through filter, or with "
            "none at all: no channel is credited with them."
        )
    if input_conversions == 0:
        notes.append("No journey converted: every channel is credited with zero.")
    share = _shares(conversions)
    value_share = _shares(value)
    touches = np.bincount(selected.channel, minlength=len(channels))
    return {
        "method": model,
        "attribution": _by_channel(channels, share),
        "attributed_conversions": _by_channel(channels, conversions),
        "attributed_value": _by_channel(channels, value),
        "value_attribution": _by_channel(channels, value_share),
        "table": [
            {
                "channel": c,
                "conversions": float(conversions[j]),
                "value": float(value[j]),
                "share": float(share[j]),
                "value_share": float(value_share[j]),
                "touches": int(touches[j]),
            }
            for j, c in enumerate(channels)
        ],
        "totals": {
            "journeys": data.n_journeys,
            "converted_journeys": int(converted.sum()),
            "conversions": input_conversions,
            "value": input_value,
            "attributed_conversions": covered_conversions,
            "attributed_value": covered_value,
            "unattributed_conversions": input_conversions - covered_conversions,
            "unattributed_value": input_value - covered_value,
            "touches": data.n_touches,
            "touches_used": selected.n_touches,
            **dropped,
        },
        "description": JOURNEY_DESCRIPTIONS[model],
        "notes": notes,
    }
