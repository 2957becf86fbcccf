"""Tests of the maths in mmm_core.transforms: adstocks, Hill saturation, JSON round trips."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mmm_core.errors import Codes, MMModelError
from mmm_core.transforms import (
    ADSTOCKS,
    DEFAULT_MAX_LAG,
    Adstock,
    GeometricAdstock,
    HillSaturation,
    WeibullAdstock,
    adstock_from_dict,
    saturation_from_dict,
)

FAST = settings(max_examples=60, deadline=None)

ADSTOCK_PARAMS: list[tuple[Adstock, dict[str, float]]] = [
    (GeometricAdstock(max_lag=8), {"rate": 0.0}),
    (GeometricAdstock(max_lag=8), {"rate": 0.6}),
    (GeometricAdstock(max_lag=13), {"rate": 0.95}),
    (WeibullAdstock(max_lag=8), {"shape": 0.5, "scale": 1.0}),
    (WeibullAdstock(max_lag=10), {"shape": 2.5, "scale": 4.0}),
    (WeibullAdstock(max_lag=13), {"shape": 1.0, "scale": 3.0}),
]
ADSTOCK_IDS = [f"{a.name}-{p}" for a, p in ADSTOCK_PARAMS]


def hill(k: float, s: float) -> dict[str, float]:
    return {"half_saturation": k, "shape": s}


# --------------------------------------------------------------------------------------------
# Geometric adstock


def test_geometric_impulse_decays_by_the_rate() -> None:
    rate, lag = 0.7, 6
    out = GeometricAdstock(max_lag=lag).transform(np.r_[1.0, np.zeros(9)], {"rate": rate})
    np.testing.assert_allclose(out[1:lag] / out[: lag - 1], rate)
    np.testing.assert_allclose(out[0], (1 - rate) / (1 - rate**lag))  # the normalised w_0
    np.testing.assert_array_equal(out[lag:], 0.0)  # nothing acts beyond max_lag periods


def test_geometric_weights_are_normalised_powers_of_the_rate() -> None:
    w = GeometricAdstock(max_lag=5).weights({"rate": 0.5})
    np.testing.assert_allclose(w, 0.5 ** np.arange(5) / (0.5 ** np.arange(5)).sum())
    assert w.sum() == pytest.approx(1.0)


def test_geometric_rate_zero_is_the_identity() -> None:
    x = np.random.default_rng(0).uniform(0, 10, 30)
    np.testing.assert_array_equal(GeometricAdstock().transform(x, {"rate": 0.0}), x)


def test_docstring_example_of_geometric_adstock() -> None:
    out = GeometricAdstock(max_lag=3).transform([1.0, 0.0, 0.0], {"rate": 0.5})
    np.testing.assert_allclose(out, [4 / 7, 2 / 7, 1 / 7])


# --------------------------------------------------------------------------------------------
# Properties shared by every normalised adstock


@pytest.mark.parametrize(("adstock", "params"), ADSTOCK_PARAMS, ids=ADSTOCK_IDS)
def test_weights_are_non_negative_and_sum_to_one(adstock: Adstock, params: dict) -> None:
    w = adstock.weights(params)
    assert w.shape == (adstock.max_lag,)
    assert np.all(w >= 0)
    assert w.sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(("adstock", "params"), ADSTOCK_PARAMS, ids=ADSTOCK_IDS)
def test_impulse_response_equals_the_weights(adstock: Adstock, params: dict) -> None:
    impulse = np.zeros(adstock.max_lag + 5)
    impulse[0] = 1.0
    out = adstock.transform(impulse, params)
    np.testing.assert_allclose(out[: adstock.max_lag], adstock.weights(params))
    np.testing.assert_array_equal(out[adstock.max_lag :], 0.0)


@pytest.mark.parametrize(("adstock", "params"), ADSTOCK_PARAMS, ids=ADSTOCK_IDS)
def test_constant_spend_reaches_steady_state_after_max_lag(adstock: Adstock, params: dict) -> None:
    out = adstock.transform(np.full(40, 5.0), params)
    # From period max_lag - 1 on, every lag sees the same spend: the steady state is the spend.
    np.testing.assert_allclose(out[adstock.max_lag - 1 :], 5.0, rtol=1e-12)
    # Before that, earlier periods count as zero spend, so it ramps up.
    assert np.all(np.diff(out[: adstock.max_lag]) >= -1e-12)
    assert np.all(out <= 5.0 + 1e-12)


@pytest.mark.parametrize(("adstock", "params"), ADSTOCK_PARAMS, ids=ADSTOCK_IDS)
def test_total_mass_is_preserved_when_the_tail_is_zero(adstock: Adstock, params: dict) -> None:
    x = np.r_[np.random.default_rng(1).uniform(0, 100, 25), np.zeros(adstock.max_lag - 1)]
    out = adstock.transform(x, params)
    assert out.sum() == pytest.approx(x.sum(), rel=1e-12)


@pytest.mark.parametrize(("adstock", "params"), ADSTOCK_PARAMS, ids=ADSTOCK_IDS)
def test_adstock_is_linear(adstock: Adstock, params: dict) -> None:
    rng = np.random.default_rng(2)
    a, b = rng.uniform(0, 10, 20), rng.uniform(0, 10, 20)
    np.testing.assert_allclose(
        adstock.transform(2.0 * a + 3.0 * b, params),
        2.0 * adstock.transform(a, params) + 3.0 * adstock.transform(b, params),
    )


def test_series_shorter_than_max_lag() -> None:
    out = GeometricAdstock(max_lag=13).transform([2.0, 0.0, 0.0], {"rate": 0.5})
    w = GeometricAdstock(max_lag=13).weights({"rate": 0.5})
    np.testing.assert_allclose(out, 2.0 * w[:3])


@pytest.mark.parametrize(
    ("adstock", "candidates"),
    [
        (GeometricAdstock(max_lag=6), {"rate": np.array([0.0, 0.3, 0.55, 0.9])}),
        (
            WeibullAdstock(max_lag=9),
            {"shape": np.array([0.5, 1.0, 2.0, 3.5]), "scale": np.array([1.0, 2.0, 3.0, 4.0])},
        ),
    ],
    ids=["geometric", "weibull"],
)
def test_vectorised_candidates_equal_scalar_calls(adstock: Adstock, candidates: dict) -> None:
    x = np.random.default_rng(3).uniform(0, 50, 30)
    n_candidates = len(next(iter(candidates.values())))
    batch = adstock.transform(x, candidates)
    assert batch.shape == (n_candidates, x.size)
    assert adstock.weights(candidates).shape == (n_candidates, adstock.max_lag)
    for c in range(n_candidates):
        one = {name: float(values[c]) for name, values in candidates.items()}
        scalar = adstock.transform(x, one)
        assert scalar.shape == x.shape
        np.testing.assert_allclose(batch[c], scalar, rtol=1e-13, atol=1e-13)


def test_a_single_candidate_array_keeps_the_candidate_axis() -> None:
    out = GeometricAdstock(max_lag=4).transform(np.ones(6), {"rate": np.array([0.5])})
    assert out.shape == (1, 6)


@FAST
@given(
    x=arrays(np.float64, st.integers(1, 40), elements=st.floats(0, 1e6)),
    rate=st.floats(0.0, 0.99),
    max_lag=st.integers(1, 20),
)
def test_property_geometric_adstock_preserves_mass(
    x: np.ndarray, rate: float, max_lag: int
) -> None:
    padded = np.r_[x, np.zeros(max_lag - 1)]
    out = GeometricAdstock(max_lag=max_lag).transform(padded, {"rate": rate})
    assert np.all(out >= 0)
    assert out.sum() == pytest.approx(padded.sum(), rel=1e-9, abs=1e-6)


@FAST
@given(
    x=arrays(np.float64, st.integers(1, 40), elements=st.floats(0, 1e6)),
    shape=st.floats(0.3, 6.0),
    scale=st.floats(0.3, 10.0),
    max_lag=st.integers(1, 20),
)
def test_property_weibull_adstock_preserves_mass(
    x: np.ndarray, shape: float, scale: float, max_lag: int
) -> None:
    padded = np.r_[x, np.zeros(max_lag - 1)]
    adstock = WeibullAdstock(max_lag=max_lag)
    params = {"shape": shape, "scale": scale}
    w = adstock.weights(params)
    assert np.all(np.isfinite(w)) and np.all(w >= 0)
    assert w.sum() == pytest.approx(1.0)
    assert adstock.transform(padded, params).sum() == pytest.approx(
        padded.sum(), rel=1e-9, abs=1e-6
    )


# --------------------------------------------------------------------------------------------
# Weibull adstock


@pytest.mark.parametrize(("shape", "scale"), [(0.3, 2.0), (0.7, 5.0), (1.0, 1.0), (1.0, 8.0)])
def test_weibull_shape_at_most_one_peaks_at_lag_zero(shape: float, scale: float) -> None:
    w = WeibullAdstock(max_lag=13).weights({"shape": shape, "scale": scale})
    assert int(np.argmax(w)) == 0
    assert np.all(np.diff(w) <= 0)  # decays from the start


@pytest.mark.parametrize(("shape", "scale"), [(2.0, 4.0), (3.0, 5.0), (4.0, 6.0), (1.5, 8.0)])
def test_weibull_shape_above_one_peaks_later(shape: float, scale: float) -> None:
    w = WeibullAdstock(max_lag=13).weights({"shape": shape, "scale": scale})
    peak = int(np.argmax(w))
    assert peak > 0
    # The density peaks at t* = scale ((k-1)/k)^(1/k); read at lag + 1, the peak lag is next
    # to t* - 1.
    expected = scale * ((shape - 1.0) / shape) ** (1.0 / shape) - 1.0
    assert np.floor(expected) <= peak <= np.ceil(expected)


def test_weibull_shape_above_one_with_small_scale_still_peaks_at_lag_zero() -> None:
    # "shape > 1 peaks later" needs scale ((k-1)/k)^(1/k) - 1 > ~0.5: the mode t* = 0.23
    # lies before the first lag read (t = 1), so the weights decay from lag 0.
    w = WeibullAdstock(max_lag=13).weights({"shape": 1.1, "scale": 2.0})
    assert int(np.argmax(w)) == 0


def test_weibull_underflow_falls_back_to_the_current_period() -> None:
    # The density is ~0 at every lag read: all weight goes on the current period.
    w = WeibullAdstock(max_lag=13).weights({"shape": 50.0, "scale": 0.5})
    np.testing.assert_array_equal(w, np.r_[1.0, np.zeros(12)])


def test_weibull_large_shape_gives_finite_weights() -> None:
    adstock = WeibullAdstock(max_lag=13)
    params = {"shape": 300.0, "scale": 0.5}
    adstock.check(params)  # accepted as valid
    w = adstock.weights(params)
    assert np.all(np.isfinite(w))


# --------------------------------------------------------------------------------------------
# Hill saturation


@pytest.mark.parametrize("shape", [0.3, 0.7, 1.0, 1.5, 3.0, 8.0])
@pytest.mark.parametrize("k", [0.01, 1.0, 250.0])
def test_hill_is_one_half_at_the_half_saturation_point(k: float, shape: float) -> None:
    assert float(HillSaturation().transform(k, hill(k, shape))) == pytest.approx(0.5)


def test_hill_docstring_example() -> None:
    assert float(HillSaturation().transform(2.0, hill(2.0, 1.5))) == 0.5


def test_hill_is_zero_at_zero_and_zero_for_negative_input() -> None:
    out = HillSaturation().transform(np.array([-5.0, 0.0]), hill(1.0, 2.0))
    np.testing.assert_array_equal(out, [0.0, 0.0])


@pytest.mark.parametrize("shape", [0.5, 1.0, 2.0, 4.0])
def test_hill_is_increasing_and_bounded_in_0_1(shape: float) -> None:
    x = np.linspace(0.0, 20.0, 401)
    h = HillSaturation().transform(x, hill(3.0, shape))
    assert h.shape == x.shape
    assert h[0] == 0.0 and np.all(h >= 0) and np.all(h < 1)
    assert np.all(np.diff(h) > 0)
    assert h[-1] > 0.5


@FAST
@given(
    x=arrays(np.float64, st.integers(2, 50), elements=st.floats(0.0, 1e4)),
    k=st.floats(0.01, 1e3),
    shape=st.floats(0.2, 5.0),
)
def test_property_hill_is_monotone_and_bounded(x: np.ndarray, k: float, shape: float) -> None:
    xs = np.sort(x)
    h = HillSaturation().transform(xs, hill(k, shape))
    assert np.all(np.diff(h) >= 0)
    assert np.all((h >= 0) & (h <= 1))  # may round to exactly 1.0 once (x/K)^s > 2**53
    tame = (xs / k) ** shape < 1e12
    assert np.all(h[tame] < 1)


@pytest.mark.parametrize("shape", [0.5, 0.9, 1.0, 1.7, 3.0])
@pytest.mark.parametrize("k", [0.5, 4.0])
def test_hill_derivative_matches_finite_differences(k: float, shape: float) -> None:
    sat = HillSaturation()
    x = np.linspace(0.05, 6.0 * k, 60)
    eps = 1e-6 * np.maximum(x, 1.0)
    numeric = (sat.transform(x + eps, hill(k, shape)) - sat.transform(x - eps, hill(k, shape))) / (
        2 * eps
    )
    np.testing.assert_allclose(sat.derivative(x, hill(k, shape)), numeric, rtol=1e-5, atol=1e-9)


@FAST
@given(x=st.floats(0.01, 100.0), k=st.floats(0.1, 50.0), shape=st.floats(0.3, 4.0))
def test_property_hill_derivative_matches_finite_differences(
    x: float, k: float, shape: float
) -> None:
    sat = HillSaturation()
    eps = 1e-6 * x
    numeric = (
        float(sat.transform(x + eps, hill(k, shape)))
        - float(sat.transform(x - eps, hill(k, shape)))
    ) / (2 * eps)
    assert float(sat.derivative(x, hill(k, shape))) == pytest.approx(numeric, rel=1e-4, abs=1e-9)


@pytest.mark.parametrize(("shape", "expected"), [(0.5, np.inf), (1.0, 0.25), (2.0, 0.0)])
def test_hill_derivative_at_zero(shape: float, expected: float) -> None:
    # h'(0) is infinite for s < 1, 1/K for s = 1 and 0 for s > 1 (K = 4 here).
    d = HillSaturation().derivative(np.array([0.0]), hill(4.0, shape))
    assert d.shape == (1,)
    assert d[0] == expected


def test_hill_derivative_is_positive_and_peaks_at_the_inflection_for_s_above_one() -> None:
    k, s = 2.0, 3.0
    x = np.linspace(0.0, 10.0, 10_001)
    d = HillSaturation().derivative(x, hill(k, s))
    assert np.all(d[1:] > 0)
    # Inflection of the Hill curve: x* = K ((s-1)/(s+1))^(1/s).
    assert x[np.argmax(d)] == pytest.approx(k * ((s - 1) / (s + 1)) ** (1 / s), abs=1e-3)


def test_hill_candidates_broadcast_like_scalar_calls() -> None:
    sat = HillSaturation()
    x = np.linspace(0.0, 10.0, 25)
    ks, ss = np.array([0.5, 2.0, 7.0]), np.array([0.8, 1.0, 2.5])
    batch = sat.transform(x, {"half_saturation": ks, "shape": ss})
    dbatch = sat.derivative(x, {"half_saturation": ks, "shape": ss})
    assert batch.shape == dbatch.shape == (3, x.size)
    for c in range(3):
        np.testing.assert_allclose(batch[c], sat.transform(x, hill(ks[c], ss[c])))
        np.testing.assert_allclose(dbatch[c], sat.derivative(x, hill(ks[c], ss[c])))


def test_hill_saturates_to_one_without_overflow() -> None:
    sat = HillSaturation()
    params = hill(1.0, 60.0)
    sat.check(params)  # accepted as valid
    assert float(sat.transform(1e6, params)) == 1.0


# --------------------------------------------------------------------------------------------
# Parameter checks


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, np.nan, [0.2, 1.0]])
def test_geometric_check_rejects_rates_outside_0_1(rate: Any) -> None:
    with pytest.raises(MMModelError) as info:
        GeometricAdstock().check({"rate": rate})
    assert info.value.code == Codes.INVALID_PARAMETER == "MMM_006"
    assert "rate" in info.value.message


def test_geometric_check_accepts_valid_rates() -> None:
    GeometricAdstock().check({"rate": np.array([0.0, 0.5, 0.999])})


@pytest.mark.parametrize(
    "params",
    [
        {"shape": 0.0, "scale": 1.0},
        {"shape": -1.0, "scale": 1.0},
        {"shape": 1.0, "scale": 0.0},
        {"shape": 1.0, "scale": np.nan},
        {"shape": [1.0, -2.0], "scale": [1.0, 1.0]},
    ],
)
def test_weibull_check_rejects_non_positive_params(params: dict) -> None:
    with pytest.raises(MMModelError) as info:
        WeibullAdstock().check(params)
    assert info.value.code == Codes.INVALID_PARAMETER


@pytest.mark.parametrize(
    "params",
    [hill(0.0, 1.0), hill(-1.0, 1.0), hill(np.inf, 1.0), hill(1.0, 0.0), hill(1.0, np.nan)],
)
def test_hill_check_rejects_non_positive_or_non_finite_params(params: dict) -> None:
    with pytest.raises(MMModelError) as info:
        HillSaturation().check(params)
    assert info.value.code == Codes.INVALID_PARAMETER


def test_sampled_candidates_pass_their_checks() -> None:
    rng = np.random.default_rng(4)
    for adstock in (GeometricAdstock(), WeibullAdstock()):
        params = adstock.sample(rng, 500)
        adstock.check(params)
        assert np.all(np.isfinite(adstock.weights(params)))
    HillSaturation().check(HillSaturation().sample(rng, 500, scale=1000.0))


@pytest.mark.parametrize("max_lag", [0, -3])
def test_adstock_rejects_a_non_positive_max_lag(max_lag: int) -> None:
    with pytest.raises(MMModelError) as info:
        GeometricAdstock(max_lag=max_lag)
    assert info.value.code == Codes.INVALID_PARAMETER


# --------------------------------------------------------------------------------------------
# JSON round trips


@pytest.mark.parametrize("cls", sorted(ADSTOCKS.values(), key=lambda c: c.name))
def test_adstock_json_round_trip(cls: type[Adstock]) -> None:
    original = cls(max_lag=7)
    spec = json.loads(json.dumps(original.to_dict()))
    rebuilt = adstock_from_dict(spec)
    assert type(rebuilt) is cls and rebuilt.max_lag == 7
    assert rebuilt.to_dict() == original.to_dict()


def test_adstock_from_dict_defaults_max_lag() -> None:
    assert adstock_from_dict({"type": "geometric"}).max_lag == DEFAULT_MAX_LAG


def test_saturation_json_round_trip() -> None:
    spec = json.loads(json.dumps(HillSaturation().to_dict()))
    rebuilt = saturation_from_dict(spec)
    assert isinstance(rebuilt, HillSaturation) and rebuilt.to_dict() == {"type": "hill"}


@pytest.mark.parametrize("spec", [{"type": "carryover"}, {}, {"type": "hill"}])
def test_adstock_from_dict_rejects_unknown_types(spec: dict) -> None:
    with pytest.raises(MMModelError) as info:
        adstock_from_dict(spec)
    assert info.value.code == Codes.INVALID_PARAMETER
    assert "geometric" in (info.value.hint or "")


@pytest.mark.parametrize("spec", [{"type": "logistic"}, {}, {"type": "geometric"}])
def test_saturation_from_dict_rejects_unknown_types(spec: dict) -> None:
    with pytest.raises(MMModelError) as info:
        saturation_from_dict(spec)
    assert info.value.code == Codes.INVALID_PARAMETER
    assert "hill" in (info.value.hint or "")
