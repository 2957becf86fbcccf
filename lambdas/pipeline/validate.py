"""Task ``validate``: check a market's table before paying for a training job.

The table is read the way the training job will read it (every CSV/parquet file under the
prefix, shards of one table), standardised like ``sagemaker_jobs/train.py`` does
(:func:`mmm_core.data.schema.standardise_frame`) and checked by the model's own validation
(:func:`mmm_core.models.validation.prepare_training_data`: columns, dates, numbers, negative
spend, too few rows...). Bad data raises, so the state machine's Catch records the error and the
market's production model stays; good data gives the training job its input and the
hyperparameters that pin the columns that were checked.

Input (the market's state; every key optional but one way to find the data)::

    {"market": "us", "run_id": "...", "stage": "prod",
     "training_data_uri": "s3://<curated>/curated/us/",   where the data is (CDK)
     "dataset": "us" | "s3://..." | "/path",               overrides it: a curated dataset
                                                            name, an s3:// URI or a local path
     "target_column": "revenue", "spend_columns": ["tv_spend", ...] | "tv_spend,search_spend",
     "control_columns": [...], "date_column": "date" | false,
     "hyperparameters": {"n_bootstrap": 200, ...}}           more training settings

Output (``$.validation``): see :func:`validate` and ``lambdas/pipeline/README.md``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from lambdas.pipeline.common import (
    PIPELINE_SCHEMA_VERSION,
    PipelineSettings,
    bad_input,
    market_of,
    task_handler,
)
from lambdas.pipeline.data import read_training_table
from mmm_core.data.schema import standardise_frame
from mmm_core.errors import Codes, MMModelError
from mmm_core.models.validation import prepare_training_data
from mmm_core.store import check_id

__all__ = ["COLUMN_HYPERPARAMETERS", "handler", "training_data_uri", "validate"]

#: Hyperparameters always present in the output (``""``: the job detects the column).
COLUMN_HYPERPARAMETERS = ("target_column", "spend_columns", "control_columns", "date_column")
_MAX_LISTED = 20
_DEFAULT_FOURIER = 2  # EconometricMMM's n_fourier


def training_data_uri(state: Mapping[str, Any], settings: PipelineSettings) -> str:
    """Where the market's table is: ``dataset``, else ``training_data_uri``, else the curated
    dataset named like the market.

    A ``dataset`` without ``://`` and without ``/`` is the name of a curated dataset
    (``curated/<name>/`` in the curated store); anything else is a URI or a local path.
    """
    dataset = state.get("dataset")
    if dataset is not None and not isinstance(dataset, str):
        raise bad_input("dataset", dataset, "a dataset name, an s3:// URI or a path")
    if dataset and "://" not in dataset and "/" not in dataset:
        name = check_id(dataset, "dataset name")
        return settings.curated_store().uri(f"curated/{name}") + "/"
    if dataset:
        return dataset
    uri = state.get("training_data_uri")
    if isinstance(uri, str) and uri:
        return uri
    market = market_of(state)
    if market is not None:
        return settings.curated_store().uri(f"curated/{market}") + "/"
    raise MMModelError(
        Codes.INVALID_PARAMETER,
        "the task input says nowhere to find the data.",
        hint="give 'training_data_uri' (s3://.../curated/<market>/), 'dataset' (a curated "
        "dataset name or a URI) or 'market'.",
    )


def _names(state: Mapping[str, Any], key: str) -> list[str] | None:
    """A list of column names from a JSON list or a comma-separated string (``None``: absent)."""
    value = state.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        items = value.split(",") if value.strip() else []
    elif isinstance(value, Sequence):
        items = list(value)
    else:
        raise bad_input(key, value, "a list of column names or a comma-separated string")
    if not all(isinstance(i, str) for i in items):
        raise bad_input(key, value, "column names (strings)")
    return [i.strip() for i in items if i.strip()]


def _date_column(state: Mapping[str, Any]) -> str | bool | None:
    """``None``: detect it; ``False``: undated rows; else the column's name."""
    value = state.get("date_column")
    if value is None or value is False:
        return value
    if isinstance(value, str):
        text = value.strip()
        return False if text.lower() in {"none", "false"} else (text or None)
    raise bad_input("date_column", value, "a column name, or false for undated rows")


