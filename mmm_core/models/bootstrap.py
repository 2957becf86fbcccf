"""Moving-block bootstrap over periods.

Weekly marketing data are autocorrelated (carry-over, campaigns, seasons), so resampling single
weeks would understate uncertainty. The moving-block bootstrap (Künsch, 1989) resamples blocks
of ``b`` consecutive periods, keeping the dependence inside each block; ``b ≈ 1.5 n^(1/3)``
(about 8 for three years of weeks) follows the usual ``n^(1/3)`` rate.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def block_length(n: int) -> int:
    """Default block length for ``n`` periods."""
    return int(max(2, min(n // 4, round(1.5 * n ** (1.0 / 3.0)))))


def block_bootstrap_indices(
    n: int, n_replicates: int, block: int, rng: np.random.Generator
) -> NDArray[np.int64]:
    """Row indices of ``n_replicates`` moving-block resamples, shape ``(n_replicates, n)``.

    Each replicate concatenates blocks ``[s, s + block)`` with starts drawn uniformly from
    ``0..n-block`` and is cut to ``n`` rows.
    """
    n_blocks = -(-n // block)
    starts = rng.integers(0, n - block + 1, size=(n_replicates, n_blocks))
    rows = (starts[:, :, None] + np.arange(block)[None, None, :]).reshape(n_replicates, -1)
    return rows[:, :n]
