"""The production pointer: which model serves, and the ones served before it.

``models/production.json`` (:data:`PRODUCTION_KEY`) is one JSON object rewritten whole, and
only by :meth:`ProductionMixin.promote` (when the model is ready and its quality gate passed)
or :meth:`ProductionMixin.rollback`. Both are compare-and-swap: the pointer is read with its
version (a content hash locally, the ETag on S3) and rewritten only if nobody changed it in
between (an exclusive lock locally, ``If-Match`` / ``If-None-Match`` on S3); a lost race is
retried on the new pointer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

from mmm_core.errors import Codes, DeploymentError
from mmm_core.store.errors import ArtifactNotFoundError, WriteConflictError, _corrupt, _invalid
from mmm_core.store.keys import JSON_TYPE, _encode_json, _now, check_id

__all__ = ["HISTORY_LIMIT", "PRODUCTION_KEY", "ProductionMixin"]

PRODUCTION_KEY = "models/production.json"
#: How many earlier production models the pointer remembers.
HISTORY_LIMIT = 10
POINTER_SCHEMA = "mmm_core.ProductionPointer"


class ProductionMixin:
    """The production pointer of an :class:`~mmm_core.store.base.ArtifactStore`.

    Part of ``ArtifactStore``, not usable alone: it reads and writes the pointer through the
    store's primitives (``_get_versioned``, ``_put``, ``_exists``, ``_uri``) and
    ``_decode_json``, and asks the models' ``get_status`` and ``model_key``
    (:class:`~mmm_core.store.models.ModelsMixin`) whether a model can serve.
    """

    def production(self) -> dict[str, Any] | None:
        """The production pointer ``{model_id, promoted_at, gate, previous, action}``, or
        ``None`` when no model was promoted yet. ``previous`` lists the ids served before,
        the most recent first (at most :data:`HISTORY_LIMIT`)."""
        return self._read_pointer()[0]

    def promote(self, model_id: str, gate: Mapping[str, Any]) -> dict[str, Any]:
        """Put ``model_id`` in production when its quality gate passed; return the new pointer.

        The pointer moves only if ``gate["passed"] is True`` and the model is stored and
        ``ready``; the model served before heads ``previous``. Promoting the model already in
        production changes nothing and returns the pointer as it is.

        Raises
        ------
        DeploymentError
            ``MMM_300`` with ``details["reason"]`` ``gate_failed``, ``not_found``,
            ``not_ready`` or ``conflict`` (the pointer kept changing under us); the pointer is
            left as it was.
        """
        check_id(model_id)
        if not isinstance(gate, Mapping):
            raise _invalid(
                f"the gate must be a dict with 'passed', got {type(gate).__name__}.",
                hint="pass the quality gate's verdict, e.g. {'passed': True, 'mape': 4.2}.",
            )
        if gate.get("passed") is not True:
            raise _refused(
                model_id,
                "gate_failed",
                f"model {model_id!r} did not pass its quality gate "
                f"(passed={gate.get('passed')!r}); production is unchanged.",
                "promote only a model whose gate says passed: true; the current model stays.",
            )
        self._check_promotable(model_id)

        def move(current: dict[str, Any] | None) -> dict[str, Any] | None:
            if current is not None and current["model_id"] == model_id:
                return None
            before = [current["model_id"], *current["previous"]] if current else []
            return {
                "model_id": model_id,
                "promoted_at": _now(),
                "gate": dict(gate),
                "previous": [m for m in before if m != model_id][:HISTORY_LIMIT],
                "action": "promote",
            }

        return self._swap_pointer(move)

    def rollback(self) -> dict[str, Any]:
        """Put the model served before back in production; return the new pointer.

        The model rolled back from leaves the history (a second rollback goes one further).

        Raises
        ------
        DeploymentError
            ``MMM_300`` with ``details["reason"]`` ``no_production``, ``no_previous``,
            ``not_found`` / ``not_ready`` (the earlier model is gone) or ``conflict``.
        """

        def back(current: dict[str, Any] | None) -> dict[str, Any]:
            if current is None:
                raise _refused(
                    None,
                    "no_production",
                    "there is no production model to roll back.",
                    "promote a model first with store.promote(model_id, gate).",
                )
            if not current["previous"]:
                raise _refused(
                    current["model_id"],
                    "no_previous",
                    f"no model served before {current['model_id']!r} is remembered; "
                    "there is nothing to roll back to.",
                    "promote another model instead.",
                )
            target, *rest = current["previous"]
            self._check_promotable(target)
            return {
                "model_id": target,
                "promoted_at": _now(),
                "gate": {"passed": True, "rollback_from": current["model_id"]},
                "previous": rest,
                "action": "rollback",
            }

        return self._swap_pointer(back)

    def _check_promotable(self, model_id: str) -> None:
        try:
            state = self.get_status(model_id)["state"]
        except ArtifactNotFoundError:
            state = None
        if state not in (None, "ready"):
            raise _refused(
                model_id,
                "not_ready",
                f"model {model_id!r} is {state!r}, not 'ready'; production is unchanged.",
                "wait for its training to finish (status 'ready') before promoting it.",
            )
        if state is None or not self._exists(self.model_key(model_id)):
            raise _refused(
                model_id,
                "not_found",
                f"model {model_id!r} is not stored (no {self._uri(self.model_key(model_id))!r}); "
                "production is unchanged.",
                "save the model first with store.save_model(model_id, model.to_dict(), ...).",
            )

    def _read_pointer(self) -> tuple[dict[str, Any] | None, str | None]:
        try:
            data, version = self._get_versioned(PRODUCTION_KEY)
        except ArtifactNotFoundError:
            return None, None
        doc = self._decode_json(PRODUCTION_KEY, data)
        if not (
            isinstance(doc, dict)
            and isinstance(doc.get("model_id"), str)
            and isinstance(doc.get("previous", []), list)
        ):
            raise _corrupt(
                f"{self._uri(PRODUCTION_KEY)!r} is not a production pointer.",
                hint="restore it from the bucket's versions, or promote a model again after "
                "deleting it.",
                details={"reason": "corrupt_pointer", "key": PRODUCTION_KEY},
            )
        doc.setdefault("previous", [])
        return doc, version

    def _swap_pointer(
        self,
        change: Callable[[dict[str, Any] | None], dict[str, Any] | None],
        attempts: int = 5,
    ) -> dict[str, Any]:
        """Rewrite the pointer with ``change(current)`` if nobody moved it meanwhile; retry."""
        for _ in range(attempts):
            current, version = self._read_pointer()
            new = change(current)
            if new is None:  # nothing to change: ``change`` returns None only for a pointer
                return cast(dict[str, Any], current)
            doc = {"schema": POINTER_SCHEMA, "schema_version": 1, **new}
            try:
                self._put(
                    PRODUCTION_KEY,
                    _encode_json(doc),
                    JSON_TYPE,
                    if_match=version,
                    if_none_match=version is None,
                )
            except WriteConflictError:
                continue
            return doc
        raise _refused(
            None,
            "conflict",
            f"the production pointer kept changing during {attempts} attempts; it was not moved.",
            "another promotion or rollback is running: check store.production() and retry.",
        )


def _refused(model_id: str | None, reason: str, message: str, hint: str) -> DeploymentError:
    return DeploymentError(
        Codes.DEPLOYMENT_ERROR,
        message,
        hint=hint,
        details={"reason": reason, "model_id": model_id},
    )
