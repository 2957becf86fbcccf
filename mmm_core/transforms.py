"""Media transformations: carry-over (adstock) and diminishing returns (saturation).

Each transformation is a small class with a name, the names of its parameters, a prior search
space and one pure, vectorised ``transform``. Parameters are passed as a mapping of arrays:
scalars give one transformed series, 1-D arrays of length ``C`` give ``C`` candidate series at
once (shape ``(C, n)``), which is how the hyperparameter search evaluates thousands of candidates
in a few numpy calls. ``REGISTRY`` maps names to classes for JSON round trips.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mmm_core.errors import Codes, MMModelError

Params = Mapping[str, ArrayLike]

DEFAULT_MAX_LAG = 13


def _as_column(value: ArrayLike) -> tuple[NDArray[np.float64], bool]:
    """Parameter values as a ``(C, 1)`` column; the flag says whether the input was a scalar."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        return arr.reshape(1, 1), True
    return arr.reshape(-1, 1), False


WEIBULL_HINT = "shape around 0.5-4 and scale in periods (e.g. 2)."
HILL_HINT = "half_saturation is a spend per period; shape is typically 0.7-3."


def _check_positive(kind: str, names: tuple[str, ...], params: Params, hint: str) -> None:
    """Raise ``MMM_006`` unless every named parameter is finite and > 0."""
    for name in names:
        value = np.asarray(params[name], dtype=float)
        if not np.all(np.isfinite(value) & (value > 0)):
            raise MMModelError(
                Codes.INVALID_PARAMETER,
                f"{kind} {name} must be a finite number > 0, got {value.tolist()}.",
                hint=hint,
            )


def _lag_matrix(x: NDArray[np.float64], max_lag: int) -> NDArray[np.float64]:
    """``(n, L)`` matrix whose column ``l`` is ``x`` shifted by ``l`` periods (zeros before)."""
    n = x.shape[-1]
    lags = np.zeros((n, max_lag))
    for lag in range(min(max_lag, n)):
        lags[lag:, lag] = x[: n - lag]
    return lags