def _as_text(value: Any) -> str:
    """A hyperparameter as SageMaker passes it: a string (JSON for lists and objects)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def _joined(names: Sequence[str]) -> str:
    """Names as the training job reads them: comma-separated, or JSON when a name has a comma."""
    if any("," in n for n in names):
        return json.dumps(list(names))
    return ",".join(names)


def _extra_hyperparameters(state: Mapping[str, Any]) -> dict[str, str]:
    extra = state.get("hyperparameters")
    if extra is None:
        return {}
    if not isinstance(extra, Mapping):
        raise bad_input("hyperparameters", extra, "an object of training settings")
    out = {}
    for key, value in extra.items():
        if key in COLUMN_HYPERPARAMETERS:
            raise bad_input(
                f"hyperparameters.{key}", value, f"{key!r} at the top level of the input"
            )
        out[str(key)] = _as_text(value)
    return out


def _min_rows(n_spend: int, n_controls: int, hyperparameters: Mapping[str, str]) -> int:
    """The row floor ``EconometricMMM.fit`` applies for these columns and settings."""
    try:
        fourier = int(float(hyperparameters.get("n_fourier", _DEFAULT_FOURIER)))
    except ValueError:
        value = hyperparameters["n_fourier"]
        raise bad_input("hyperparameters.n_fourier", value, "an integer") from None
    synergies = str(hyperparameters.get("include_synergies", "false")).lower() in {"true", "1"}
    pairs = n_spend * (n_spend - 1) // 2 if synergies else 0
    params = 2 + 2 * fourier + n_controls + n_spend + pairs
    return max(2 * params, params + 20)


def validate(state: Mapping[str, Any], settings: PipelineSettings | None = None) -> dict[str, Any]:
    """Check the market's table; return where it is and how to train on it.

    Returns
    -------
    dict
        ``schema_version``, ``market``, ``training_data_uri`` (the training job's input),
        ``files``, ``rows``, ``source_rows``, ``frequency``, ``start``, ``end``,
        ``target_column``, ``spend_columns``, ``control_columns``, ``date_column`` (as named
        in the data), ``warnings``, and ``hyperparameters``: strings for the training job,
        always with ``target_column``, ``spend_columns``, ``control_columns`` and
        ``date_column`` (``"none"``: undated rows), plus the input's ``hyperparameters``.

    Raises
    ------
    DataIntegrationError
        The data cannot train a model (code and fix in the message).
    MMModelError
        ``MMM_006`` for a malformed input.
    """
    settings = settings or PipelineSettings.from_env()
    market = market_of(state)
    uri = training_data_uri(state, settings)
    raw, files = read_training_table(uri)
    target = state.get("target_column", state.get("target"))
    if target is not None and not isinstance(target, str):
        raise bad_input("target_column", target, "a column name")
    controls = _names(state, "control_columns") or []
    extra = _extra_hyperparameters(state)

    frame, report = standardise_frame(
        raw,
        target=target or None,
        spend_columns=_names(state, "spend_columns") or None,
        date_column=_date_column(state),
    )
    mapped = report.map_controls(controls)
    prepare_training_data(
        frame,
        report.target_column,
        report.spend_columns,
        mapped,
        report.date_column if report.date_column is not None else False,
        min_rows=_min_rows(len(report.spend_columns), len(mapped), extra),
    )

    source = {out: src for src, out in report.column_mapping.items()}
    target_in = source.get(report.target_column, report.target_column)
    spend_in = [source.get(c, c) for c in report.spend_columns]
    date_in = report.source_date_column
    hyperparameters = {
        "target_column": target_in,
        "spend_columns": _joined(spend_in),
        "control_columns": _joined(controls),
        "date_column": date_in if date_in is not None else "none",
        **extra,
    }
    return {
        "schema_version": PIPELINE_SCHEMA_VERSION,
        "market": market,
        "training_data_uri": uri,
        "files": files[:_MAX_LISTED],
        "rows": report.rows,
        "source_rows": report.source_rows,
        "frequency": report.frequency,
        "start": report.start,
        "end": report.end,
        "target_column": target_in,
        "spend_columns": spend_in,
        "control_columns": controls,
        "date_column": date_in,
        "warnings": report.warnings[:_MAX_LISTED],
        "hyperparameters": hyperparameters,
    }


handler = task_handler("validate", validate)
