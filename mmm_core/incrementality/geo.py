"""Geo experiments: the lift of a test in some geos, by synthetic control with placebo inference.

Estimator
---------
The treated geos are added up into one treated series; every series is divided by its own
pre-period mean, so geos of any size are comparable and a lift is a ratio. With ``y`` the
treated series and ``c_j`` the control geos, all normalised::

    synthetic control:  yhat_t = sum_j w_j c_j,t,  w = argmin sum_{t in pre} (y_t - yhat_t)^2
                        subject to w_j >= 0, sum_j w_j = 1  (+ penalty * T0 * |w - 1/J|^2)
    difference-in-differences (multiplicative): w_j = pre-period mean of geo j / sum of them,
                        i.e. the controls' total scaled to the treated level

Weights come from ``scipy.optimize.nnls`` with the sum-to-one constraint as a heavily weighted
extra row (exact to ~1e-9, then renormalised): ~0.3 ms for 700 periods x 50 geos, a thousand
times faster than SLSQP. ``augment=True`` adds the ridge bias correction of the augmented
synthetic control (Ben-Michael, Feller & Rothstein 2021): the pre-period residual is regressed
on the centred controls, ``eta = argmin |r - (C - 1) eta|^2 + lambda |eta|^2``, and
``yhat_t += (c_t - 1) . eta``; ``lambda`` by generalised cross-validation unless ``ridge`` is
given. Use it when the treated geos sit outside the controls' range (the results say so).

The lift over the test window is ``lift_pct = Y / Yhat - 1`` with ``Y``, ``Yhat`` the
treated and counterfactual totals, and ``lift_abs = Y - Yhat`` in KPI units.

Inference: placebo in space
---------------------------
Each control geo (or, with ``k`` treated geos, each group of ``k`` control geos: all groups
when there are at most ``n_placebos`` of them, else ``n_placebos`` random ones) is treated as
if it had been tested (groups have ``min(k, J // 2)`` geos, to leave donors to each
placebo): the same estimator, fitted on the remaining controls, gives its
"effect" ``e = log(Y / Yhat)`` over the window, where there was none. The effects are
studentised by each unit's pre-period error over windows of the test's length,
``s = RMS_{pre windows} log(sum y / sum yhat)``, so noisy and quiet geos are comparable (as
Abadie's post/pre RMSPE ratio): ``z = e / s``.

* ``p_value = (1 + #{placebos with |z_p| >= |z|}) / (n + 1)``, two-sided; it cannot go below
  ``1 / (n + 1)``.
* The interval inverts this test under a constant multiplicative effect ``tau``: removing
  ``tau`` from the treated window changes the treated ``z`` to ``(e - log(1 + tau)) / s`` and
  nothing else (weights come from the pre-period), so the set of ``tau`` not rejected is
  ``log(1 + tau) in [e - s z_(hi), e - s z_(lo)]`` with ``z_(k)`` the k-th smallest placebo
  ``z``, ``lo = floor(alpha/2 (n+1))`` and ``hi = ceil((1 - alpha/2)(n+1))`` (the conformal
  ranks, valid in finite samples when the geos are exchangeable). With fewer than
  ``2 / alpha - 1`` placebos the extreme placebos are used and ``ci_level_achieved`` says
  how much less than ``level`` the interval covers.

Placebo inference is exact on average over which geos are treated (as when they are drawn at
random). For hand-picked geos that the controls reproduce worse than they reproduce each other
the intervals are too narrow: ``power_analysis`` measures this on past data for the proposed
geos (``false_positive_rate``, ``coverage``).

Test inversion with conformal ranks was chosen over a bootstrap or a normal approximation
because its coverage holds with the 10-50 control geos of a real test, it needs no model of
the noise, and it reuses the placebo fits already made for the p-value.

Errors
------
================================================================  ======================
problem                                                           code
================================================================  ======================
``data`` not a DataFrame or empty                                 ``EMPTY_DATA``
geo, date or KPI column missing                                   ``MISSING_COLUMN``
two columns with the KPI's name                                   ``DUPLICATE_COLUMNS``
KPI not numeric                                                   ``NON_NUMERIC``
KPI NaN or infinite                                               ``NON_FINITE``
negative KPI, or a geo whose pre-period mean is 0                 ``DATA_ERROR``
dates that do not parse, window out of the data, end < start      ``BAD_DATES``
a geo twice on a date                                             ``DUPLICATE_DATES``
a geo missing some dates (unbalanced panel)                       ``IRREGULAR_DATES``
no treated geo, or one not in the data                            ``DATA_ERROR``
fewer than 8 pre-period dates or 4 control geos                   ``TOO_FEW_ROWS``
an option out of range                                            ``INVALID_PARAMETER``
================================================================  ======================

Examples
--------
>>> from mmm_core.incrementality.simulate import simulate_geo_panel
>>> frame, truth = simulate_geo_panel(n_geos=20, n_periods=200, lift=0.10, seed=1)
>>> result = geo_lift(frame, **truth.geo_lift_arguments())
>>> result["ci_pct"][0] < truth.lift_pct < result["ci_pct"][1]
True
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pandas.api import types as ptypes
from scipy.optimize import nnls

from mmm_core.errors import Codes, DataIntegrationError, MMModelError, suggest_name

try:  # installed with scikit-learn
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover
    threadpool_limits = None

__all__ = [
    "METHODS",
    "MIN_CONTROL_GEOS",
    "MIN_PRE_PERIODS",
    "SCHEMA_VERSION",
    "GeoOptions",
    "GeoPanel",
    "LiftFit",
    "conformal_ranks",
    "data_error",
    "fit_lift",
    "geo_lift",
    "invalid_option",
    "iso_day",
    "parse_date",
    "placebo_groups",
    "placebo_p_value",
    "prepare_geo_panel",
    "ridge_augmentation",
    "simplex_weights",
    "single_threaded_blas",
    "window_rows",
]

SCHEMA_VERSION = 1
METHODS = ("synthetic_control", "did")
MIN_CONTROL_GEOS = 4
MIN_PRE_PERIODS = 8

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

_SUM_ROW_WEIGHT = 1e3  # times sqrt(T0): the sum-to-one row of the nnls problem
_TINY = 1e-12
_MAX_LISTED = 10


# --------------------------------------------------------------------------------------------
# Options


@dataclass(frozen=True)
class GeoOptions:
    """Settings of the geo-lift estimator and its placebo inference (validated on creation).

    Parameters
    ----------
    method : {"synthetic_control", "did"}, default "synthetic_control"
        Counterfactual of the treated geos; the other one is reported as a cross-check.
    augment : bool, default False
        Ridge-augmented synthetic control (bias correction of a poor pre-period fit).
    ridge : float, optional
        Ridge strength of the augmentation relative to the mean squared singular value of the
        centred controls; ``None`` chooses it by generalised cross-validation.
    penalty : float, default 0.0
        Pulls the weights towards equal weights (``penalty * T0 * |w - 1/J|^2``): unique,
        denser weights when there are more control geos than pre-period dates.
    level : float, default 0.9
        Confidence level of the interval; the test's alpha is ``1 - level``.
    n_placebos : int, default 200
        Most placebo groups (all of them when there are fewer).
    studentize : bool, default True
        Divide each unit's effect by its pre-period error before ranking (see the module doc).
    seed : int, default 0
        Seed of the placebo groups' draw (used only when not all groups are run).
    """

    method: str = "synthetic_control"
    augment: bool = False
    ridge: float | None = None
    penalty: float = 0.0
    level: float = 0.9
    n_placebos: int = 200
    studentize: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            close = suggest_name(str(self.method), METHODS)
            raise invalid_option("method", self.method, f"is not one of {list(METHODS)}", close)
        if not isinstance(self.augment, bool | np.bool_):
            raise invalid_option("augment", self.augment, "must be True or False")
        if self.ridge is not None and not (_is_number(self.ridge) and self.ridge > 0):
            raise invalid_option("ridge", self.ridge, "must be a number > 0 or None")
        if not (_is_number(self.penalty) and self.penalty >= 0):
            raise invalid_option("penalty", self.penalty, "must be a number >= 0")
        if not (_is_number(self.level) and 0 < self.level < 1):
            raise invalid_option("level", self.level, "must be between 0 and 1 (e.g. 0.9)")
        if not (_is_int(self.n_placebos) and self.n_placebos >= 1):
            raise invalid_option("n_placebos", self.n_placebos, "must be an integer >= 1")
        if not _is_int(self.seed):
            raise invalid_option("seed", self.seed, "must be an integer")

    @property
    def alpha(self) -> float:
        """Two-sided test level ``1 - level``."""
        return 1.0 - float(self.level)

    @property
    def label(self) -> str:
        """The method's name in results (``"augmented_synthetic_control"`` when augmented)."""
        return f"augmented_{self.method}" if self.augment else self.method


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, int | float | np.integer | np.floating)
        and not isinstance(value, bool | np.bool_)
        and math.isfinite(float(value))
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def invalid_option(name: str, value: Any, rule: str, close: str | None = None) -> MMModelError:
    """``MMM_006`` for an option out of range (``close``: the valid value it resembles)."""
    hint = f"did you mean {close!r}?" if close else f"pass a valid {name}."
    return MMModelError(
        Codes.INVALID_PARAMETER,
        f"{name}={value!r} {rule}.",
        hint=hint,
        details={"parameter": name},
    )