class Adstock:
    """Base of the normalised, finite-lag adstock transformations.

    ``adstock_t = sum_{l=0}^{L-1} w_l x_{t-l}`` with weights ``w_l >= 0`` summing to 1, so a
    constant spend ``x`` has the steady state ``x``: adstock moves spend in time, it never
    creates or destroys it. Periods before the first observation count as zero spend.

    Parameters
    ----------
    max_lag : int
        Number of periods ``L`` over which one period's spend acts (the current one included).
    """

    name: ClassVar[str] = ""
    param_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, max_lag: int = DEFAULT_MAX_LAG) -> None:
        if int(max_lag) < 1:
            raise MMModelError(
                Codes.INVALID_PARAMETER,
                f"max_lag must be a positive number of periods, got {max_lag}.",
                hint="use e.g. max_lag=13 for a quarter of weekly data.",
            )
        self.max_lag = int(max_lag)

    def raw_weights(self, params: Params) -> NDArray[np.float64]:
        """Unnormalised weights, shape ``(C, L)``."""
        raise NotImplementedError

    def weights(self, params: Params) -> NDArray[np.float64]:
        """Normalised lag weights, shape ``(C, L)`` (``(L,)`` for scalar parameters)."""
        scalar = all(np.ndim(params[p]) == 0 for p in self.param_names)
        w = self.raw_weights(params)
        w = w / w.sum(axis=1, keepdims=True)
        return w[0] if scalar else w

    def transform(self, x: ArrayLike, params: Params) -> NDArray[np.float64]:
        """Adstocked series: ``(n,)`` for scalar parameters, ``(C, n)`` for ``C`` candidates."""
        series = np.asarray(x, dtype=float)
        w = self.weights(params)
        return (np.atleast_2d(w) @ _lag_matrix(series, self.max_lag).T).reshape(
            (-1, series.shape[-1]) if w.ndim == 2 else series.shape
        )

    def sample(self, rng: np.random.Generator, size: int) -> dict[str, NDArray[np.float64]]:
        """Draw ``size`` candidate parameter sets from the search prior."""
        raise NotImplementedError

    def check(self, params: Params) -> None:
        """Raise :class:`MMModelError` (``MMM_006``) for parameters outside their domain."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """JSON description of the transformation (not of its parameters)."""
        return {"type": self.name, "max_lag": self.max_lag}


class GeometricAdstock(Adstock):
    """Geometric decay: ``w_l = rate**l / sum_k rate**k`` for ``l = 0..L-1``.

    ``rate`` in ``[0, 1)`` is the share of one period's effect that carries into the next;
    ``rate = 0`` means no carry-over. The half-life is ``log(0.5) / log(rate)`` periods.

    Examples
    --------
    >>> GeometricAdstock(max_lag=3).transform([1.0, 0.0, 0.0], {"rate": 0.5}).round(3)
    array([0.571, 0.286, 0.143])
    """

    name = "geometric"
    param_names = ("rate",)

    def raw_weights(self, params: Params) -> NDArray[np.float64]:
        rate, _ = _as_column(params["rate"])
        return rate ** np.arange(self.max_lag)[None, :]

    def sample(self, rng: np.random.Generator, size: int) -> dict[str, NDArray[np.float64]]:
        return {"rate": rng.uniform(0.0, 0.9, size)}

    def check(self, params: Params) -> None:
        rate = np.asarray(params["rate"], dtype=float)
        if not np.all((rate >= 0) & (rate < 1)):
            raise MMModelError(
                Codes.INVALID_PARAMETER,
                f"geometric adstock rate must be in [0, 1), got {rate.tolist()}.",
                hint="0 means no carry-over, 0.5 halves the effect each period.",
            )


class WeibullAdstock(Adstock):
    """Weibull-PDF lag weights, which allow a delayed peak (TV, outdoor).

    ``w_l ∝ (k/λ) ((l+1)/λ)^(k-1) exp(-((l+1)/λ)^k)`` for ``l = 0..L-1``, normalised to sum
    to 1, with ``shape`` k > 0 and ``scale`` λ > 0 in periods. ``k <= 1`` decays from the start;
    ``k > 1`` peaks after ``λ ((k-1)/k)^(1/k) - 1`` periods. The density is read at ``l + 1``
    so that ``k < 1`` stays finite at the first lag.
    """

    name = "weibull"
    param_names = ("shape", "scale")

    def raw_weights(self, params: Params) -> NDArray[np.float64]:
        k, _ = _as_column(params["shape"])
        lam, _ = _as_column(params["scale"])
        t = (np.arange(self.max_lag) + 1.0)[None, :] / lam
        # In log space, so large shapes neither overflow t**(k-1) nor underflow exp(-t**k) to NaN.
        with np.errstate(over="ignore"):  # t**k -> inf gives log weight -inf: weight 0
            log_w = np.log(k / lam) + (k - 1.0) * np.log(t) - t**k
        w = np.exp(log_w - log_w.max(axis=1, keepdims=True))
        # Where the density is not finite anywhere, put all weight on the current period.
        dead = ~np.isfinite(w.sum(axis=1)) | (w.sum(axis=1) <= 0)
        if np.any(dead):
            w[dead] = 0.0
            w[dead, 0] = 1.0
        return w

    def sample(self, rng: np.random.Generator, size: int) -> dict[str, NDArray[np.float64]]:
        return {
            "shape": np.exp(rng.uniform(np.log(0.5), np.log(4.0), size)),
            "scale": rng.uniform(0.5, self.max_lag / 2.0, size),
        }

    def check(self, params: Params) -> None:
        _check_positive("weibull adstock", self.param_names, params, WEIBULL_HINT)


class HillSaturation:
    """Hill curve: ``h(x) = x^s / (x^s + K^s)``, rising from 0 towards 1.

    ``half_saturation`` K > 0 is the (adstocked) spend per period at which half of the maximum
    effect is reached, in the spend's own units; ``shape`` s > 0 bends it: ``s <= 1`` is concave
    everywhere, ``s > 1`` is S-shaped. The derivative is
    ``h'(x) = s x^(s-1) K^s / (x^s + K^s)^2``.

    Examples
    --------
    >>> float(HillSaturation().transform(2.0, {"half_saturation": 2.0, "shape": 1.5}))
    0.5
    """

    name: ClassVar[str] = "hill"
    param_names: ClassVar[tuple[str, ...]] = ("half_saturation", "shape")

    @staticmethod
    def _ratio(
        x: ArrayLike, params: Params
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], bool]:
        k, k_scalar = _as_column(params["half_saturation"])
        s, s_scalar = _as_column(params["shape"])
        r = np.maximum(np.asarray(x, dtype=float), 0.0) / k
        return r, s, k_scalar and s_scalar

    def transform(self, x: ArrayLike, params: Params) -> NDArray[np.float64]:
        """Saturated series; candidates broadcast along the first axis like the adstocks."""
        r, s, scalar = self._ratio(x, params)
        with np.errstate(divide="ignore", over="ignore"):
            out = 1.0 / (1.0 + r ** (-s))  # = r^s / (1 + r^s), finite where r^s overflows
        return out.reshape(np.shape(x)) if scalar else out

    def derivative(self, x: ArrayLike, params: Params) -> NDArray[np.float64]:
        """``dh/dx`` at ``x`` (same broadcasting as :meth:`transform`)."""
        r, s, scalar = self._ratio(x, params)
        k, _ = _as_column(params["half_saturation"])
        with np.errstate(divide="ignore", invalid="ignore"):
            out = s * r ** (s - 1.0) / (k * (1.0 + r**s) ** 2)
        out = np.where(r > 0, out, np.where(s < 1, np.inf, np.where(s == 1, 1.0 / k, 0.0)))
        return out.reshape(np.shape(x)) if scalar else out

    def sample(
        self, rng: np.random.Generator, size: int, scale: float
    ) -> dict[str, NDArray[np.float64]]:
        """Candidates with K log-uniform in ``[0.2, 5] * scale`` (``scale``: the mean spend)."""
        return {
            "half_saturation": scale * np.exp(rng.uniform(np.log(0.2), np.log(5.0), size)),
            "shape": np.exp(rng.uniform(np.log(0.7), np.log(3.0), size)),
        }

    def check(self, params: Params) -> None:
        _check_positive("hill", self.param_names, params, HILL_HINT)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.name}


ADSTOCKS: dict[str, type[Adstock]] = {
    GeometricAdstock.name: GeometricAdstock,
    WeibullAdstock.name: WeibullAdstock,
}
SATURATIONS: dict[str, type[HillSaturation]] = {HillSaturation.name: HillSaturation}


def adstock_from_dict(spec: Mapping[str, Any]) -> Adstock:
    """Rebuild an adstock from :meth:`Adstock.to_dict` output."""
    kind = spec.get("type") if isinstance(spec, Mapping) else None
    if kind not in ADSTOCKS:
        raise MMModelError(
            Codes.INVALID_PARAMETER,
            f"unknown adstock type {kind!r}.",
            hint=f"use one of {sorted(ADSTOCKS)}.",
        )
    return ADSTOCKS[kind](max_lag=int(spec.get("max_lag", DEFAULT_MAX_LAG)))


def saturation_from_dict(spec: Mapping[str, Any]) -> HillSaturation:
    """Rebuild a saturation from :meth:`HillSaturation.to_dict` output."""
    kind = spec.get("type") if isinstance(spec, Mapping) else None
    if kind not in SATURATIONS:
        raise MMModelError(
            Codes.INVALID_PARAMETER,
            f"unknown saturation type {kind!r}.",
            hint=f"use one of {sorted(SATURATIONS)}.",
        )
    return SATURATIONS[kind]()
