"""MLflow tracking for the commands that fit: one run per fit when configured."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from mmm_core.errors import MMModelError
from mmm_core.tracking import log_fit, tracking_status


def track_fit(
    model: Any,
    results: Mapping[str, Any],
    model_path: Path,
    out: TextIO,
    artifacts: Mapping[str, str | os.PathLike[str]] | None = None,
) -> dict[str, Any] | None:
    """Log the fit when ``MLFLOW_TRACKING_URI`` is set, and say in one line what happened.

    A tracking failure is reported as a note: the fit and its files are already saved.
    """
    status = tracking_status()
    if not status["enabled"]:
        print(f"tracking: off ({status['reason']})", file=out)
        return None
    try:
        run = log_fit(model, results, run_name=model_path.parent.name, artifacts=artifacts)
    except MMModelError as exc:
        print(f"note: {exc.message} (the model is saved; only its tracking failed)", file=out)
        return None
    print(f"tracking: MLflow run {run['run_id']} at {run['uri']}", file=out)
    return run