# --------------------------------------------------------------------------------------------
# Data


@dataclass(frozen=True, eq=False)
class GeoPanel:
    """A validated, balanced panel: one KPI column per geo, rows in date order.

    Attributes
    ----------
    dates : DatetimeIndex, shape (T,)
        All dates of the data, increasing.
    geos : list
        Geo labels, in column order.
    kpi : ndarray, shape (T, G)
        KPI per date and geo, finite and ``>= 0``.
    treated : ndarray of bool, shape (G,)
    """

    dates: pd.DatetimeIndex
    geos: list[Any]
    kpi: FloatArray
    treated: BoolArray

    @property
    def treated_labels(self) -> list[Any]:
        """The treated geos' labels (JSON-friendly)."""
        return [_plain(g) for g, t in zip(self.geos, self.treated, strict=True) if t]

    @property
    def n_controls(self) -> int:
        """Number of control (untreated) geos."""
        return int((~self.treated).sum())


def prepare_geo_panel(
    data: pd.DataFrame,
    geo_column: str,
    date_column: str,
    kpi_column: str,
    treated_geos: Any,
) -> GeoPanel:
    """Validate a long panel (one row per geo and date) and pivot it to a date x geo matrix.

    Parameters
    ----------
    data : DataFrame
    geo_column, date_column, kpi_column : str
    treated_geos : label or sequence of labels
        Geos in the test (matched as given, else by their text: ``"12"`` finds geo ``12``).

    Returns
    -------
    GeoPanel

    Raises
    ------
    DataIntegrationError
        See the module's table of errors.
    """
    if not isinstance(data, pd.DataFrame) or data.shape[0] == 0 or data.shape[1] == 0:
        raise data_error(
            Codes.EMPTY_DATA,
            "the geo data are empty (or not a pandas DataFrame).",
            "pass a DataFrame with one row per geo and date.",
        )
    for role, name in (("geo", geo_column), ("date", date_column), ("KPI", kpi_column)):
        if not isinstance(name, str) or name not in data.columns:
            close = suggest_name(str(name), [str(c) for c in data.columns])
            raise data_error(
                Codes.MISSING_COLUMN,
                f"the {role} column {name!r} is not in the data.",
                f"did you mean {close!r}?"
                if close
                else f"pass one of the columns: {_listed(list(data.columns))}.",
                column=str(name),
                role=role,
            )
    kpi = data[kpi_column]
    if isinstance(kpi, pd.DataFrame):
        raise data_error(
            Codes.DUPLICATE_COLUMNS,
            f"the data have several columns named {kpi_column!r}.",
            "rename or drop the duplicates.",
            column=kpi_column,
        )
    if ptypes.is_bool_dtype(kpi) or not ptypes.is_numeric_dtype(kpi):
        raise data_error(
            Codes.NON_NUMERIC,
            f"the KPI column {kpi_column!r} is not numeric (dtype {kpi.dtype}).",
            f"convert it with pd.to_numeric(data[{kpi_column!r}]) and fix the values that fail.",
            column=kpi_column,
        )
    values = kpi.to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise data_error(
            Codes.NON_FINITE,
            f"the KPI has {int(bad.sum())} missing or infinite values "
            f"(first at row {row}, geo {_plain(data[geo_column].iloc[row])!r}).",
            "fill them (e.g. 0 for no sales) or drop the geo.",
            column=kpi_column,
            count=int(bad.sum()),
        )
    if (values < 0).any():
        row = int(np.flatnonzero(values < 0)[0])
        raise data_error(
            Codes.DATA_ERROR,
            f"the KPI is negative in {int((values < 0).sum())} rows (first at row {row}).",
            "geo lift measures ratios of totals: use a non-negative KPI (sales, orders, visits).",
            column=kpi_column,
        )
    try:
        dates = pd.to_datetime(data[date_column])
    except (ValueError, TypeError, OverflowError) as exc:
        raise data_error(
            Codes.BAD_DATES,
            f"the date column {date_column!r} has values that are not dates ({exc}).",
            "give ISO dates such as '2024-01-31'.",
            column=date_column,
        ) from exc
    if dates.isna().any():
        raise data_error(
            Codes.BAD_DATES,
            f"the date column {date_column!r} has {int(dates.isna().sum())} missing dates.",
            "fill or drop the rows without a date.",
            column=date_column,
        )
    geo = data[geo_column]
    if geo.isna().any():
        raise data_error(
            Codes.DATA_ERROR,
            f"the geo column {geo_column!r} has {int(geo.isna().sum())} missing values.",
            "drop the rows without a geo.",
            column=geo_column,
        )
    long = pd.DataFrame({"geo": geo.to_numpy(), "date": dates.to_numpy(), "kpi": values})
    twice = long.duplicated(["geo", "date"])
    if twice.any():
        row = int(np.flatnonzero(twice.to_numpy())[0])
        raise data_error(
            Codes.DUPLICATE_DATES,
            f"{int(twice.sum())} rows repeat a geo and date already given "
            f"(first: geo {_plain(long['geo'].iloc[row])!r} on {iso_day(long['date'].iloc[row])}).",
            "aggregate the rows per geo and date first (data.groupby([geo, date]).sum()).",
            count=int(twice.sum()),
        )
    wide = long.pivot(index="date", columns="geo", values="kpi").sort_index()
    missing = wide.isna().to_numpy()
    if missing.any():
        per_geo = missing.sum(axis=0)
        worst = [_plain(g) for g in wide.columns[per_geo > 0]]
        raise data_error(
            Codes.IRREGULAR_DATES,
            f"the panel is unbalanced: {len(worst)} geos lack some of the {wide.shape[0]} "
            f"dates ({_listed(worst)}).",
            "give every geo a row on every date (fill with 0 when nothing happened) or drop "
            "the incomplete geos.",
            geos=[str(g) for g in worst[:100]],
        )
    geos = list(wide.columns)
    treated = _treated_mask(geos, treated_geos)
    panel = GeoPanel(
        dates=pd.DatetimeIndex(wide.index),
        geos=geos,
        kpi=wide.to_numpy(dtype=float),
        treated=treated,
    )
    if panel.n_controls < MIN_CONTROL_GEOS:
        raise data_error(
            Codes.TOO_FEW_ROWS,
            f"only {panel.n_controls} control geos (untreated) for {len(geos)} geos in all; "
            f"at least {MIN_CONTROL_GEOS} are needed to build a synthetic control and placebos.",
            "add untreated geos to the data (20 or more give p-values below 0.05).",
            controls=panel.n_controls,
            minimum=MIN_CONTROL_GEOS,
        )
    return panel


