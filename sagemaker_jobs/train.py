"""The training container's entry point: ``python -m sagemaker_jobs.train``.

SageMaker's contract for a bring-your-own training image, and what this module does with it:

1. Hyperparameters come from ``/opt/ml/input/config/hyperparameters.json``, every value a
   string (see :data:`HYPERPARAMETERS`); keys SageMaker adds itself (``sagemaker_*``, ``_*``)
   are ignored; an unknown key close to a known one fails the job (a typo must not pass
   silently), any other (``market``, ``stage``...) is kept as a label in ``metrics.json``.
2. Data come from the ``training`` channel, ``/opt/ml/input/data/training`` (or the job's only
   channel, whatever its name): one or more CSV or parquet files (several files are shards of
   one table and are concatenated). By default the
   table is standardised like :meth:`mmm_core.MediaDataClient.load` does (``date``,
   ``<channel>_spend``, target synonyms to ``revenue``, daily rows summed to weeks); the names
   given in the hyperparameters may be the file's own.
3. The model goes to ``/opt/ml/model`` (SageMaker uploads it as ``model.tar.gz``):
   ``model.json`` (:meth:`EconometricMMM.save`, schema-versioned JSON, never pickle),
   ``results.json`` (what ``fit`` returned), ``metrics.json`` (for the quality gate) and
   ``data_info.json`` (files read, column mapping, warnings).
4. Metrics are also printed as ``name=value`` lines, which :data:`METRIC_DEFINITIONS` turn into
   the job's ``FinalMetricDataList``.
5. On any error the job writes one paragraph -- the error code, what is wrong and how to fix
   it, never a traceback -- to ``/opt/ml/output/failure`` (SageMaker's ``FailureReason``) and
   exits with status 1. Unexpected errors also print their traceback to the log.

Every folder can be moved with an ``SM_*`` environment variable (:mod:`sagemaker_jobs.paths`).

Examples
--------
Run against a folder laid out like ``/opt/ml``::

    SM_MODEL_DIR=/tmp/ml/model SM_CHANNEL_TRAINING=/tmp/ml/input/data/training \\
    SM_INPUT_CONFIG_DIR=/tmp/ml/input/config SM_OUTPUT_DIR=/tmp/ml/output \\
    python -m sagemaker_jobs.train
"""

from __future__ import annotations

import json
import math
import sys
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from mmm_core.data.loaders import find_data_files, read_table
from mmm_core.data.schema import standardise_frame
from mmm_core.errors import Codes, DataIntegrationError, MMModelError, suggest_name
from mmm_core.files import write_atomic
from mmm_core.models.econometric_mmm import EconometricMMM
from sagemaker_jobs.paths import SageMakerPaths

__all__ = [
    "HYPERPARAMETERS",
    "METRICS_SCHEMA_VERSION",
    "METRIC_DEFINITIONS",
    "QualityGate",
    "TrainingSpec",
    "encode_hyperparameters",
    "failure_reason",
    "load_training_data",
    "main",
    "train",
]

METRICS_SCHEMA_VERSION = 1
FAILURE_REASON_LIMIT = 1024  # SageMaker keeps this many characters of FailureReason
AUTO = "auto"

#: Hyperparameters that choose the data and the columns (value: what the string holds).
RUN_HYPERPARAMETERS: dict[str, str] = {
    "target_column": "KPI column (detected from revenue/sales/kpi... when omitted)",
    "spend_columns": "comma-separated spend columns, or a JSON list (detected when omitted)",
    "control_columns": "comma-separated control columns, or a JSON list (default none)",
    "date_column": "date column (detected when omitted; 'none' for undated rows)",
    "include_synergies": "true/false: pairwise synergies between channels (default false)",
    "calibration": "JSON list of measured lifts, e.g. "
    '[{"channel": "tv_spend", "start": "2023-03-06", "end": "2023-04-24", "lift": 412000}]',
    "standardise_columns": "true/false: map names and aggregate daily rows like "
    "MediaDataClient.load (default true)",
    "data_file": "read only this file of the channel (default: every CSV/parquet file)",
}

#: The quality gate: the job fails (no model.json) when a threshold given here is not met.
GATE_HYPERPARAMETERS: dict[str, str] = {
    "min_r2": "in-sample R^2 at least this (default: not checked)",
    "max_mape": "in-sample MAPE (percent) at most this (default: not checked)",
    "max_holdout_mape": "hold-out MAPE (percent) at most this (default: not checked; needs "
    "holdout_periods > 0)",
}

