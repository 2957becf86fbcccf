"""The HTML report: one self-contained page (inline CSS, figures as base64 PNG, no URLs).

Every string that comes from the data (channel and control names, warnings, the optimizer's
messages) goes through :func:`html.escape`. Each figure is an ``<img>`` with
``data-figure="<name>"`` (see :data:`figures.FIGURES`); a figure the results cannot support is
replaced by a sentence saying what is missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from mmm_core.reporting import formatting as fmt
from mmm_core.reporting.figures import adstock_weights
from mmm_core.reporting.inputs import number, section
from mmm_core.reporting.narrative import sections

CSS = """
:root { --ink: #1f2328; --muted: #57606a; --line: #d0d7de; --soft: #f6f8fa; --good: #3a8f5c;
        --bad: #c0504d; --warn: #9a6700; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       color: var(--ink); background: #fff; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 28px 60px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 40px 0 8px; padding-top: 12px; border-top: 1px solid var(--line); }
h3 { font-size: 16px; margin: 22px 0 6px; }
.sub, .caption, .missing { color: var(--muted); }
.caption { font-size: 13.5px; margin: 4px 0 8px; }
.missing { font-style: italic; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 12px;
         margin: 18px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px;
        background: var(--soft); }
.card .label { font-size: 12.5px; color: var(--muted); text-transform: uppercase;
               letter-spacing: .03em; }
.card .value { font-size: 24px; font-weight: 650; margin: 2px 0; overflow-wrap: anywhere; }
.card .note { font-size: 13px; color: var(--muted); }
figure { margin: 12px 0 20px; }
figure img { display: block; width: 100%; height: auto; border: 1px solid var(--line);
             border-radius: 6px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 14px; }
th, td { padding: 5px 12px; border-bottom: 1px solid var(--line); text-align: right; }
th { background: var(--soft); font-weight: 600; }
th:first-child, td:first-child { text-align: left; overflow-wrap: anywhere; max-width: 320px; }
.tag { display: inline-block; font-size: 12px; padding: 1px 7px; border-radius: 10px;
       background: #fff4d6; color: var(--warn); border: 1px solid #f0d48a; }
.up { color: var(--good); } .down { color: var(--bad); }
ul.caveats li { margin: 4px 0; }
.summary p { margin: 6px 0; }
.tables { display: flex; flex-wrap: wrap; gap: 0 28px; align-items: flex-start; }
footer { margin-top: 40px; font-size: 13px; color: var(--muted); }
"""

CAPTIONS = {
    "actual_vs_fitted": "The model's revenue per {unit} against what happened. The shaded "
    "periods at the end are the hold-out: its scores (in the diagnostics) come from a refit that "
    "did not see them; the line drawn there is the full fit.",
    "contribution_over_time": "Each {unit}'s revenue split into its sources. Bands above zero add "
    "revenue; hatched bands below zero take it away (e.g. higher prices). The line is actual "
    "revenue: the bands above zero minus those below.",
    "waterfall": "Revenue over the whole period, built up from the baseline through each other "
    "factor and each channel to the total.",
    "roi": "Bars: revenue per unit spent over the period, with whiskers for the 90% interval. "
    "Diamonds: the revenue of the next unit (mROI) at today's spend. Hatched: uncertain.",
    "response_curves": "Revenue per {unit} each channel brings at a steady spend per {unit}. "
    "Flattening curves mean diminishing returns. Dot: today's mean spend. Band: the 90% "
    "interval over the bootstrap replicates.",
    "adstock_decay": "How a {unit}'s spend keeps selling in the {unit}s after it (carry-over); "
    "each line sums to 100%.",
    "reallocation": "Spend per channel over the planning horizon: the current plan and the "
    "recommended one.",
    "frontier": "What the model expects at other total budgets: revenue grows ever more slowly, "
    "so the return of the last unit falls.",
}
MISSING = {
    "actual_vs_fitted": "the results have no per-period series (series.actual / series.fitted).",
    "contribution_over_time": "the results have no per-period contributions (series).",
    "waterfall": "the results have no channel contributions.",
    "roi": "the results have no channel ROI.",
    "response_curves": "the results have no response curves.",
    "adstock_decay": "the results have no usable adstock parameters.",
    "reallocation": "the optimization has no allocation.",
    "frontier": "the optimization has no frontier (budgets scanned).",
}


def render_html(
    summary: Mapping[str, Any], mmm_results: Mapping[str, Any], figures: Mapping[str, str]
) -> str:
    """The whole page.

    Parameters
    ----------
    summary : dict
        :func:`summary.executive_summary` output.
    mmm_results : dict
        The checked fit results (for the tables).
    figures : dict
        ``{name: base64 PNG}`` from :func:`figures.render_figures`.
    """
    page = _Page(summary, figures)
    body = [
        "<header>",
        "<h1>Media mix model report</h1>",
        f'<p class="sub">{escape(_subtitle(summary))}</p>',
        "</header>",
        _headline(summary),
        _narrative(summary),
        '<h2 id="fit">Does the model track revenue?</h2>',
        page.figure("actual_vs_fitted"),
        '<h2 id="contributions">Where revenue came from</h2>',
        page.figure("contribution_over_time"),
        page.figure("waterfall"),
        '<h2 id="channels">Return per channel</h2>',
        page.figure("roi"),
        _channel_table(summary),
        '<h2 id="response">Diminishing returns</h2>',
        page.figure("response_curves"),
        '<h2 id="carryover">Carry-over</h2>',
        page.figure("adstock_decay"),
        _transform_table(mmm_results, summary["period"]["unit"]),
    ]
    if summary.get("optimization"):
        body += [
            '<h2 id="optimization">Recommended budget</h2>',
            _plan(summary),
            page.figure("reallocation"),
            _move_table(summary),
            page.figure("frontier"),
            _convergence(summary["optimization"]),
        ]
    body += [
        '<h2 id="diagnostics">Model diagnostics</h2>',
        _diagnostics(summary, mmm_results),
        '<h2 id="caveats">Caveats</h2>',
        _caveats(summary),
        f"<footer>{escape(summary['schema'])} v{summary['schema_version']} · generated "
        f"{escape(summary['generated_at'])} · figures drawn by matplotlib.</footer>",
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>Media mix model report</title>\n"
        f"<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(part for part in body if part)
        + "\n</main>\n</body>\n</html>\n"
    )


class _Page:
    def __init__(self, summary: Mapping[str, Any], figures: Mapping[str, str]) -> None:
        self.unit = summary["period"]["unit"]
        self.figures = figures
        self.optimized = bool(summary.get("optimization"))

    def figure(self, name: str) -> str:
        caption = CAPTIONS[name].format(unit=self.unit)
        if name == "response_curves" and self.optimized:
            caption += " Star and dashed line: the optimizer's recommended spend per " + self.unit
            caption += "."
        caption = escape(caption)
        if name not in self.figures:
            reason = escape(MISSING[name])
            return f'<p class="missing" id="missing-{name}">Figure not drawn: {reason}</p>'
        return (
            f'<figure id="figure-{name}">'
            f'<img data-figure="{name}" alt="{escape(name.replace("_", " "))}" '
            f'src="data:image/png;base64,{self.figures[name]}">'
            f'<figcaption class="caption">{caption}</figcaption></figure>'
        )


def _subtitle(summary: Mapping[str, Any]) -> str:
    period = summary["period"]
    parts = []
    if period["periods"] is not None:
        parts.append(f"{period['periods']:.0f} {period['unit']}s")
    if period["start"] and period["end"]:
        parts.append(f"{period['start']} to {period['end']}")
    if summary.get("target"):
        parts.append(f"target: {summary['target']}")
    parts.append(f"generated {summary['generated_at']}")
    return " · ".join(parts)


def _card(label: str, value: str, note: str = "") -> str:
    note_html = f'<div class="note">{escape(note)}</div>' if note else ""
    return (
        f'<div class="card"><div class="label">{escape(label)}</div>'
        f'<div class="value">{escape(value)}</div>{note_html}</div>'
    )


def _headline(summary: Mapping[str, Any]) -> str:
    media, fit = summary["media"], summary["fit"]
    cards = [
        _card(
            "Revenue from media",
            fmt.amount(media["contribution"]),
            f"from {fmt.amount(media['spend'])} of spend",
        ),
        _card("Media ROI", fmt.ratio(media["roi"]), "revenue per unit of spend"),
        _card(
            "Media share of revenue",
            fmt.share(media["share_of_revenue"]),
            f"of {fmt.amount(summary['revenue']['total'])}" if summary["revenue"]["total"] else "",
        ),
    ]
    best, worst = summary["best_channel_by_roi"], summary["worst_channel_by_roi"]
    if best:
        cards.append(_card("Best ROI", best["channel"], _roi_note(best)))
    if worst and best and worst["channel"] != best["channel"]:
        cards.append(_card("Lowest ROI", worst["channel"], _roi_note(worst)))
    top, bottom = summary["best_channel_by_mroi"], summary["worst_channel_by_mroi"]
    if top:
        cards.append(
            _card(
                "Best next unit (mROI)",
                top["channel"],
                f"{fmt.ratio(top['mroi'])} at today's spend",
            )
        )
    if bottom and top and bottom["channel"] != top["channel"]:
        cards.append(
            _card(
                "Weakest next unit",
                bottom["channel"],
                f"{fmt.ratio(bottom['mroi'])} at today's spend",
            )
        )
    inside, holdout = fit["in_sample"], fit["holdout"]
    note = f"in sample, MAPE {fmt.percent(inside['mape'])}"
    if holdout:
        note += (
            f"; hold-out R² {fmt.ratio(holdout['r2'])}, MAPE {fmt.percent(holdout['mape'])} on "
            f"the last {fmt.full_amount(holdout['periods'])} {summary['period']['unit']}s"
        )
    cards.append(_card("Fit R²", fmt.ratio(inside["r2"]), note))
    opt = summary.get("optimization")
    if opt:
        up = opt["uplift"]
        note = f"{fmt.percent(up['revenue_pct'], signed=True)}; 90%: "
        note += fmt.interval(up["interval"], fmt.signed_amount)
        if up["probability_better"] is not None:
            note += f"; {fmt.share(up['probability_better'])} chance to beat today's plan"
        cards.append(_card("Optimizer uplift", fmt.signed_amount(up["revenue"]), note))
    return '<section id="headline"><div class="cards">' + "".join(cards) + "</div></section>"


def _roi_note(pick: Mapping[str, Any]) -> str:
    note = f"{fmt.ratio(pick['roi'])} (90%: {fmt.interval(pick['roi_interval'], fmt.ratio)})"
    return note + (", uncertain" if pick["uncertain"] else "")


def _narrative(summary: Mapping[str, Any]) -> str:
    out = ['<section id="summary" class="summary"><h2>In one minute</h2>']
    for title, body in sections(summary).items():
        sentences = [*body["lead"], *body["notes"]]
        if sentences:
            out.append(f"<h3>{escape(title)}</h3>")
            out += [f"<p>{escape(s)}</p>" for s in sentences]
    out.append("</section>")
    return "\n".join(out)


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], raw_last: bool = False) -> str:
    """An HTML table of already formatted cells (escaped here; ``raw_last``: last cell is HTML)."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    lines = []
    for row in rows:
        cells = [escape(c) for c in row]
        if raw_last:
            cells[-1] = row[-1]
        lines.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table>"


def _channel_table(summary: Mapping[str, Any]) -> str:
    rows = [
        [
            c["channel"],
            fmt.amount(c["spend"]),
            fmt.amount(c["contribution"]),
            fmt.share(c["share"]),
            fmt.ratio(c["roi"]),
            fmt.interval(c["roi_interval"], fmt.ratio),
            fmt.ratio(c["mroi"]),
            fmt.interval(c["mroi_interval"], fmt.ratio),
            f'<span class="tag">{escape(c["uncertainty"])}</span>' if c["uncertain"] else "",
        ]
        for c in summary["channels"]
    ]
    header = [
        "Channel",
        "Spend",
        "Revenue",
        "Share of media",
        "ROI",
        "ROI 90%",
        "mROI",
        "mROI 90%",
        "Certainty",
    ]
    return _table(header, rows, raw_last=True)


def _transform_table(mmm_results: Mapping[str, Any], unit: str) -> str:
    rows = []
    for name, entry in mmm_results["channels"].items():
        adstock, saturation = section(entry, "adstock"), section(entry, "saturation")
        params = ", ".join(
            f"{k} {fmt.ratio(number(adstock, k))}"
            for k in ("rate", "shape", "scale")
            if number(adstock, k) is not None
        )
        weights = adstock_weights(adstock)
        first = fmt.share(float(weights[0])) if weights is not None else fmt.NA
        rows.append(
            [
                str(name),
                f"{adstock.get('type', fmt.NA)} ({params})"
                if params
                else str(adstock.get("type", fmt.NA)),
                first,
                fmt.amount(number(saturation, "half_saturation")),
                fmt.ratio(number(saturation, "shape")),
            ]
        )
    header = [
        "Channel",
        "Carry-over",
        f"Effect in the same {unit}",
        f"Half-saturation (spend per {unit})",
        "Curve shape",
    ]
    return _table(header, rows)


def _plan(summary: Mapping[str, Any]) -> str:
    body = sections(summary)["What the optimizer recommends"]
    return "".join(f"<p>{escape(s)}</p>" for s in [*body["lead"], *body["notes"]])


def _move_table(summary: Mapping[str, Any]) -> str:
    moves = summary["optimization"]["channels"]
    if not moves:
        return ""
    rows = []
    for m in moves:
        change = m["change_pct"]
        css = "up" if (change or 0) > 0 else "down" if (change or 0) < 0 else ""
        rows.append(
            [
                m["channel"],
                fmt.amount(m["current"]),
                fmt.amount(m["optimal"]),
                fmt.ratio(m["marginal_roi"]),
                fmt.interval(m["bounds"], fmt.amount),
                f'<span class="{css}">{escape(fmt.percent(change, signed=True))}</span>',
            ]
        )
    header = [
        "Channel",
        "Current",
        "Recommended",
        "Marginal ROI at plan",
        "Allowed range",
        "Change",
    ]
    return _table(header, rows, raw_last=True)


def _convergence(opt: Mapping[str, Any]) -> str:
    if opt["converged"] is None and not opt["convergence_message"]:
        return ""
    state = {True: "converged", False: "did NOT converge", None: "convergence unknown"}
    text = f"Optimizer {state[opt['converged']]}"
    if opt["convergence_message"]:
        text += f": {opt['convergence_message']}"
    return f'<p class="caption">{escape(text)}.</p>'


def _diagnostics(summary: Mapping[str, Any], mmm_results: Mapping[str, Any]) -> str:
    fit = summary["fit"]
    inside, holdout = fit["in_sample"], fit["holdout"] or {}
    fit_rows = [
        ["R² (variation explained)", fmt.ratio(inside["r2"]), fmt.ratio(holdout.get("r2"))],
        ["MAPE (typical % error)", fmt.percent(inside["mape"]), fmt.percent(holdout.get("mape"))],
        [
            "RMSE (typical error)",
            fmt.full_amount(inside["rmse"]),
            fmt.full_amount(holdout.get("rmse")),
        ],
        [
            "Periods",
            fmt.full_amount(summary["period"]["periods"]),
            fmt.full_amount(holdout.get("periods")),
        ],
    ]
    search = section(mmm_results, "diagnostics", "search")
    boot = section(mmm_results, "diagnostics", "bootstrap")
    alpha = number(mmm_results, "hyperparameters", "regularization_alpha")
    run_rows = [
        ["Candidates searched", fmt.full_amount(number(search, "candidates_evaluated"))],
        ["Search sweeps", fmt.full_amount(number(search, "sweeps"))],
        ["Search time", _seconds(number(search, "seconds"))],
        ["Cross-validation folds", fmt.full_amount(number(search, "cv_folds"))],
        ["Cross-validated RMSE", fmt.full_amount(number(search, "cv_rmse"))],
        ["Bootstrap replicates", fmt.full_amount(number(boot, "replicates"))],
        ["Bootstrap block length", fmt.full_amount(number(boot, "block_length"))],
        ["Ridge regularization", fmt.NA if alpha is None else f"{alpha:g}"],
        ["Fit time", _seconds(number(mmm_results, "diagnostics", "fit_seconds"))],
    ]
    blocks = [
        "<div><h3>Fit quality</h3>"
        + _table(["Measure", "In sample", "Hold-out"], fit_rows)
        + "</div>",
        "<div><h3>Search and uncertainty</h3>" + _table(["", "Value"], run_rows) + "</div>",
    ]
    vif = section(mmm_results, "diagnostics", "vif")
    if vif:
        vif_rows = []
        for name in vif:
            value = number(vif, name)
            flag = (
                "hard to separate"
                if value is not None and value > 10
                else "some overlap"
                if value is not None and value > 5
                else ""
            )
            vif_rows.append([str(name), fmt.ratio(value), flag])
        blocks.append(
            "<div><h3>Variance inflation (VIF)</h3>"
            + _table(["Term", "VIF", ""], vif_rows)
            + "</div>"
        )
    note = (
        '<p class="caption">VIF: how much a term overlaps the others; above 5 some overlap, above '
        "10 its effect is hard to tell apart from theirs.</p>"
        if vif
        else ""
    )
    return f'<div class="tables">{"".join(blocks)}</div>{note}'


def _seconds(value: float | None) -> str:
    return fmt.NA if value is None else f"{value:.2f} s"


def _caveats(summary: Mapping[str, Any]) -> str:
    items = sections(summary)["How far to trust it"]["bullets"]
    return '<ul class="caveats">' + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>"