def _treated_mask(geos: list[Any], treated_geos: Any) -> BoolArray:
    if treated_geos is None:
        wanted: list[Any] = []
    elif isinstance(treated_geos, np.ndarray | pd.Series | pd.Index):
        wanted = list(np.asarray(treated_geos).ravel().tolist())
    elif isinstance(treated_geos, str | bytes) or not isinstance(treated_geos, Sequence | set):
        wanted = [treated_geos]
    else:
        wanted = list(treated_geos)
    if not wanted:
        raise data_error(
            Codes.DATA_ERROR,
            "no treated geo given.",
            "pass treated_geos=[...] with the geos that ran the test.",
        )
    position = {g: i for i, g in enumerate(geos) if isinstance(g, Hashable)}
    by_text = {str(g): i for i, g in enumerate(geos)}
    mask = np.zeros(len(geos), dtype=bool)
    for g in wanted:
        i = position.get(g) if isinstance(g, Hashable) else None
        if i is None:
            i = by_text.get(str(g))
        if i is None:
            close = suggest_name(str(g), by_text)
            raise data_error(
                Codes.DATA_ERROR,
                f"the treated geo {_plain(g)!r} is not in the data ({len(geos)} geos).",
                f"did you mean {close!r}?"
                if close
                else f"use geos of the geo column, e.g. {_listed(geos[:5])}.",
                geo=str(g),
            )
        mask[i] = True
    return mask


