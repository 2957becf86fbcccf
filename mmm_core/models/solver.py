"""Ridge regression with sign constraints: exact for one fit, batched for the search.

The problem, for a design ``X`` (n × p), target ``y`` and per-column penalties ``λ_j >= 0``:

    minimise  ||y - X b||^2 + sum_j λ_j b_j^2   subject to  b_j >= 0 for j in the non-negative set

Media coefficients are non-negative (media cannot sell negative revenue); baseline terms are
free. ``λ_j = alpha * var(X_j)`` is scikit-learn's ``Ridge(alpha)`` on standardised columns, so
``alpha`` means the same as in scikit-learn and the reference's ``regularization_alpha``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import nnls

from mmm_core.errors import Codes, MMModelError

FloatArray = NDArray[np.float64]


def ridge_penalties(
    X: FloatArray, alpha: float, unpenalized: NDArray[np.bool_] | None = None
) -> FloatArray:
    """Per-column penalties ``alpha * var(X_j)``; zero for ``unpenalized`` columns (intercept)."""
    pen = alpha * X.var(axis=0)
    if unpenalized is not None:
        pen = np.where(unpenalized, 0.0, pen)
    return pen


def fit_constrained_ridge(
    X: FloatArray,
    y: FloatArray,
    penalties: FloatArray,
    nonneg: NDArray[np.bool_],
    max_iterations: int | None = None,
) -> FloatArray:
    """Exact solution of the sign-constrained ridge problem.

    Free columns are split into positive and negative parts (``b = u - v``, ``u, v >= 0``) and
    the penalty enters as ``sqrt(λ_j)`` rows, which turns the problem into one non-negative least
    squares solved by scipy's Lawson-Hanson active-set ``nnls``.

    Parameters
    ----------
    X : ndarray, shape (n, p)
    y : ndarray, shape (n,)
    penalties : ndarray, shape (p,)
        ``λ_j >= 0``.
    nonneg : ndarray of bool, shape (p,)
        Which coefficients are constrained to be ``>= 0``.
    max_iterations : int, optional
        Bound on the active-set iterations (default: scipy's, ``3 * p``).

    Returns
    -------
    ndarray, shape (p,)
    """
    p = X.shape[1]
    free = ~nonneg
    aug_X = np.vstack([X, np.diag(np.sqrt(np.maximum(penalties, 0.0)))])
    aug_y = np.concatenate([y, np.zeros(p)])
    A = np.hstack([aug_X, -aug_X[:, free]])
    try:
        sol, _ = nnls(A, aug_y, maxiter=max_iterations)
    except RuntimeError as exc:  # scipy raises when maxiter is reached
        raise MMModelError(
            Codes.FIT_FAILED,
            f"the constrained ridge solver did not converge within {max_iterations} iterations.",
            hint="raise max_iterations, or increase regularization_alpha.",
        ) from exc
    coef = sol[:p].copy()
    coef[free] -= sol[p:]
    return coef


def batched_ridge_solve(
    gram: FloatArray,
    rhs: FloatArray,
    nonneg: NDArray[np.bool_],
    max_rounds: int = 4,
) -> FloatArray:
    """Solve many small sign-constrained ridge problems at once from their normal equations.

    ``gram`` (R, p, p) already includes the penalties on its diagonal, ``rhs`` is (R, p).
    Coefficients that come out negative where ``nonneg`` are dropped from their problem
    (row and column zeroed, unit diagonal) and the problem is solved again, for up to
    ``max_rounds`` rounds; anything still negative is clipped to zero. This is the first half of
    an active-set method (it never re-admits a dropped column), accurate where a candidate's
    negative coefficients are few, and a fraction of the cost of an exact solve per candidate:
    the search uses it to rank candidates, the final model is fitted exactly.

    Returns
    -------
    ndarray, shape (R, p)
    """
    G = gram.copy()
    b = rhs.copy()
    active = np.ones(b.shape, dtype=bool)
    p = b.shape[1]
    eye = np.eye(p, dtype=bool)
    for _ in range(max_rounds):
        coef = np.linalg.solve(G, b[..., None])[..., 0]
        newly_off = active & nonneg[None, :] & (coef < 0)
        if not newly_off.any():
            return coef
        active &= ~newly_off
        off = ~active
        G[off[:, :, None] & ~eye[None]] = 0.0  # zero the row
        G[off[:, None, :] & ~eye[None]] = 0.0  # and the column
        G[off[:, :, None] & eye[None]] = 1.0  # unit diagonal
        b[off] = 0.0
    coef = np.linalg.solve(G, b[..., None])[..., 0]
    return np.where(nonneg[None, :], np.maximum(coef, 0.0), coef)
