"""Models in the artifact store: their files, their card and their status.

A model lives under ``models/<model_id>/`` (the whole layout is in :mod:`mmm_core.store.base`):
``model.json`` (:data:`MODEL_FILE`), ``results.json`` (:data:`RESULTS_FILE`),
``optimization.json`` (:data:`PLAN_FILE`), ``metrics.json`` (the card
:meth:`ModelsMixin.list_models` reads) and ``status.json`` (one of :data:`STATES`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mmm_core.errors import Codes, DeploymentError
from mmm_core.json_values import json_value
from mmm_core.store.errors import ArtifactNotFoundError, _corrupt, _invalid
from mmm_core.store.keys import _id_time, _now, check_id, check_key, new_model_id

if TYPE_CHECKING:
    from mmm_core.models.econometric_mmm import EconometricMMM

__all__ = ["MODEL_FILE", "PLAN_FILE", "RESULTS_FILE", "STATES", "ModelsMixin"]

MODEL_FILE = "model.json"
RESULTS_FILE = "results.json"
PLAN_FILE = "optimization.json"
STATUS_FILE = "status.json"
CARD_FILE = "metrics.json"
#: The states of a model, in the order a training run goes through them.
STATES = ("queued", "training", "ready", "failed")
CARD_SCHEMA = "mmm_core.ModelCard"
_METRICS = ("r2_score", "mape", "rmse")


class ModelsMixin:
    """The models of an :class:`~mmm_core.store.base.ArtifactStore`: save, load, list, status.

    Part of ``ArtifactStore``, not usable alone: it reads and writes through the store's
    primitives (``_get``, ``_exists``, ``_list``, ``_uri``), its JSON methods and its
    production pointer (:class:`~mmm_core.store.production.ProductionMixin`).
    """

    @staticmethod
    def new_model_id() -> str:
        """A new model id ``mmm-YYYYmmdd-HHMMSS-<6 hex>`` (the CLI's format)."""
        return new_model_id()

    @staticmethod
    def model_key(model_id: str, name: str = MODEL_FILE) -> str:
        """The key of a model's file: ``models/<model_id>/<name>``."""
        return check_key(f"models/{check_id(model_id)}/{name}")

    def save_model(
        self,
        model_id: str,
        model_doc: Mapping[str, Any],
        results: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Store a fitted model and mark it ``ready``.

        Writes ``model.json`` (``model_doc``, e.g. ``EconometricMMM.to_dict()``), then
        ``results.json`` (when given), then ``metrics.json`` (the card :meth:`list_models`
        reads: created, channels, metrics, ``metadata``), and last ``status.json`` = ready.

        Returns
        -------
        dict
            The card written to ``metrics.json``.

        Raises
        ------
        DeploymentError
            ``MMM_300`` when ``model_id`` is the production model (a model in production only
            changes through :meth:`~mmm_core.store.production.ProductionMixin.promote`), or
            when the storage cannot be written.
        """
        key = self.model_key(model_id)
        if not isinstance(model_doc, Mapping):
            raise _invalid(
                f"model_doc must be a dict, got {type(model_doc).__name__}.",
                hint="pass model.to_dict().",
            )
        current = self.production()
        if current is not None and current["model_id"] == model_id:
            raise DeploymentError(
                Codes.DEPLOYMENT_ERROR,
                f"model {model_id!r} is in production; it cannot be overwritten.",
                hint="save the new fit under a new id (store.new_model_id()) and promote it.",
                details={"reason": "in_production", "model_id": model_id},
            )
        self.put_json(key, dict(model_doc), indent=None)  # as EconometricMMM.save writes it
        if results is not None:
            self.put_json(self.model_key(model_id, RESULTS_FILE), dict(results))
        card = {
            "schema": CARD_SCHEMA,
            "schema_version": 1,
            "model_id": model_id,
            "created": _now(),
            "channels": _channels(model_doc, results),
            "metrics": _metrics(results if results is not None else model_doc.get("results")),
            "metadata": dict(metadata or {}),
        }
        self.put_json(self.model_key(model_id, CARD_FILE), card)
        self.set_status(model_id, "ready")
        return card

    def load_model_doc(self, model_id: str) -> dict[str, Any]:
        """The stored ``model.json`` of ``model_id`` as a dict.

        Raises
        ------
        ArtifactNotFoundError
            ``MMM_001`` (``details["reason"] == "not_found"``) when there is no such model.
        MMModelError
            ``MMM_004`` when the file is not a JSON object.
        """
        key = self.model_key(model_id)
        try:
            data = self._get(key)
        except ArtifactNotFoundError:
            raise self._no_model(model_id) from None
        doc = self._decode_json(key, data)
        if not isinstance(doc, dict):
            raise _corrupt(
                f"{self._uri(key)!r} holds a JSON {type(doc).__name__}, not a model document.",
                hint="the file is damaged: re-save or refit the model.",
                details={"reason": "corrupt_json", "key": key},
            )
        return doc

    def load_model(self, model_id: str) -> EconometricMMM:
        """The stored model, rebuilt (``EconometricMMM.from_dict``); never runs stored code."""
        from mmm_core.models.econometric_mmm import EconometricMMM

        return EconometricMMM.from_dict(self.load_model_doc(model_id))

    def load_results(self, model_id: str) -> dict[str, Any]:
        """The fit results: ``results.json``, else the results inside ``model.json``."""
        key = self.model_key(model_id, RESULTS_FILE)
        if self._exists(key):
            doc = self.get_json(key)
        else:
            doc = self.load_model_doc(model_id).get("results")
        if not isinstance(doc, dict):
            raise _corrupt(
                f"model {model_id!r} carries no fit results.",
                hint="refit it and save it with its results.",
                details={"reason": "no_results", "model_id": model_id},
            )
        return doc

    def list_models(self) -> list[dict[str, Any]]:
        """One summary per stored model, newest id first.

        Each is ``{model_id, created, status, channels, metrics, production}``; ``status`` is
        the state (``ready`` for a model saved without a status, as the CLI does) and
        ``metrics`` holds ``r2_score``, ``mape``, ``rmse`` when known.
        """
        files: dict[str, set[str]] = {}
        for key in self._list("models/"):
            parts = key.split("/")
            if len(parts) == 3:
                files.setdefault(parts[1], set()).add(parts[2])
        pointer = self.production()
        serving = pointer["model_id"] if pointer else None
        out = []
        for model_id in sorted(files, reverse=True):
            names = files[model_id]
            if not names & {MODEL_FILE, STATUS_FILE}:
                continue
            out.append({**self._summary(model_id, names), "production": model_id == serving})
        return out

    def _summary(self, model_id: str, names: set[str]) -> dict[str, Any]:
        card: dict[str, Any] = {}
        if CARD_FILE in names:
            loaded = self.get_json(self.model_key(model_id, CARD_FILE))
            card = loaded if isinstance(loaded, dict) else {}
        elif MODEL_FILE in names:  # saved by the CLI: read the results (or the model)
            source = RESULTS_FILE if RESULTS_FILE in names else MODEL_FILE
            doc = self.get_json(self.model_key(model_id, source))
            doc = doc if isinstance(doc, dict) else {}
            results = doc if source == RESULTS_FILE else doc.get("results")
            card = {"channels": _channels(doc, results), "metrics": _metrics(results)}
        return {
            "model_id": model_id,
            "created": card.get("created") or _id_time(model_id),
            "status": self.get_status(model_id)["state"],
            "channels": card.get("channels", []),
            "metrics": card.get("metrics", {}),
        }

    def get_status(self, model_id: str) -> dict[str, Any]:
        """``{state, message, updated}`` of ``model_id``.

        A model with a ``model.json`` and no ``status.json`` (saved by the CLI or
        ``EconometricMMM.save``) is ``ready``.

        Raises
        ------
        ArtifactNotFoundError
            ``MMM_001`` when there is neither a status nor a model.
        """
        key = self.model_key(model_id, STATUS_FILE)
        try:
            status = self._decode_json(key, self._get(key))
        except ArtifactNotFoundError:
            if not self._exists(self.model_key(model_id)):
                raise self._no_model(model_id) from None
            return {"state": "ready", "message": "", "updated": None}
        if not isinstance(status, dict) or status.get("state") not in STATES:
            raise _corrupt(
                f"{self._uri(key)!r} is not a model status.",
                hint=f"set it again with store.set_status(model_id, one of {STATES}).",
                details={"reason": "corrupt_status", "key": key},
            )
        return status

    def set_status(
        self, model_id: str, state: str | Mapping[str, Any], message: str = ""
    ) -> dict[str, Any]:
        """Record the state of ``model_id`` (``queued``, ``training``, ``ready``, ``failed``).

        ``state`` may also be a dict ``{"state": ..., "message": ..., ...}``; its other keys
        (a training job name, an error code...) are kept. ``updated`` is set to now (UTC).

        Raises
        ------
        MMModelError
            ``MMM_006`` for an unknown state; ``MMM_001`` (not found) when the state is
            ``ready`` and the model has no ``model.json`` yet.
        """
        extra = dict(state) if isinstance(state, Mapping) else {"state": state}
        extra.setdefault("message", message)
        if extra.get("state") not in STATES:
            raise _invalid(
                f"{extra.get('state')!r} is not a model state.",
                hint=f"use one of {', '.join(STATES)}.",
                details={"reason": "invalid_state"},
            )
        key = self.model_key(model_id, STATUS_FILE)
        if extra["state"] == "ready" and not self._exists(self.model_key(model_id)):
            raise self._no_model(model_id)
        status = {**extra, "updated": _now()}
        self.put_json(key, status)
        return status

    def _model_ids(self) -> list[str]:
        return sorted(
            {k.split("/")[1] for k in self._list("models/") if k.endswith("/" + MODEL_FILE)},
            reverse=True,
        )

    def _no_model(self, model_id: str) -> ArtifactNotFoundError:
        ids = self._model_ids()
        where = self._uri("models")
        if ids:
            hint = f"use one of the stored ids ({', '.join(ids[:3])}{', ...' if ids[3:] else ''})."
        else:
            hint = "no model is stored here yet: fit one first ('mmm fit' or 'mmm demo')."
        return ArtifactNotFoundError(
            Codes.MODEL_ERROR,
            f"no model {model_id!r} in {where!r}.",
            hint=hint,
            details={"reason": "not_found", "model_id": model_id},
        )


def _channels(model_doc: Any, results: Any) -> list[str]:
    """The spend columns of a model document, else the channels of its results."""
    if isinstance(model_doc, Mapping) and isinstance(model_doc.get("spend_columns"), list):
        return [str(c) for c in model_doc["spend_columns"]]
    if isinstance(results, Mapping) and isinstance(results.get("channels"), Mapping):
        return [str(c) for c in results["channels"]]
    return []


def _metrics(results: Any) -> dict[str, Any]:
    """``r2_score``, ``mape``, ``rmse`` from the results' ``performance`` (and hold-out)."""
    if not isinstance(results, Mapping) or not isinstance(results.get("performance"), Mapping):
        return {}
    performance = results["performance"]
    out = {k: performance[k] for k in _METRICS if k in performance}
    holdout = performance.get("holdout")
    if isinstance(holdout, Mapping):
        out["holdout"] = {k: holdout[k] for k in _METRICS if k in holdout}
    return json_value(out)
