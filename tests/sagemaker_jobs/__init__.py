"""Tests of the SageMaker adapters (``sagemaker_jobs``); small helpers shared by their modules."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from mmm_core import EconometricMMM

#: A searched fit in well under a second on 104 weeks x 3 channels.
SMALL_FIT: dict[str, Any] = {"n_bootstrap": 10, "n_candidates": 32, "n_sweeps": 1}


def fit_small_model(
    frame: pd.DataFrame, spend_columns: Sequence[str], control_columns: Sequence[str]
) -> EconometricMMM:
    """A quick ``EconometricMMM`` fit of ``revenue`` with controls."""
    model = EconometricMMM(**SMALL_FIT)
    model.fit(frame, "revenue", list(spend_columns), control_columns=list(control_columns))
    return model


def request_rows(frame: pd.DataFrame, rows: int = 12) -> pd.DataFrame:
    """The last ``rows`` periods without the target, dates as ISO strings (what a client sends)."""
    tail = frame.tail(rows).drop(columns="revenue").reset_index(drop=True)
    tail["date"] = pd.to_datetime(tail["date"]).dt.strftime("%Y-%m-%d")
    return tail