#: Printed metrics; ``METRIC_DEFINITIONS`` captures each from a ``name=value`` log line.
PRINTED_METRICS: tuple[str, ...] = (
    "r2",
    "mape",
    "rmse",
    "holdout_r2",
    "holdout_mape",
    "holdout_rmse",
    "rows",
    "channels",
    "fit_seconds",
)

#: For ``AlgorithmSpecification.MetricDefinitions``: ``mape`` does not match ``holdout_mape=``.
METRIC_DEFINITIONS: list[dict[str, str]] = [
    {"Name": name, "Regex": rf"(?:^|\s){name}=([-+0-9.eE]+)"} for name in PRINTED_METRICS
]

_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}
_NONE = {"", "none", "null"}


# ------------------------------------------------------------------------------------------
# Hyperparameters


def _invalid(key: str, value: Any, expected: str) -> MMModelError:
    return MMModelError(
        Codes.INVALID_PARAMETER,
        f"hyperparameter {key}={value!r} is not valid: expected {expected}.",
        hint=f"fix {key} in the training job's hyperparameters (SageMaker passes strings).",
        details={"hyperparameter": key, "value": str(value)[:200]},
    )


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else str(value)


def _bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _invalid(key, value, "true or false")


def _int(key: str, value: Any) -> int:
    if isinstance(value, bool):
        raise _invalid(key, value, "an integer")
    if isinstance(value, int):
        return value
    text = _text(value)
    try:
        number = float(text)
    except ValueError:
        raise _invalid(key, value, "an integer") from None
    if not number.is_integer():
        raise _invalid(key, value, "an integer")
    return int(number)


def _float(key: str, value: Any) -> float:
    if isinstance(value, bool):
        raise _invalid(key, value, "a number")
    try:
        number = float(_text(value))
    except ValueError:
        raise _invalid(key, value, "a number") from None
    if not math.isfinite(number):
        raise _invalid(key, value, "a finite number")
    return number


