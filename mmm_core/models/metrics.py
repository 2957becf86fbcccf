"""Fit metrics in the reference's format (MAPE in percent)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def performance_metrics(actual: ArrayLike, predicted: ArrayLike) -> dict[str, float]:
    """``r2_score``, ``mape`` (percent, over non-zero actuals), ``rmse``, means.

    Examples
    --------
    >>> performance_metrics([100.0, 200.0], [110.0, 190.0])["mape"]
    7.5
    """
    y = np.asarray(actual, dtype=float)
    p = np.asarray(predicted, dtype=float)
    resid = y - p
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    nonzero = y != 0
    mape = (
        float(np.mean(np.abs(resid[nonzero] / y[nonzero])) * 100) if nonzero.any() else float("nan")
    )
    return {
        "r2_score": 1.0 - float(np.sum(resid**2)) / ss_tot if ss_tot > 0 else float("nan"),
        "mape": mape,
        "rmse": float(np.sqrt(np.mean(resid**2))),
        "mean_actual": float(y.mean()),
        "mean_predicted": float(p.mean()),
    }


def variance_inflation(X: ArrayLike) -> np.ndarray:
    """Variance inflation factor of each column: ``diag(inv(corr(X)))``.

    Columns without variance get ``inf``. A VIF above 10 means the column is nearly a linear
    combination of the others, so its coefficient is poorly determined by the data.
    """
    X = np.asarray(X, dtype=float)
    sd = X.std(axis=0)
    out = np.full(X.shape[1], np.inf)
    ok = sd > 0
    if ok.sum() == 0:
        return out
    if ok.sum() == 1:
        out[ok] = 1.0
        return out
    corr = np.corrcoef(X[:, ok], rowvar=False)
    out[ok] = np.diag(np.linalg.pinv(corr))
    return out