def window_rows(
    dates: pd.DatetimeIndex, test_start: Any, test_end: Any, min_pre: int = MIN_PRE_PERIODS
) -> tuple[int, int]:
    """Rows of the pre-period and of the test window in sorted ``dates``.

    Returns
    -------
    n_pre : int
        Dates before ``test_start`` (the pre-period is ``dates[:n_pre]``).
    n_end : int
        One past the last date ``<= test_end`` (the window is ``dates[n_pre:n_end]``).

    Raises
    ------
    DataIntegrationError
        ``BAD_DATES`` for dates that do not parse, ``test_end < test_start`` or a window out
        of the data; ``TOO_FEW_ROWS`` when fewer than ``min_pre`` dates precede the window.
    """
    first, last = iso_day(dates[0]), iso_day(dates[-1])
    start = parse_date("test_start", test_start, dates.tz)
    end = parse_date("test_end", test_end if test_end is not None else dates[-1], dates.tz)
    if end < start:
        raise data_error(
            Codes.BAD_DATES,
            f"test_end {iso_day(end)} is before test_start {iso_day(start)}.",
            "swap them.",
        )
    if start > dates[-1] or end < dates[0] or end > dates[-1]:
        raise data_error(
            Codes.BAD_DATES,
            f"the test window {iso_day(start)} to {iso_day(end)} is not inside the data "
            f"({first} to {last}).",
            f"give a window within the data's dates; it may end at {last} at the latest.",
            data_start=first,
            data_end=last,
        )
    n_pre = int(dates.searchsorted(start, side="left"))
    n_end = int(dates.searchsorted(end, side="right"))
    if n_end <= n_pre:
        raise data_error(
            Codes.BAD_DATES,
            f"no date of the data falls in the test window {iso_day(start)} to {iso_day(end)}.",
            "widen the window to include at least one date of the data.",
        )
    if n_pre < min_pre:
        raise data_error(
            Codes.TOO_FEW_ROWS,
            f"only {n_pre} dates before the test starts on {iso_day(start)}; the synthetic "
            f"control needs at least {min_pre} pre-period dates.",
            "add history before the test (several times the test's length is best).",
            pre_periods=n_pre,
            minimum=min_pre,
        )
    return n_pre, n_end


def parse_date(name: str, value: Any, tz: Any = None) -> pd.Timestamp:
    """``value`` as a Timestamp in time zone ``tz`` (naive when ``None``).

    Raises
    ------
    DataIntegrationError
        ``BAD_DATES`` when ``value`` is not a date.
    """
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise data_error(
            Codes.BAD_DATES,
            f"{name}={value!r} is not a date.",
            "give an ISO date such as '2024-03-01'.",
        ) from exc
    if ts is pd.NaT:
        raise data_error(Codes.BAD_DATES, f"{name} is missing.", "give an ISO date.")
    if tz is not None and ts.tz is None:
        return ts.tz_localize(tz)
    if tz is None and ts.tz is not None:
        return ts.tz_localize(None)
    return ts


def data_error(code: str, message: str, hint: str, **details: Any) -> DataIntegrationError:
    """A :class:`DataIntegrationError` with a hint and JSON-serialisable details."""
    return DataIntegrationError(code, message, hint=hint, details=details)


