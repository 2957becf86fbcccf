"""The model as a schema-versioned JSON document: writing, reading, validating.

Loading never runs code (no pickle): a document is checked field by field, and anything missing,
damaged or inconsistent raises ``MMM_004``; a newer schema raises ``MMM_005``.
"""

from __future__ import annotations

import json
import os
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from mmm_core.errors import Codes, MMModelError
from mmm_core.json_values import json_value
from mmm_core.models.design import BaselineSpec
from mmm_core.transforms import HillSaturation, adstock_from_dict

SCHEMA_NAME = "mmm_core.EconometricMMM"
SCHEMA_VERSION = 1
_HILL = HillSaturation()


def to_document(model: Any) -> dict[str, Any]:
    """The fitted model as a JSON-serialisable dict (schema-versioned)."""
    return json_value(
        {
            "schema": SCHEMA_NAME,
            "schema_version": SCHEMA_VERSION,
            "config": model.get_params(),
            "target_column": model.target_column_,
            "spend_columns": model.spend_columns_,
            "control_columns": model.control_columns_,
            "date_column": model.date_column_,
            "include_synergies": model.include_synergies_,
            "time": model.time_,
            "baseline": model.baseline_.to_dict(),
            "mean_spend": model.mean_spend_,
            "scaling": {"y_scale": model.y_scale_, "control_sd": model.control_sd_},
            "alpha": model.alpha_,
            "channels": [
                {
                    "adstock": {**a.to_dict(), "params": p},
                    "saturation": s,
                }
                for a, p, s in zip(
                    model.adstocks_, model.adstock_params_, model.saturation_params_, strict=True
                )
            ],
            "feature_names": model.feature_names_,
            "coef": model.coef_,
            "draws": model.draws_,
            "results": model.results_,
        }
    )


def from_document(cls: type, doc: dict[str, Any]) -> Any:
    """Rebuild a fitted model from :meth:`to_dict` output."""
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA_NAME:
        raise MMModelError(
            Codes.CORRUPT_MODEL_FILE,
            "this is not an EconometricMMM model document.",
            hint="load a model.json written by EconometricMMM.save().",
        )
    version = doc.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise MMModelError(
            Codes.CORRUPT_MODEL_FILE,
            f"the model document has no valid schema_version (found {version!r}).",
            hint="load a model.json written by EconometricMMM.save(), or refit the model.",
        )
    if version > SCHEMA_VERSION:
        raise MMModelError(
            Codes.NEWER_SCHEMA,
            f"the model file has schema version {version!r}; this library reads up to "
            f"{SCHEMA_VERSION}.",
            hint="upgrade mmm_core to the version that wrote the model.",
        )
    try:
        model = cls(**doc["config"])
        model.target_column_ = doc["target_column"]
        model.spend_columns_ = list(doc["spend_columns"])
        model.control_columns_ = list(doc["control_columns"])
        model.date_column_ = doc["date_column"]
        model.include_synergies_ = bool(doc["include_synergies"])
        m = len(model.spend_columns_)
        model.pairs_ = list(combinations(range(m), 2)) if model.include_synergies_ else []
        model.time_ = dict(doc["time"])
        model.baseline_ = BaselineSpec(**doc["baseline"])
        model.y_scale_ = float(doc["scaling"]["y_scale"])
        model.mean_spend_ = np.asarray(doc["mean_spend"], dtype=float)
        model.control_sd_ = np.asarray(doc["scaling"]["control_sd"], dtype=float)
        model.alpha_ = float(doc["alpha"])
        model.adstocks_ = [adstock_from_dict(c["adstock"]) for c in doc["channels"]]
        model.adstock_params_ = [
            {p: float(c["adstock"]["params"][p]) for p in a.param_names}
            for a, c in zip(model.adstocks_, doc["channels"], strict=True)
        ]
        model.saturation_params_ = [
            {p: float(c["saturation"][p]) for p in _HILL.param_names} for c in doc["channels"]
        ]
        for adstock, a_params, s_params in zip(
            model.adstocks_, model.adstock_params_, model.saturation_params_, strict=True
        ):
            adstock.check(a_params)
            _HILL.check(s_params)
        model.feature_names_ = list(doc["feature_names"])
        model.coef_ = np.asarray(doc["coef"], dtype=float)
        draws = doc.get("draws")
        model.draws_ = (
            {
                "coef": np.asarray(draws["coef"], dtype=float),
                "params": [
                    {k: np.asarray(v, dtype=float) for k, v in p.items()} for p in draws["params"]
                ],
            }
            if draws
            else None
        )
        model.results_ = doc["results"]
        model._check_settings()
    except (KeyError, TypeError, ValueError, AttributeError, MMModelError) as exc:
        detail = exc.message if isinstance(exc, MMModelError) else f"{type(exc).__name__}: {exc}"
        raise MMModelError(
            Codes.CORRUPT_MODEL_FILE,
            f"the model document is incomplete or damaged ({detail}).",
            hint="re-save the model with EconometricMMM.save(), or refit it.",
        ) from exc
    consistent = (
        len(model.adstocks_) == m
        and model.mean_spend_.shape == (m,)
        and model.control_sd_.shape == (len(model.control_columns_),)
        and model.feature_names_ == model._feature_names()
        and model.coef_.shape == (len(model.feature_names_),)
        and np.all(np.isfinite(model.coef_))
    )
    if not consistent:
        raise MMModelError(
            Codes.CORRUPT_MODEL_FILE,
            "the model document's coefficients do not match its columns.",
            hint="re-save the model with EconometricMMM.save(), or refit it.",
        )
    return model


def read_document(path: str | os.PathLike[str]) -> Any:
    """Read a model written by :meth:`save` (a file, or a directory holding ``model.json``)."""
    source = Path(path)
    if source.is_dir():
        source = source / "model.json"
    try:
        doc = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise MMModelError(
            Codes.CORRUPT_MODEL_FILE,
            f"no model file at {str(source)!r}.",
            hint="check the path; EconometricMMM.save() writes model.json.",
        ) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MMModelError(
            Codes.CORRUPT_MODEL_FILE,
            f"{str(source)!r} is not valid JSON ({exc}).",
            hint="the file is damaged: re-save or refit the model.",
        ) from exc
    return doc
