"""Plain JSON values from what the science produces (numpy scalars and arrays, NaN, tuples).

Every boundary of the platform is JSON (model files, results, API bodies, Step Functions
payloads); :func:`json_value` is the one conversion they share.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np


def json_value(value: Any) -> Any:
    """A copy of ``value`` that ``json.dumps(..., allow_nan=False)`` accepts.

    Mappings get string keys, tuples and arrays become lists, numpy scalars Python numbers,
    and NaN or infinite floats ``None`` (JSON has no such numbers). Other values pass as they are.

    Examples
    --------
    >>> json_value({"a": np.float64(1.5), "b": (np.int64(2), float("nan"))})
    {'a': 1.5, 'b': [2, None]}
    """
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [json_value(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
