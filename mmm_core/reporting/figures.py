"""The report's figures, drawn with matplotlib's Agg renderer and returned as base64 PNG.

matplotlib is imported inside :func:`render_figures`, so importing :mod:`mmm_core` stays fast
and works without it. Figures are built on :class:`matplotlib.figure.Figure` directly, never
through ``pyplot``: they render with Agg whatever backend the caller's session uses, and
leave that session's backend, figures and rc settings untouched.

Each builder returns ``None`` when the results lack what it needs; the page then says so.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from mmm_core.errors import Codes, MMModelError
from mmm_core.reporting import formatting as fmt
from mmm_core.reporting.inputs import channel_names, number, period_dates, section
from mmm_core.transforms import adstock_from_dict

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Figures of every report with fit results (names used in ``data-figure``).
FIGURES = (
    "actual_vs_fitted",
    "contribution_over_time",
    "waterfall",
    "roi",
    "response_curves",
    "adstock_decay",
)
#: Figures added when the results carry an optimization (``frontier`` needs its frontier).
OPTIMIZATION_FIGURES = ("reallocation", "frontier")

WIDTH = 10.0  # inches
DPI = 110
STYLE = {
    "font.size": 9.5,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
}
BASELINE_COLOR = "#b8bec6"
ACTUAL_COLOR = "#1f2328"
FITTED_COLOR = "#d1495b"
GAIN_COLOR = "#3a8f5c"
PLAN_COLOR = "#2e86ab"
LOSS_COLOR = "#c0504d"

FloatArray = NDArray[np.float64]


def render_figures(mmm_results: Mapping[str, Any], summary: Mapping[str, Any]) -> dict[str, str]:
    """Every figure the results allow, as ``{name: base64 PNG}`` in report order.

    Parameters
    ----------
    mmm_results : dict
        Checked fit results (optionally with ``"optimization"``).
    summary : dict
        :func:`summary.executive_summary` of them.
    """
    try:
        import matplotlib
    except ImportError as exc:
        raise MMModelError(
            Codes.MODEL_ERROR,
            "matplotlib is needed to draw the HTML report's figures and is not installed.",
            hint="pip install 'mmm-platform[report]' (or pip install matplotlib).",
        ) from exc

    context = _Context(mmm_results, summary)
    builders: dict[str, Callable[[_Context], Figure | None]] = {
        "actual_vs_fitted": _actual_vs_fitted,
        "contribution_over_time": _contribution_over_time,
        "waterfall": _waterfall,
        "roi": _roi,
        "response_curves": _response_curves,
        "adstock_decay": _adstock_decay,
        "reallocation": _reallocation,
        "frontier": _frontier,
    }
    out = {}
    with matplotlib.rc_context(STYLE):
        for name, build in builders.items():
            figure = build(context)
            if figure is not None:
                out[name] = _png(figure)
    return out


class _Context:
    """What the builders share: the inputs, channel colours, the time axis and its unit."""

    def __init__(self, mmm_results: Mapping[str, Any], summary: Mapping[str, Any]) -> None:
        from matplotlib import colormaps

        self.results = mmm_results
        self.summary = summary
        self.channels = channel_names(mmm_results)
        palette = colormaps["tab10"].colors + colormaps["Dark2"].colors
        self.color = {c: palette[i % len(palette)] for i, c in enumerate(self.channels)}
        self.unit = summary["period"]["unit"]
        self.series = section(mmm_results, "series")
        self.optimization = section(mmm_results, "optimization")

    def values(self, *keys: str) -> FloatArray | None:
        """A numeric series from ``series`` (``None``, NaN-filled gaps when partly missing)."""
        raw = section(self.series, *keys[:-1]).get(keys[-1])
        if not isinstance(raw, Sequence) or isinstance(raw, str) or not raw:
            return None
        return np.array([number({"v": v}, "v") for v in raw], dtype=float)

    def time_axis(self, n: int) -> Sequence[Any]:
        periods = self.series.get("periods")
        dates = period_dates(periods)
        return dates if dates is not None and len(dates) == n else np.arange(n)


def _label(name: str, limit: int = 40) -> str:
    """A string from the data made safe for matplotlib: no mathtext, not a hidden legend label,
    at most ``limit`` characters."""
    text = str(name)
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    text = text.replace("$", r"\$")
    return f" {text}" if text.startswith("_") else text


def _amount_axis(axis: Any) -> None:
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _: fmt.tick(v)))


def _date_axis(ax: Axes, x: Sequence[Any]) -> None:
    if len(x) and not isinstance(x[0], int | np.integer):
        from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

        locator = AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.margins(x=0.01)


def _figure(height: float, ncols: int = 1, nrows: int = 1, **kwargs: Any) -> tuple[Figure, Any]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH, height), layout="constrained")
    axes = figure.subplots(nrows, ncols, squeeze=False, **kwargs)
    return figure, axes


def _png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


# ------------------------------------------------------------------------------- the fit


def _actual_vs_fitted(ctx: _Context) -> Figure | None:
    actual, fitted = ctx.values("actual"), ctx.values("fitted")
    if actual is None or fitted is None or len(actual) != len(fitted):
        return None
    x = ctx.time_axis(len(actual))
    figure, axes = _figure(3.6)
    ax = axes[0, 0]
    holdout = int(number(ctx.results, "performance", "holdout", "periods") or 0)
    if 0 < holdout < len(x):
        ax.axvspan(
            x[-holdout - 1],
            x[-1],
            color="#f2c14e",
            alpha=0.25,
            lw=0,
            label=f"hold-out: last {holdout} {ctx.unit}s (scored by a refit without them)",
        )
    ax.plot(x, actual, color=ACTUAL_COLOR, lw=1.4, label="actual")
    ax.plot(x, fitted, color=FITTED_COLOR, lw=1.4, ls="--", label="fitted by the model")
    ax.set_title(f"Revenue per {ctx.unit}: actual and fitted")
    _amount_axis(ax.yaxis)
    _date_axis(ax, x)
    ax.legend(loc="upper left", ncols=3)
    ax.set_ylim(top=ax.get_ylim()[1] + 0.12 * np.ptp(ax.get_ylim()))
    return figure


def _contribution_over_time(ctx: _Context) -> Figure | None:
    parts: list[tuple[str, FloatArray, Any]] = []
    baseline = ctx.values("baseline")
    if baseline is not None:
        parts.append(("baseline", baseline, BASELINE_COLOR))
    greys = ["#8d99ae", "#6c757d", "#adb5bd", "#495057"]
    for k, name in enumerate(section(ctx.series, "controls")):
        values = ctx.values("controls", name)
        if values is not None:
            parts.append((f"{name} (control)", values, greys[k % len(greys)]))
    for name in ctx.channels:
        values = ctx.values("channels", name)
        if values is not None:
            parts.append((name, values, ctx.color[name]))
    n = {len(v) for _, v, _ in parts}
    if len(n) != 1 or not any(name in ctx.channels for name, _, _ in parts):
        return None
    length = n.pop()
    x = ctx.time_axis(length)
    figure, axes = _figure(4.6)
    ax = axes[0, 0]
    up, down = np.zeros(length), np.zeros(length)
    for name, values, color in parts:
        v = np.nan_to_num(values)
        pos, neg = np.clip(v, 0, None), np.clip(v, None, 0)
        label = _label(name)
        if pos.any():
            ax.fill_between(x, up, up + pos, color=color, lw=0, alpha=0.9, label=label)
            label = None
        if neg.any():
            ax.fill_between(
                x,
                down,
                down + neg,
                color=color,
                lw=0,
                alpha=0.9,
                hatch="//",
                edgecolor="white",
                label=label,
            )
        up, down = up + pos, down + neg
    actual = ctx.values("actual")
    if actual is not None and len(actual) == length:
        ax.plot(x, actual, color=ACTUAL_COLOR, lw=1.2, label="actual revenue")
    ax.axhline(0, color=ACTUAL_COLOR, lw=0.8)
    ax.set_title(
        f"Where revenue per {ctx.unit} came from (hatched below zero: factors that lowered it)"
    )
    _amount_axis(ax.yaxis)
    _date_axis(ax, x)
    figure.legend(loc="outside lower center", ncols=min(5, len(parts) + 1))
    return figure


def _waterfall(ctx: _Context) -> Figure | None:
    steps: list[tuple[str, float, Any]] = []
    base = number(ctx.results, "baseline", "total")
    if base is not None:
        steps.append(("baseline", base, BASELINE_COLOR))
    for name in section(ctx.results, "baseline", "controls"):
        value = number(ctx.results, "baseline", "controls", name)
        if value is not None:
            steps.append((f"{name}\n(control)", value, GAIN_COLOR if value >= 0 else LOSS_COLOR))
    media = [
        (c["channel"], c["contribution"], ctx.color[c["channel"]])
        for c in ctx.summary["channels"]
        if c["contribution"] is not None
    ]
    steps += sorted(media, key=lambda s: -s[1])
    if not media:
        return None
    explained = sum(s[1] for s in steps)
    total = ctx.summary["revenue"]["total"]
    if total is not None and abs(total - explained) > 0.005 * abs(total):
        steps.append(("unexplained", total - explained, "#d3d3d3"))
    total = sum(s[1] for s in steps)
    figure, axes = _figure(4.4)
    ax = axes[0, 0]
    running = 0.0
    labels = []
    for i, (name, value, color) in enumerate(steps):
        bottom = running if i else 0.0
        ax.bar(i, value, bottom=bottom, color=color, width=0.7)
        if i:
            ax.plot([i - 1.35, i - 0.35], [running, running], color="#888", lw=0.7)
        running = bottom + value
        text = fmt.signed_amount(value) if i else fmt.amount(value)
        ax.annotate(
            text,
            (i, max(bottom, bottom + value)),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            fontsize=8.5,
        )
        labels.append(_label(name))
    last = len(steps)
    ax.bar(last, total, color=ACTUAL_COLOR, width=0.7)
    ax.plot([last - 1.35, last - 0.35], [running, running], color="#888", lw=0.7)
    ax.annotate(
        fmt.amount(total),
        (last, max(total, 0)),
        xytext=(0, 3),
        textcoords="offset points",
        ha="center",
        fontsize=8.5,
        weight="bold",
    )
    labels.append("total revenue")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", rotation_mode="anchor")
    ax.grid(axis="x", visible=False)
    ax.axhline(0, color=ACTUAL_COLOR, lw=0.8)
    ax.set_title("From baseline to total revenue over the period")
    low, high = ax.get_ylim()
    ax.set_ylim(low, high + 0.08 * (high - low))
    _amount_axis(ax.yaxis)
    return figure


def _roi(ctx: _Context) -> Figure | None:
    from matplotlib.patches import Patch

    rows = [c for c in ctx.summary["channels"] if c["roi"] is not None][::-1]
    if not rows:
        return None
    figure, axes = _figure(1.6 + 0.55 * len(rows))
    ax = axes[0, 0]
    y = np.arange(len(rows))
    for i, c in enumerate(rows):
        ax.barh(
            i,
            c["roi"],
            height=0.6,
            color=ctx.color[c["channel"]],
            alpha=0.45 if c["uncertain"] else 0.95,
            hatch="///" if c["uncertain"] else None,
            edgecolor="white",
        )
        if c["roi_interval"]:
            lo, hi = c["roi_interval"]
            ax.errorbar(
                c["roi"],
                i,
                xerr=[[max(c["roi"] - lo, 0)], [max(hi - c["roi"], 0)]],
                fmt="none",
                ecolor=ACTUAL_COLOR,
                capsize=4,
                lw=1.2,
            )
        if c["mroi"] is not None:
            ax.plot(c["mroi"], i - 0.3, marker="D", color=ACTUAL_COLOR, ms=5, ls="none")
        end = max(c["roi"], (c["roi_interval"] or [0, 0])[1])
        ax.annotate(
            fmt.ratio(c["roi"]),
            (end, i),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            fontsize=8.5,
        )
    ax.set_yticks(y, [_label(c["channel"]) for c in rows])
    ax.axvline(1.0, color="#888", lw=1, ls=":")
    lowest = min(0.0, *(min(c["roi"], (c["roi_interval"] or [0.0])[0]) for c in rows))
    ax.set_xlim(left=1.05 * lowest - 0.02 * ax.get_xlim()[1])
    ax.set_xlabel("revenue per unit of spend")
    ax.grid(axis="y", visible=False)
    ax.set_title("Return on investment per channel, with its 90% interval")
    handles = [
        Patch(color="#777", label="ROI over the period (bar) and 90% interval (whiskers)"),
        ax.plot([], [], marker="D", color=ACTUAL_COLOR, ls="none", label="mROI: next unit")[0],
        ax.plot([], [], color="#888", ls=":", label="1.0: spend comes back as revenue")[0],
    ]
    if any(c["uncertain"] for c in rows):
        handles.append(
            Patch(
                facecolor="#bbb",
                hatch="///",
                edgecolor="white",
                label="uncertain (interval wide or reaching zero)",
            )
        )
    figure.legend(handles=handles, loc="outside lower center", ncols=2)
    return figure


# ------------------------------------------------------------------------------- media dynamics


def _optimal_per_period(ctx: _Context) -> dict[str, float]:
    """The recommended spend per period by channel (an optimization's amounts / its horizon)."""
    horizon = number(ctx.optimization, "horizon")
    opt = ctx.summary["optimization"]
    if not opt or not horizon or horizon <= 0:
        return {}
    return {
        m["channel"]: m["optimal"] / horizon for m in opt["channels"] if m["optimal"] is not None
    }


def _curve_band(curve: Mapping[str, Any], size: int) -> tuple[FloatArray, FloatArray] | None:
    """A response curve's ``revenue_interval`` as two arrays, or None when absent or malformed."""
    band = curve.get("revenue_interval")
    if not isinstance(band, list | tuple) or len(band) != 2:
        return None
    if not all(isinstance(side, list | tuple) and len(side) == size for side in band):
        return None
    lo, hi = (np.asarray([number({"v": v}, "v") for v in side], dtype=float) for side in band)
    return lo, hi


def _response_curves(ctx: _Context) -> Figure | None:
    curves = {
        name: section(ctx.results, "response_curves", name)
        for name in ctx.channels
        if section(ctx.results, "response_curves", name)
    }
    if not curves:
        return None
    optimal = _optimal_per_period(ctx)
    ncols = min(3, len(curves))
    nrows = math.ceil(len(curves) / ncols)
    figure, axes = _figure(2.9 * nrows + 0.5, ncols=ncols, nrows=nrows)
    for ax in axes.flat[len(curves) :]:
        ax.set_visible(False)
    mroi = {c["channel"]: c["mroi"] for c in ctx.summary["channels"]}
    for ax, (name, curve) in zip(axes.flat, curves.items(), strict=False):
        spend = np.asarray([number({"v": v}, "v") for v in curve.get("spend") or []], dtype=float)
        revenue = np.asarray(
            [number({"v": v}, "v") for v in curve.get("revenue") or []], dtype=float
        )
        color = ctx.color[name]
        band = None
        if len(spend) and len(spend) == len(revenue):
            ax.plot(spend, revenue, color=color, lw=2)
            band = _curve_band(curve, len(spend))
            if band is not None:
                ax.fill_between(spend, *band, color=color, alpha=0.18, lw=0, label="90% interval")
        mean_spend, mean_revenue = number(curve, "mean_spend"), number(curve, "mean_revenue")
        if mean_spend is not None and mean_revenue is not None:
            ax.plot(mean_spend, mean_revenue, "o", color=ACTUAL_COLOR, ms=6, label="current (mean)")
        if name in optimal:
            x = optimal[name]
            ax.axvline(x, color=GAIN_COLOR, lw=1.2, ls="--")
            if len(spend) and spend[0] <= x <= spend[-1]:
                ax.plot(
                    x,
                    np.interp(x, spend, revenue),
                    "*",
                    color=GAIN_COLOR,
                    ms=11,
                    label="recommended",
                )
            else:
                ax.plot([], [], "--", color=GAIN_COLOR, label="recommended")
        title = _label(name)
        if mroi.get(name) is not None:
            title += f"   mROI {fmt.ratio(mroi[name])}"
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(f"spend per {ctx.unit}")
        if not len(revenue) or not np.nanmax(revenue) > 0:
            if band is None or not np.nanmax(band[1]) > 0:
                ax.set_ylim(0, 1)
                ax.yaxis.set_major_locator(_few_ticks())
            ax.text(
                0.5,
                0.55,
                "no measurable effect" if band is None else "no effect at the point estimate",
                transform=ax.transAxes,
                ha="center",
                color="#57606a",
            )
        ax.set_ylim(bottom=0)
        ax.set_xlim(left=0)
        _amount_axis(ax.xaxis)
        _amount_axis(ax.yaxis)
        ax.xaxis.set_major_locator(_few_ticks())
        ax.legend(loc="lower right", fontsize=8)
    for row in axes:
        row[0].set_ylabel(f"revenue per {ctx.unit}")
    figure.suptitle(
        f"Response curves: revenue per {ctx.unit} at a steady spend per {ctx.unit}",
        x=0.01,
        ha="left",
        weight="bold",
        fontsize=11,
    )
    return figure


def _few_ticks() -> Any:
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(nbins=4)


def adstock_weights(spec: Mapping[str, Any]) -> FloatArray | None:
    """Lag weights (summing to 1) of a channel's ``adstock`` entry, or ``None`` if unusable."""
    if not isinstance(spec, Mapping):
        return None
    try:
        adstock = adstock_from_dict(spec)
        params = {p: float(spec[p]) for p in adstock.param_names}
        adstock.check(params)
        weights = np.asarray(adstock.weights(params), dtype=float)
    except (MMModelError, KeyError, TypeError, ValueError):
        return None
    return weights if np.all(np.isfinite(weights)) else None


def _adstock_decay(ctx: _Context) -> Figure | None:
    weights = {}
    for name in ctx.channels:
        w = adstock_weights(section(ctx.results, "channels", name, "adstock"))
        if w is not None:
            weights[name] = w
    if not weights:
        return None
    figure, axes = _figure(3.8)
    ax = axes[0, 0]
    for name, w in weights.items():
        most = int(np.searchsorted(np.cumsum(w), 0.9 - 1e-9)) + 1
        label = (
            f"{_label(name)}: {100 * w[0]:.0f}% in the same {ctx.unit}, 90% within {most} "
            f"{ctx.unit}{'s' if most > 1 else ''}"
        )
        ax.plot(
            np.arange(len(w)),
            100 * w,
            marker="o",
            ms=3.5,
            lw=1.6,
            color=ctx.color[name],
            label=label,
        )
    ax.set_xlabel(f"{ctx.unit}s after the spend (0 = the same {ctx.unit})")
    ax.set_ylabel("share of the total effect (%)")
    ax.set_ylim(bottom=0)
    ax.set_xlim(left=-0.3)
    ax.xaxis.set_major_locator(_integer_ticks())
    ax.set_title(f"Carry-over: how a {ctx.unit}'s spend keeps working in later {ctx.unit}s")
    ax.legend(loc="upper right")
    return figure


def _integer_ticks() -> Any:
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


# ------------------------------------------------------------------------------- the optimizer


def _reallocation(ctx: _Context) -> Figure | None:
    opt = ctx.summary["optimization"]
    moves = [m for m in (opt or {}).get("channels", []) if m["optimal"] is not None][::-1]
    if not moves:
        return None
    figure, axes = _figure(1.5 + 0.65 * len(moves))
    ax = axes[0, 0]
    y = np.arange(len(moves))
    has_current = any(m["current"] is not None for m in moves)
    height = 0.38 if has_current else 0.6
    if has_current:
        ax.barh(
            y + height / 2,
            [m["current"] or 0 for m in moves],
            height=height,
            color=BASELINE_COLOR,
            label="current plan",
        )
    ax.barh(
        y - height / 2 if has_current else y,
        [m["optimal"] for m in moves],
        height=height,
        color=PLAN_COLOR,
        label="recommended",
    )
    for i, m in enumerate(moves):
        note = fmt.amount(m["optimal"])
        if m["change_pct"] is not None:
            note += f"  ({fmt.percent(m['change_pct'], signed=True)})"
        ax.annotate(
            note,
            (m["optimal"], i - (height / 2 if has_current else 0)),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8.5,
        )
    ax.set_yticks(y, [_label(m["channel"]) for m in moves])
    ax.set_xlim(right=ax.get_xlim()[1] * 1.18)
    _amount_axis(ax.xaxis)
    horizon = opt["horizon"]
    ax.set_xlabel(f"spend over the next {horizon:.0f} {ctx.unit}s" if horizon else "spend")
    ax.grid(axis="y", visible=False)
    up = opt["uplift"]
    title = "Recommended budget split"
    if up["revenue"] is not None:
        title += f": {fmt.signed_amount(up['revenue'])} expected revenue"
        if up["interval"]:
            title += f" (90% interval {fmt.interval(up['interval'], fmt.signed_amount)})"
    if up["probability_better"] is not None:
        title += f"\n{fmt.share(up['probability_better'])} chance to beat the current plan"
    ax.set_title(title)
    ax.legend(loc="lower right")
    return figure


def _frontier(ctx: _Context) -> Figure | None:
    raw = ctx.optimization.get("frontier")
    points = sorted(
        (
            (
                number(p, "total_budget"),
                number(p, "revenue"),
                number(p, "roi"),
                number(p, "marginal_roi"),
            )
            for p in (raw if isinstance(raw, list) else [])
        ),
        key=lambda p: p[0] if p[0] is not None else math.inf,
    )
    points = [p for p in points if p[0] is not None and p[1] is not None]
    if len(points) < 2:
        return None
    budget, revenue, roi, mroi = (np.array(v, dtype=float) for v in zip(*points, strict=True))
    figure, axes = _figure(3.8, ncols=2)
    left, right = axes[0]
    left.plot(budget, revenue, marker="o", ms=3.5, color=ACTUAL_COLOR)
    left.set_title("Revenue the model expects at each budget")
    left.set_ylabel("media revenue")
    right.plot(budget, roi, marker="o", ms=3.5, color="#2e86ab", label="ROI")
    if np.isfinite(mroi).any():
        right.plot(budget, mroi, marker="s", ms=3.5, color="#f18f01", label="marginal ROI")
    right.axhline(1.0, color="#888", lw=1, ls=":")
    right.set_title("Return per unit at each budget")
    right.set_ylim(bottom=0)
    chosen = number(ctx.optimization, "total_budget")
    current = section(ctx.optimization, "current", "allocation")
    current_budget = sum(v for v in (number(current, k) for k in current) if v is not None)
    for ax in (left, right):
        if chosen is not None:
            ax.axvline(chosen, color=GAIN_COLOR, lw=1.4, ls="--", label="chosen budget")
        if current_budget > 0 and current_budget != chosen:
            ax.axvline(current_budget, color="#888", lw=1.2, ls="-.", label="current budget")
        ax.set_xlabel("total budget over the horizon")
        _amount_axis(ax.xaxis)
        ax.xaxis.set_major_locator(_few_ticks())
        ax.legend(loc="lower right" if ax is left else "upper right", fontsize=8)
    _amount_axis(left.yaxis)
    return figure