def _listed(names: Sequence[Any]) -> str:
    shown = ", ".join(repr(_plain(n)) for n in names[:_MAX_LISTED])
    return shown + (f", ... (+{len(names) - _MAX_LISTED} more)" if len(names) > _MAX_LISTED else "")


def _plain(value: Any) -> Any:
    """A JSON-friendly geo label (numpy scalars to Python, other objects to text)."""
    if isinstance(value, np.generic):
        value = value.item()
    return value if isinstance(value, str | int | float | bool) else str(value)


def iso_day(ts: Any) -> str:
    """A date as ISO text (``2024-03-01``; with the time when it is not midnight)."""
    ts = pd.Timestamp(ts)
    return str(ts.date()) if ts == ts.normalize() else ts.isoformat()


# --------------------------------------------------------------------------------------------
# Maths


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run BLAS/LAPACK on one thread: the many small problems of the placebos (J x J
    eigendecompositions, T0 x J products) run 5-15x slower on a multi-threaded OpenBLAS when
    the machine is busy, and gain nothing from threads."""
    limits = threadpool_limits(1, user_api="blas") if threadpool_limits else nullcontext()
    with limits:
        yield


def simplex_weights(A: FloatArray, y: FloatArray, penalty: float = 0.0) -> FloatArray:
    """Non-negative weights summing to one that best reproduce ``y`` from the columns of ``A``.

    ``w = argmin |A w - y|^2 + penalty * T0 * |w - 1/J|^2`` subject to ``w >= 0``,
    ``sum(w) = 1``, solved by ``scipy.optimize.nnls`` with the constraint as an extra row of
    weight ``1e3 sqrt(T0)`` (for columns of mean about 1) and the result renormalised.

    Parameters
    ----------
    A : ndarray, shape (T0, J)
        Control series over the pre-period (normalised to mean 1).
    y : ndarray, shape (T0,)
        Treated series over the pre-period (normalised to mean 1).
    penalty : float, default 0.0

    Returns
    -------
    ndarray, shape (J,)
    """
    T0, J = A.shape
    big = _SUM_ROW_WEIGHT * math.sqrt(T0)
    rows = [A, np.full((1, J), big)]
    rhs = [y, np.array([big])]
    if penalty > 0:
        root = math.sqrt(penalty * T0)
        rows.append(root * np.eye(J))
        rhs.append(np.full(J, root / J))
    w, _ = nnls(np.vstack(rows), np.concatenate(rhs), maxiter=50 * J)
    total = w.sum()
    return w / total if total > 0 else np.full(J, 1.0 / J)


def ridge_augmentation(X: FloatArray, r: FloatArray, ridge: float | None = None) -> FloatArray:
    """Ridge coefficients of a residual on centred controls (the augmented SC's correction).

    ``eta = argmin |r - X eta|^2 + lambda |eta|^2``, through the eigendecomposition of
    ``X'X`` (a J x J matrix: cheap however long the pre-period). ``lambda`` is
    ``ridge`` times the mean squared singular value, or, when ``ridge`` is ``None``, the value
    of a log grid (``1e-6`` to ``10`` times the largest squared singular value) with the
    smallest generalised cross-validation score ``n |r - H r|^2 / (n - tr H)^2``.

    Parameters
    ----------
    X : ndarray, shape (T0, J)
        Centred control series over the pre-period.
    r : ndarray, shape (T0,)
        Pre-period residual of the synthetic control.
    ridge : float, optional

    Returns
    -------
    ndarray, shape (J,)
    """
    sv2, V = np.linalg.eigh(X.T @ X)  # sv2 = squared singular values of X (ascending)
    floor = 1e-10 * max(float(sv2[-1]), _TINY)
    keep = sv2 > floor
    if not keep.any():
        return np.zeros(X.shape[1])
    sv2, V = sv2[keep], V[:, keep]
    Ur = (V.T @ (X.T @ r)) / np.sqrt(sv2)  # U' r without forming U
    if ridge is None:
        n = X.shape[0]
        grid = sv2.max() * np.logspace(-6, 1, 36)
        shrink = sv2 / (sv2 + grid[:, None])  # (L, k)
        rss = r @ r - Ur @ Ur + ((1.0 - shrink) ** 2 * Ur**2).sum(axis=1)
        dof = shrink.sum(axis=1)
        gcv = np.where(dof < n - 1, n * rss / np.maximum(n - dof, 1.0) ** 2, np.inf)
        lam = float(grid[int(np.argmin(gcv))])
    else:
        lam = float(ridge) * float(sv2.mean())
    return V @ (np.sqrt(sv2) / (sv2 + lam) * Ur)


def _counterfactual(
    y: FloatArray, C: FloatArray, n_pre: int, size: FloatArray, options: GeoOptions
) -> tuple[FloatArray, FloatArray, FloatArray | None]:
    """Counterfactual of normalised ``y`` (T,) from normalised controls ``C`` (T, J)."""
    if options.method == "did":
        w = size / size.sum()
    else:
        w = simplex_weights(C[:n_pre], y[:n_pre], options.penalty)
    fitted = C @ w
    eta = None
    if options.augment:
        eta = ridge_augmentation(C[:n_pre] - 1.0, y[:n_pre] - fitted[:n_pre], options.ridge)
        fitted = fitted + (C - 1.0) @ eta
    return fitted, w, eta


def _effect_and_scale(y: FloatArray, fitted: FloatArray, n_pre: int) -> tuple[float, float]:
    """Log-ratio effect over the window and its pre-period RMS over windows of that length."""
    n_test = y.shape[0] - n_pre
    e = math.log(max(y[n_pre:].sum(), _TINY) / max(fitted[n_pre:].sum(), _TINY))
    block = min(n_test, n_pre)
    cy = np.concatenate(([0.0], np.cumsum(y[:n_pre])))
    cf = np.concatenate(([0.0], np.cumsum(fitted[:n_pre])))
    sums_y = np.maximum(cy[block:] - cy[:-block], _TINY)
    sums_f = np.maximum(cf[block:] - cf[:-block], _TINY)
    s = float(np.sqrt(np.mean(np.log(sums_y / sums_f) ** 2)))
    return e, max(s, _TINY)


def placebo_groups(n_controls: int, size: int, n_placebos: int, seed: int) -> NDArray[np.intp]:
    """Groups of ``size`` control positions used as placebos.

    All ``C(n_controls, size)`` groups when there are at most ``n_placebos``, else
    ``n_placebos`` distinct groups drawn at random with ``seed``.

    Returns
    -------
    ndarray of int, shape (n_groups, size)
    """
    if math.comb(n_controls, size) <= n_placebos:
        return np.array(list(combinations(range(n_controls), size)), dtype=np.intp)
    rng = np.random.default_rng(seed)
    draws = np.argsort(rng.random((4 * n_placebos, n_controls)), axis=1)[:, :size]
    unique, first = np.unique(np.sort(draws, axis=1), axis=0, return_index=True)
    return unique[np.argsort(first)][:n_placebos].astype(np.intp)


@dataclass(frozen=True, eq=False)
class LiftFit:
    """The treated fit and the placebo fits of one test window (normalised units).

    Attributes
    ----------
    effect, scale : float
        Treated ``e = log(Y / Yhat)`` over the window and its pre-period scale ``s``.
    placebo_effect, placebo_scale : ndarray, shape (n,)
        The same for each placebo group.
    treated, counterfactual : ndarray, shape (T,)
        Treated total and its counterfactual in KPI units, pre-period then window.
    weights : ndarray, shape (J,)
        Weights on the control geos (on their normalised series).
    augmentation : ndarray or None
        Ridge correction coefficients when augmented.
    group_size : int
        Geos per placebo group.
    exhaustive : bool
        Whether every possible placebo group was run.
    pre_r2 : float
        R^2 of the treated pre-period fit (normalised series).
    unaugmented_total : float
        The counterfactual's window total without the augmentation (KPI units).
    """

    effect: float
    scale: float
    placebo_effect: FloatArray
    placebo_scale: FloatArray
    treated: FloatArray
    counterfactual: FloatArray
    weights: FloatArray
    augmentation: FloatArray | None
    group_size: int
    exhaustive: bool
    pre_r2: float
    unaugmented_total: float

    def z(self, studentize: bool = True) -> tuple[float, FloatArray]:
        """Treated and placebo statistics ``e / s`` (or ``e`` without studentising)."""
        if studentize:
            return self.effect / self.scale, self.placebo_effect / self.placebo_scale
        return self.effect, self.placebo_effect


def fit_lift(kpi: FloatArray, treated: BoolArray, n_pre: int, options: GeoOptions) -> LiftFit:
    """Fit the treated counterfactual and every placebo on one window.

    Parameters
    ----------
    kpi : ndarray, shape (T, G)
        KPI per date and geo, the pre-period (first ``n_pre`` rows) then the test window.
    treated : ndarray of bool, shape (G,)
    n_pre : int
    options : GeoOptions

    Returns
    -------
    LiftFit

    Raises
    ------
    DataIntegrationError
        ``DATA_ERROR`` when a geo's pre-period mean is 0 (it cannot be normalised).
    """
    with single_threaded_blas():
        return _fit_lift(kpi, treated, n_pre, options)


def _fit_lift(kpi: FloatArray, treated: BoolArray, n_pre: int, options: GeoOptions) -> LiftFit:
    size = kpi[:n_pre].mean(axis=0)
    if (size <= 0).any():
        zero = int(np.flatnonzero(size <= 0)[0])
        raise data_error(
            Codes.DATA_ERROR,
            f"geo number {zero} has a KPI of 0 throughout the pre-period.",
            "drop geos without activity before the test.",
        )
    norm = kpi / size
    controls = np.flatnonzero(~treated)
    y_raw = kpi[:, treated].sum(axis=1)
    y_scale = y_raw[:n_pre].mean()
    y = y_raw / y_scale
    fitted, w, eta = _counterfactual(y, norm[:, controls], n_pre, size[controls], options)
    effect, scale = _effect_and_scale(y, fitted, n_pre)
    resid = y[:n_pre] - fitted[:n_pre]
    total = float(((y[:n_pre] - 1.0) ** 2).sum())
    pre_r2 = 1.0 - float(resid @ resid) / total if total > 0 else 0.0

    J = controls.size
    group_size = min(int(treated.sum()), J // 2)
    groups = placebo_groups(J, group_size, options.n_placebos, options.seed)
    p_effect = np.empty(len(groups))
    p_scale = np.empty(len(groups))
    keep = np.ones(J, dtype=bool)
    for i, group in enumerate(groups):
        keep[:] = True
        keep[group] = False
        donors = controls[keep]
        p_raw = kpi[:, controls[group]].sum(axis=1)
        p = p_raw / p_raw[:n_pre].mean()
        p_fit, _, _ = _counterfactual(p, norm[:, donors], n_pre, size[donors], options)
        p_effect[i], p_scale[i] = _effect_and_scale(p, p_fit, n_pre)
    return LiftFit(
        effect=effect,
        scale=scale,
        placebo_effect=p_effect,
        placebo_scale=p_scale,
        treated=y_raw,
        counterfactual=fitted * y_scale,
        weights=w,
        augmentation=eta,
        group_size=group_size,
        exhaustive=math.comb(J, group_size) <= options.n_placebos,
        pre_r2=pre_r2,
        unaugmented_total=float((norm[n_pre:, controls] @ w).sum() * y_scale),
    )


def conformal_ranks(n: int, alpha: float) -> tuple[int, int, float]:
    """1-based ranks of the placebo statistics bounding a ``1 - alpha`` interval.

    Returns
    -------
    lo, hi : int
        ``floor(alpha/2 (n+1))`` and ``ceil((1 - alpha/2)(n+1))``, clipped to ``[1, n]``.
    achieved : float
        Coverage of ``[z_(lo), z_(hi)]`` for an exchangeable unit, ``(hi - lo) / (n + 1)``.
    """
    lo = max(1, math.floor(alpha / 2 * (n + 1) + 1e-9))
    hi = min(n, math.ceil((1 - alpha / 2) * (n + 1) - 1e-9))
    return lo, hi, (hi - lo) / (n + 1)


def placebo_p_value(z: FloatArray | float, z_placebo: FloatArray) -> FloatArray:
    """Two-sided rank p-value(s) ``(1 + #{|z_p| >= |z|}) / (n + 1)`` (vectorised over ``z``)."""
    ranked = np.sort(np.abs(z_placebo))
    at_least = ranked.size - np.searchsorted(ranked, np.abs(np.asarray(z)) - 1e-12, side="left")
    return (1.0 + at_least) / (ranked.size + 1.0)


def _summary(fit: LiftFit, n_pre: int, options: GeoOptions) -> dict[str, Any]:
    """Lift, interval and p-value of a fit (see the module doc for the inference)."""
    z, z_p = fit.z(options.studentize)
    s = fit.scale if options.studentize else 1.0
    lo_rank, hi_rank, achieved = conformal_ranks(z_p.size, options.alpha)
    ordered = np.sort(z_p)
    log_ci = (fit.effect - ordered[hi_rank - 1] * s, fit.effect - ordered[lo_rank - 1] * s)
    total = float(fit.treated[n_pre:].sum())
    return {
        "lift_pct": math.expm1(fit.effect),
        "lift_abs": total - float(fit.counterfactual[n_pre:].sum()),
        "ci_pct": [math.expm1(b) for b in log_ci],
        "ci_abs": [total * -math.expm1(-b) for b in log_ci],
        "p_value": float(placebo_p_value(z, z_p)),
        "ci_level_achieved": achieved,
    }


# --------------------------------------------------------------------------------------------
# Entry point


def geo_lift(
    data: pd.DataFrame,
    geo_column: str,
    date_column: str,
    kpi_column: str,
    treated_geos: Any,
    test_start: Any,
    test_end: Any,
    *,
    method: str = "synthetic_control",
    augment: bool = False,
    ridge: float | None = None,
    penalty: float = 0.0,
    level: float = 0.9,
    n_placebos: int = 200,
    studentize: bool = True,
    cross_check: bool = True,
    seed: int = 0,
) -> dict[str, Any]:
    """Lift of a geo test over its window, with a placebo interval and p-value.

    The treated geos' KPI total over ``[test_start, test_end]`` is compared with a
    counterfactual built from the control geos over the dates before ``test_start`` (dates
    after ``test_end`` are not used). See the module docstring for the estimator and the
    inference.

    Parameters
    ----------
    data : DataFrame
        Long panel: one row per geo and date, every geo on every date.
    geo_column, date_column, kpi_column : str
    treated_geos : label or list of labels
        Geos that ran the test; every other geo is a control.
    test_start, test_end : date-like
        First and last date of the test (inclusive). ``test_end=None`` means the last date.
    method : {"synthetic_control", "did"}, default "synthetic_control"
    augment : bool, default False
        Ridge-augmented counterfactual (when the pre-period fit is poor).
    ridge : float, optional
        Augmentation strength (default: generalised cross-validation).
    penalty : float, default 0.0
        Shrinks the synthetic-control weights towards equal weights.
    level : float, default 0.9
        Confidence level of the intervals.
    n_placebos : int, default 200
        Most placebo groups.
    studentize : bool, default True
        Rank placebo effects relative to their pre-period error.
    cross_check : bool, default True
        Also run the other method (DiD for synthetic control and vice versa), not augmented.
    seed : int, default 0
        Seed of the placebo groups' draw.

    Returns
    -------
    dict
        JSON-serialisable: ``lift_pct``, ``lift_abs``, ``ci_pct`` and ``ci_abs`` (``[lo, hi]``),
        ``p_value``, ``method``, ``level``, ``treated_total``, ``counterfactual_total``,
        ``test_window`` (start, end, periods), ``pre_periods``, ``treated_geos``,
        ``weights`` (control geo -> weight, weights above 1e-4), ``pre_fit`` (R^2 and error of
        the pre-period fit), ``inference`` (placebos, group size, smallest possible p-value,
        the level the interval achieves), ``cross_check`` (the other method's lift, interval,
        p-value and whether the two intervals overlap; ``None`` when off), ``series`` (dates,
        treated and counterfactual totals over the pre-period and the window), ``notes``.

    Raises
    ------
    DataIntegrationError
        Bad data (see the module's table of errors).
    MMModelError
        ``MMM_006`` for an option out of range.
    """
    options = GeoOptions(method, augment, ridge, penalty, level, n_placebos, studentize, seed)
    panel = prepare_geo_panel(data, geo_column, date_column, kpi_column, treated_geos)
    n_pre, n_end = window_rows(panel.dates, test_start, test_end)
    kpi = panel.kpi[:n_end]
    fit = fit_lift(kpi, panel.treated, n_pre, options)
    result: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "method": options.label}
    result.update(_summary(fit, n_pre, options))
    result["level"] = float(options.level)
    notes: list[str] = []

    other = None
    if cross_check:
        other_method = "did" if options.method == "synthetic_control" else "synthetic_control"
        other_options = GeoOptions(
            other_method, False, None, penalty, level, n_placebos, studentize, seed
        )
        other = _summary(fit_lift(kpi, panel.treated, n_pre, other_options), n_pre, options)
        lo, hi = result["ci_pct"]
        other["method"] = other_method
        other["agrees"] = bool(other["ci_pct"][0] <= hi and lo <= other["ci_pct"][1])
        if not other["agrees"]:
            notes.append(
                f"{options.label} and {other_method} disagree (their intervals do not "
                "overlap): check the pre-period fit in 'series' and whether the treated geos "
                "follow the controls' trend."
            )

    control_labels = [g for g, t in zip(panel.geos, panel.treated, strict=True) if not t]
    order = np.argsort(-fit.weights, kind="stable")
    weights = {
        str(_plain(control_labels[j])): float(fit.weights[j])
        for j in order
        if fit.weights[j] > 1e-4
    }
    n = fit.placebo_effect.size
    placebo_s = np.median(fit.placebo_scale)
    result.update(
        {
            "treated_total": float(fit.treated[n_pre:].sum()),
            "counterfactual_total": float(fit.counterfactual[n_pre:].sum()),
            "test_window": {
                "start": iso_day(panel.dates[n_pre]),
                "end": iso_day(panel.dates[n_end - 1]),
                "periods": n_end - n_pre,
            },
            "pre_periods": n_pre,
            "treated_geos": panel.treated_labels,
            "control_geos": panel.n_controls,
            "weights": weights,
            "pre_fit": {
                "r2": fit.pre_r2,
                "window_error_pct": 100.0 * fit.scale,
                "placebo_window_error_pct_median": 100.0 * float(placebo_s),
            },
            "inference": {
                "kind": "placebo_in_space",
                "placebos": int(n),
                "group_size": fit.group_size,
                "exhaustive": fit.exhaustive,
                "statistic": "log(Y/Yhat) over the window"
                + (" / its pre-period RMS over windows of the same length" if studentize else ""),
                "interval": "test inversion with conformal placebo ranks",
                "min_p_value": 1.0 / (n + 1),
                "ci_level_achieved": result.pop("ci_level_achieved"),
            },
            "cross_check": other,
            "series": {
                "dates": [iso_day(d) for d in panel.dates[:n_end]],
                "treated": fit.treated.tolist(),
                "counterfactual": fit.counterfactual.tolist(),
                "test_start_index": n_pre,
            },
        }
    )
    if fit.augmentation is not None:
        result["augmentation"] = {
            "coefficients_norm": float(np.linalg.norm(fit.augmentation)),
            "counterfactual_shift_pct": 100.0
            * (result["counterfactual_total"] / fit.unaugmented_total - 1.0),
        }
    if fit.group_size < int(panel.treated.sum()):
        notes.append(
            f"placebo groups have {fit.group_size} geos, fewer than the "
            f"{int(panel.treated.sum())} treated (half the controls at most, to leave donors)."
        )
    if result["inference"]["ci_level_achieved"] < options.level - 1e-9:
        notes.append(
            f"only {n} placebos: the interval covers about "
            f"{result['inference']['ci_level_achieved']:.0%}, not {options.level:.0%}; "
            f"p-values cannot go below {1 / (n + 1):.3f}. Add control geos."
        )
    if fit.scale > np.quantile(fit.placebo_scale, 0.9) and not options.augment:
        notes.append(
            "the treated geos are reproduced worse before the test than 90% of the placebos: "
            "they may lie outside the controls' range; try augment=True and compare."
        )
    result["notes"] = notes
    return result