def _json(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise _invalid(key, value, f"valid JSON ({exc.msg} at character {exc.pos})") from None


def _auto_or(parse: Callable[[str, Any], Any]) -> Callable[[str, Any], Any]:
    def read(key: str, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() == AUTO:
            return AUTO
        return parse(key, value)

    return read


def _number_or_json(key: str, value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, str) and value.strip().startswith("{"):
        return _json(key, value.strip())
    return _float(key, value)


def _optional_int(key: str, value: Any) -> int | None:
    if value is None or (isinstance(value, str) and value.strip().lower() in _NONE):
        return None
    return _int(key, value)


def _columns(key: str, value: Any) -> list[str]:
    """``"a,b"`` or ``'["a", "b"]'`` (names with commas) or a list; empty/'none' is none."""
    if isinstance(value, list | tuple):
        items = [str(v) for v in value]
    else:
        text = _text(value)
        if text.lower() in _NONE:
            return []
        if text.startswith("["):
            parsed = _json(key, text)
            if not isinstance(parsed, list):
                raise _invalid(key, value, "a comma-separated list or a JSON list of names")
            items = [str(v) for v in parsed]
        else:
            items = text.split(",")
    names = [item.strip() for item in items if item.strip()]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise _invalid(key, value, f"distinct column names ({repeated} repeated)")
    return names


def _lower(key: str, value: Any) -> str:
    return _text(value).lower()


#: EconometricMMM's constructor arguments: how each string is read, and what it may hold.
_MODEL_SETTINGS: dict[str, tuple[Callable[[str, Any], Any], str]] = {
    "adstock_rate": (_auto_or(_number_or_json), "'auto', a number, or JSON (per-channel dict)"),
    "saturation_param": (_auto_or(_number_or_json), "'auto', a number, or JSON (per channel)"),
    "regularization_alpha": (_auto_or(_float), "'auto' or a number"),
    "include_baseline": (_bool, "true/false"),
    "max_iterations": (_optional_int, "integer or 'none'"),
    "adstock": (_lower, "'geometric' or 'weibull'"),
    "max_lag": (_int, "integer"),
    "n_fourier": (_int, "integer"),
    "n_candidates": (_int, "integer"),
    "n_sweeps": (_int, "integer"),
    "cv_folds": (_int, "integer"),
    "holdout_periods": (_auto_or(_int), "'auto' or integer (0 disables the hold-out)"),
    "blind_holdout": (_bool, "true/false"),
    "n_bootstrap": (_int, "integer"),
    "random_state": (_int, "integer"),
}
MODEL_HYPERPARAMETERS: dict[str, str] = {k: doc for k, (_, doc) in _MODEL_SETTINGS.items()}

#: Every hyperparameter the job reads, with what its string holds.
HYPERPARAMETERS: dict[str, str] = {
    **RUN_HYPERPARAMETERS,
    **MODEL_HYPERPARAMETERS,
    **GATE_HYPERPARAMETERS,
}


@dataclass(frozen=True)
class QualityGate:
    """Thresholds a fitted model must meet for the job to succeed (``None``: not checked)."""

    min_r2: float | None = None
    max_mape: float | None = None
    max_holdout_mape: float | None = None

    def evaluate(self, metrics: Mapping[str, Any]) -> dict[str, Any]:
        """``{"passed": bool, "checks": [{metric, rule, threshold, value, passed}]}``.

        A checked metric that is missing (no hold-out, MAPE of an all-zero target) fails.
        """
        rules = (
            ("r2", ">=", self.min_r2),
            ("mape", "<=", self.max_mape),
            ("holdout_mape", "<=", self.max_holdout_mape),
        )
        checks = []
        for metric, rule, threshold in rules:
            if threshold is None:
                continue
            value = metrics.get(metric)
            ok = value is not None and (value >= threshold if rule == ">=" else value <= threshold)
            checks.append(
                {
                    "metric": metric,
                    "rule": rule,
                    "threshold": threshold,
                    "value": value,
                    "passed": bool(ok),
                }
            )
        return {"passed": all(c["passed"] for c in checks), "checks": checks}


@dataclass(frozen=True)
class TrainingSpec:
    """What a training job does, read from its hyperparameters.

    Attributes
    ----------
    target_column, spend_columns, control_columns, date_column
        Columns as named in the data (``None``: detected; ``date_column=False``: undated).
    include_synergies : bool
    calibration : list of dict or None
    standardise_columns : bool
        Standardise the table like :meth:`MediaDataClient.load` (names, daily to weekly).
    data_file : str or None
        Read only this file of the channel.
    model_config : dict
        ``EconometricMMM`` constructor arguments.
    gate : QualityGate
    labels : dict of str
        Other hyperparameters (``market``, ``stage``...): not settings, recorded in
        ``metrics.json``. A key close to a known name is a typo and fails instead.
    """

    target_column: str | None = None
    spend_columns: list[str] | None = None
    control_columns: list[str] = field(default_factory=list)
    date_column: str | bool | None = None
    include_synergies: bool = False
    calibration: list[dict[str, Any]] | None = None
    standardise_columns: bool = True
    data_file: str | None = None
    model_config: dict[str, Any] = field(default_factory=dict)
    gate: QualityGate = field(default_factory=QualityGate)
    labels: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_hyperparameters(cls, raw: Mapping[str, Any]) -> TrainingSpec:
        """Parse SageMaker's string hyperparameters (native JSON values are accepted too).

        Raises
        ------
        MMModelError
            ``MMM_006`` for a value that does not parse, or an unknown key that looks like a
            misspelt known one.
        """
        if not isinstance(raw, Mapping):
            raise MMModelError(
                Codes.INVALID_PARAMETER,
                f"hyperparameters must be a JSON object, got {type(raw).__name__}.",
                hint='write {"target_column": "revenue", ...} to hyperparameters.json.',
            )
        values: dict[str, Any] = {}
        labels: dict[str, str] = {}
        for key, value in raw.items():
            if key.startswith(("sagemaker_", "_")):
                continue  # added by SageMaker itself (SDK, tuning jobs)
            if key in HYPERPARAMETERS:
                values[key] = value
                continue
            close = suggest_name(key, HYPERPARAMETERS)
            if close is not None:  # a typo must not pass silently
                raise MMModelError(
                    Codes.INVALID_PARAMETER,
                    f"unknown hyperparameter {key!r}.",
                    hint=f"did you mean {close!r}? Known: {', '.join(sorted(HYPERPARAMETERS))}.",
                    details={"hyperparameter": key, "suggestion": close},
                )
            labels[key] = _text(value)

        def text_or_none(key: str) -> str | None:
            if key not in values or values[key] is None:
                return None
            text = _text(values[key])
            return None if text.lower() in _NONE else text

        date_column: str | bool | None = None
        if values.get("date_column") not in (None, ""):
            text = _text(values["date_column"])
            # "none"/"false": the rows are undated, consecutive periods in file order.
            date_column = False if text.lower() in _NONE | _FALSE else text
        calibration = None
        if values.get("calibration") not in (None, ""):
            calibration = _json("calibration", values["calibration"])
            if not isinstance(calibration, list) or not all(
                isinstance(item, dict) for item in calibration
            ):
                raise _invalid("calibration", values["calibration"], "a JSON list of objects")
        spend = values.get("spend_columns")
        model_config = {
            key: parse(key, values[key])
            for key, (parse, _) in _MODEL_SETTINGS.items()
            if key in values
        }
        gate = QualityGate(
            **{
                key: None if text_or_none(key) is None else _float(key, values[key])
                for key in GATE_HYPERPARAMETERS
            }
        )
        return cls(
            target_column=text_or_none("target_column"),
            spend_columns=None if spend is None else (_columns("spend_columns", spend) or None),
            control_columns=_columns("control_columns", values.get("control_columns", "")),
            date_column=date_column,
            include_synergies=_bool("include_synergies", values.get("include_synergies", False)),
            calibration=calibration,
            standardise_columns=_bool(
                "standardise_columns", values.get("standardise_columns", True)
            ),
            data_file=text_or_none("data_file"),
            model_config=model_config,
            gate=gate,
            labels=labels,
        )


def encode_hyperparameters(values: Mapping[str, Any]) -> dict[str, str]:
    """Python values as the strings SageMaker passes, checked by :class:`TrainingSpec`.

    Lists of names become ``"a,b"`` (a JSON list when a name holds a comma), dicts and the
    calibration list become JSON, booleans ``"true"``/``"false"``; ``None`` values are left out.

    Raises
    ------
    MMModelError
        ``MMM_006`` when the result would not parse in the training job.

    Examples
    --------
    >>> encode_hyperparameters({"spend_columns": ["tv_spend", "search_spend"], "n_bootstrap": 50})
    {'spend_columns': 'tv_spend,search_spend', 'n_bootstrap': '50'}
    """
    encoded: dict[str, str] = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, Mapping) or key == "calibration":
            text = json.dumps(value, sort_keys=True, allow_nan=False)
        elif isinstance(value, list | tuple):
            names = [str(v) for v in value]
            text = json.dumps(names) if any("," in n for n in names) else ",".join(names)
        elif isinstance(value, float):
            text = repr(value)
        else:
            text = str(value)
        encoded[str(key)] = text
    TrainingSpec.from_hyperparameters(encoded)
    return encoded


def read_hyperparameters(path: Path) -> dict[str, Any]:
    """``hyperparameters.json`` as a dict; a missing file means no hyperparameters."""
    if not path.is_file():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MMModelError(
            Codes.INVALID_PARAMETER,
            f"{path} is not valid JSON ({exc}).",
            hint="SageMaker writes this file from the job's HyperParameters; check them.",
        ) from exc
    if not isinstance(doc, dict):
        raise MMModelError(
            Codes.INVALID_PARAMETER,
            f"{path} holds a {type(doc).__name__}, not a JSON object.",
            hint='write {"target_column": "revenue", ...}.',
        )
    return doc


# ------------------------------------------------------------------------------------------
# Data


@dataclass(frozen=True)
class TrainingData:
    """The table to fit and the column arguments of :meth:`EconometricMMM.fit`."""

    frame: pd.DataFrame
    fit_arguments: dict[str, Any]
    info: dict[str, Any]


def resolve_channel(channel: Path) -> Path:
    """``channel``, or the job's only input channel when it has one under another name."""
    if channel.is_dir():
        return channel
    parent = channel.parent
    others = sorted(p for p in parent.iterdir() if p.is_dir()) if parent.is_dir() else []
    if len(others) == 1:
        _log(f"no {channel.name!r} channel; reading the only channel, {others[0].name!r}")
        return others[0]
    raise DataIntegrationError(
        Codes.EMPTY_DATA,
        f"the training channel {str(channel)!r} does not exist"
        + (f" (channels: {[p.name for p in others]})." if others else "."),
        hint="give the job an input channel named 'training' (InputDataConfig) holding a "
        "CSV or parquet file, or point SM_CHANNEL_TRAINING at the data folder.",
        details={"channel": str(channel), "channels": [p.name for p in others]},
    )


def _channel_files(channel: Path, data_file: str | None) -> list[Path]:
    files = sorted(find_data_files(channel), key=lambda p: p.relative_to(channel).as_posix())
    names = [p.relative_to(channel).as_posix() for p in files]
    if data_file is not None:
        chosen = [p for p, n in zip(files, names, strict=True) if data_file in (n, p.name)]
        if not chosen:
            raise DataIntegrationError(
                Codes.EMPTY_DATA,
                f"data_file {data_file!r} is not in the training channel; its data files are "
                f"{names}.",
                hint="set data_file to one of the names listed, or leave it out to read all.",
                details={"files": names},
            )
        return chosen[:1]
    if not files:
        present = sorted(p.relative_to(channel).as_posix() for p in channel.rglob("*"))
        raise DataIntegrationError(
            Codes.EMPTY_DATA,
            f"no CSV or parquet file in the training channel {str(channel)!r} "
            f"(found: {present[:20]}).",
            hint="upload the data as .csv or .parquet under the channel's S3 prefix.",
            details={"files": present[:50]},
        )
    return files


def load_training_data(channel: Path, spec: TrainingSpec) -> TrainingData:
    """Read the channel's files (shards of one table), standardise them, resolve the columns.

    Raises
    ------
    DataIntegrationError
        No data file, unreadable files, shards with different columns, or the schema errors
        of :func:`mmm_core.data.schema.standardise_frame`.
    """
    channel = resolve_channel(channel)
    files = _channel_files(channel, spec.data_file)
    names = [p.relative_to(channel).as_posix() for p in files]
    tables = [read_table(p) for p in files]
    header = list(tables[0].columns)
    for name, table in zip(names[1:], tables[1:], strict=True):
        if sorted(map(str, table.columns)) != sorted(map(str, header)):
            raise DataIntegrationError(
                Codes.DATA_ERROR,
                f"{name} has columns {list(table.columns)[:20]}, unlike {names[0]} "
                f"({header[:20]}); files in the channel are read as shards of one table.",
                hint="put one table in the channel, or set data_file to the file to read.",
                details={"files": names},
            )
    raw = tables[0] if len(tables) == 1 else pd.concat(tables, ignore_index=True)
    info: dict[str, Any] = {
        "schema_version": 1,
        "channel": channel.name,
        "files": names,
        "source_rows": len(raw),
        "standardised": spec.standardise_columns,
    }
    if not spec.standardise_columns:
        missing = [
            arg
            for arg, value in (
                ("target_column", spec.target_column),
                ("spend_columns", spec.spend_columns),
            )
            if not value
        ]
        if missing:
            raise MMModelError(
                Codes.INVALID_PARAMETER,
                f"with standardise_columns=false the job needs {' and '.join(missing)}.",
                hint="set them, or drop standardise_columns=false so they are detected.",
            )
        arguments = {
            "target_column": spec.target_column,
            "spend_columns": list(spec.spend_columns or []),
            "control_columns": list(spec.control_columns),
            "date_column": spec.date_column,
        }
        info.update(rows=len(raw), column_mapping={}, warnings=[])
        return TrainingData(raw, arguments, {**info, "fit_arguments": arguments})

    frame, report = standardise_frame(
        raw,
        target=spec.target_column,
        spend_columns=spec.spend_columns,
        date_column=spec.date_column,
    )
    controls = report.map_controls(spec.control_columns)
    arguments = {
        "target_column": report.target_column,
        "spend_columns": list(report.spend_columns),
        "control_columns": controls,
        "date_column": report.date_column if report.date_column is not None else False,
    }
    info.update(
        rows=len(frame),
        frequency=report.frequency,
        aggregated=report.aggregated,
        column_mapping=report.column_mapping,
        dropped_columns=report.dropped_columns,
        warnings=report.warnings,
        fit_arguments=arguments,
    )
    return TrainingData(frame, arguments, info)


# ------------------------------------------------------------------------------------------
# The job


def training_metrics(results: Mapping[str, Any], channels: Sequence[str]) -> dict[str, Any]:
    """``metrics.json`` from a fit's results: in-sample and hold-out scores, size, time."""
    performance = results["performance"]
    holdout = performance.get("holdout") or {}
    diagnostics = results["diagnostics"]
    return {
        "schema_version": METRICS_SCHEMA_VERSION,
        "r2": performance.get("r2_score"),
        "mape": performance.get("mape"),
        "rmse": performance.get("rmse"),
        "holdout_r2": holdout.get("r2_score"),
        "holdout_mape": holdout.get("mape"),
        "holdout_rmse": holdout.get("rmse"),
        "holdout_periods": int(holdout.get("periods", 0)),
        "rows": int(diagnostics["observations"]),
        "channels": len(channels),
        "spend_columns": list(channels),
        "fit_seconds": diagnostics.get("fit_seconds"),
    }


def _log(message: str) -> None:
    print(f"mmm-train: {message}", flush=True)


def _write_json(path: Path, doc: Any) -> None:
    write_atomic(path, json.dumps(doc, indent=2, allow_nan=False))


def train(paths: SageMakerPaths) -> dict[str, Any]:
    """Run the job once: hyperparameters and data in, model and metrics out.

    Returns
    -------
    dict
        The metrics written to ``metrics.json`` (with the gate's verdict under ``gate``).

    Raises
    ------
    MMModelError
        Bad hyperparameters (``MMM_006``), bad data (``MMM_1xx``), a failed fit, or a model
        below the quality gate (``MMM_007``; ``metrics.json`` is written, ``model.json`` not).
    """
    spec = TrainingSpec.from_hyperparameters(read_hyperparameters(paths.hyperparameters_file))
    if spec.labels:
        _log(f"hyperparameters kept as labels, not settings: {spec.labels}")
    data = load_training_data(paths.training_channel, spec)
    _log(
        f"read {data.info['rows']} rows from {len(data.info['files'])} file(s); "
        f"fitting {data.fit_arguments['target_column']} on {data.fit_arguments['spend_columns']}"
    )
    model = EconometricMMM(**spec.model_config)
    results = model.fit(
        data.frame,
        data.fit_arguments["target_column"],
        data.fit_arguments["spend_columns"],
        spec.include_synergies,
        control_columns=data.fit_arguments["control_columns"],
        date_column=data.fit_arguments["date_column"],
        calibration=spec.calibration,
    )
    metrics = training_metrics(results, model.spend_columns_)
    metrics["gate"] = spec.gate.evaluate(metrics)
    metrics["labels"] = spec.labels
    _write_json(paths.model_dir / "metrics.json", metrics)
    for name in PRINTED_METRICS:
        value = metrics.get(name)
        if isinstance(value, int | float) and math.isfinite(value):
            print(f"{name}={value:.10g}", flush=True)
    failed = [c for c in metrics["gate"]["checks"] if not c["passed"]]
    if failed:
        described = "; ".join(
            f"{c['metric']} is {c['value'] if c['value'] is not None else 'not available'}, "
            f"needs {c['rule']} {c['threshold']:g}"
            for c in failed
        )
        raise MMModelError(
            Codes.FIT_FAILED,
            f"the model failed the quality gate: {described}.",
            hint="look at metrics.json and the data's warnings; relax the gate only if the "
            "threshold was wrong (min_r2, max_mape, max_holdout_mape).",
            details={"gate": metrics["gate"]},
        )
    model.save(paths.model_dir / "model.json")
    _write_json(paths.model_dir / "results.json", results)
    _write_json(paths.model_dir / "data_info.json", data.info)
    _log(f"model written to {paths.model_dir / 'model.json'}")
    return metrics


def failure_reason(exc: BaseException) -> str:
    """One paragraph for ``/opt/ml/output/failure``: code, message and hint; no traceback."""
    if isinstance(exc, MMModelError):
        text = str(exc)
    else:
        text = (
            f"[{Codes.MODEL_ERROR}] training failed unexpectedly ({type(exc).__name__}: {exc}). "
            "How to fix: the job's log holds the traceback; report it with the data's shape "
            "and the hyperparameters."
        )
    paragraph = " ".join(text.split())
    if len(paragraph) > FAILURE_REASON_LIMIT:
        paragraph = paragraph[: FAILURE_REASON_LIMIT - 3] + "..."
    return paragraph


def main(environ: Mapping[str, str] | None = None) -> int:
    """Run the training job; 0 on success, 1 after writing the failure file.

    Parameters
    ----------
    environ : mapping, optional
        Where the ``SM_*`` path variables are read (default ``os.environ``).
    """
    paths = SageMakerPaths.from_env(environ)
    paths.failure_file.unlink(missing_ok=True)  # a local re-run must not show an old failure
    started = time.perf_counter()
    try:
        train(paths)
    except Exception as exc:  # every failure must reach the failure file
        if not isinstance(exc, MMModelError):
            traceback.print_exc(file=sys.stderr)
        reason = failure_reason(exc)
        print(f"mmm-train: FAILED {reason}", file=sys.stderr, flush=True)
        try:
            write_atomic(paths.failure_file, reason)
        except OSError as write_error:
            print(f"mmm-train: cannot write {paths.failure_file}: {write_error}", file=sys.stderr)
        return 1
    _log(f"done in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
