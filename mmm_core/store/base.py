"""The artifact store: one interface over a local folder or an S3 prefix.

Everything the platform keeps (raw data, curated datasets, models, reports and the pointer to
the model in production) lives under one root, in this layout of ``/``-separated keys::

    raw/<name>                                     uploaded or generated data (raw/demo.csv)
    curated/<dataset>/data.parquet                 cleaned tables (put_dataset / get_dataset)
    models/<model_id>/model.json                   the fitted model (EconometricMMM.to_dict)
    models/<model_id>/results.json                 what fit returned
    models/<model_id>/optimization.json            a budget plan ('mmm demo', 'mmm optimize')
    models/<model_id>/metrics.json                 the model's card: created, channels, metrics
    models/<model_id>/status.json                  {state: queued|training|ready|failed, ...}
    models/production.json                         which model serves, and the ones before it
    reports/<model_id>/<file>                      report files

It is the layout of the ``mmm`` command line under ``MMM_HOME``, so the CLI, the API and the
retraining pipeline share one home. All the logic lives here, written once against five
primitives (``_put``, ``_get``, ``_exists``, ``_list``, ``_delete``) that
:class:`~mmm_core.store.local.LocalStore` and :class:`~mmm_core.store.s3.S3Store` implement.

Consistency
-----------
- Every write replaces a whole object: a temporary file then a rename locally, a single
  ``PutObject`` on S3. A reader sees the old object or the new one, never half of either.
- :meth:`ArtifactStore.save_model` writes ``model.json`` (and results, card) before
  ``status.json`` says ``ready``, so a reader never sees a ready model without its file.
- The production pointer is one JSON object rewritten whole, and only by
  :meth:`ArtifactStore.promote` (when the model is ready and its quality gate passed) or
  :meth:`ArtifactStore.rollback`. Both are compare-and-swap: the pointer is read with its
  version (a content hash locally, the ETag on S3) and rewritten only if nobody changed it in
  between (an exclusive lock locally, ``If-Match`` / ``If-None-Match`` on S3); a lost race is
  retried on the new pointer. Other keys follow "last writer wins"; two writers of the same
  model id should not run at once (a model id is made for one training run).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import secrets
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from mmm_core.errors import Codes, DataIntegrationError, DeploymentError, MMModelError
from mmm_core.json_values import json_value

if TYPE_CHECKING:
    import pandas as pd

    from mmm_core.models.econometric_mmm import EconometricMMM

__all__ = [
    "HISTORY_LIMIT",
    "MODEL_FILE",
    "PLAN_FILE",
    "PRODUCTION_KEY",
    "RESULTS_FILE",
    "STATES",
    "ArtifactNotFoundError",
    "ArtifactStore",
    "WriteConflictError",
    "check_id",
    "check_key",
    "new_model_id",
]

MODEL_FILE = "model.json"
RESULTS_FILE = "results.json"
PLAN_FILE = "optimization.json"
STATUS_FILE = "status.json"
CARD_FILE = "metrics.json"
PRODUCTION_KEY = "models/production.json"
#: How many earlier production models the pointer remembers.
HISTORY_LIMIT = 10
#: The states of a model, in the order a training run goes through them.
STATES = ("queued", "training", "ready", "failed")

JSON_TYPE = "application/json"
PARQUET_TYPE = "application/vnd.apache.parquet"
DATASET_FILE = "data.parquet"
POINTER_SCHEMA = "mmm_core.ProductionPointer"
CARD_SCHEMA = "mmm_core.ModelCard"

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_SEGMENT = re.compile(r"[A-Za-z0-9_=-][A-Za-z0-9._=-]*")
_MAX_SEGMENT = 255
_MODEL_ID_TIME = re.compile(r"mmm-(\d{8}-\d{6})-[0-9a-f]+")
_METRICS = ("r2_score", "mape", "rmse")
_CONTENT_TYPES = {
    ".json": JSON_TYPE,
    ".html": "text/html; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".parquet": PARQUET_TYPE,
}


class ArtifactNotFoundError(MMModelError):
    """No object at a key (``MMM_001`` with ``details["reason"] == "not_found"``)."""

    default_code = Codes.MODEL_ERROR


class WriteConflictError(Exception):
    """A conditional write lost: the object changed since it was read (internal, retried)."""


def _invalid(message: str, *, hint: str, details: dict[str, Any] | None = None) -> MMModelError:
    """``MMM_006``: an argument the store cannot take."""
    return MMModelError(Codes.INVALID_PARAMETER, message, hint=hint, details=details)


def _corrupt(message: str, *, hint: str, details: dict[str, Any] | None = None) -> MMModelError:
    """``MMM_004``: a stored object that cannot be read as what it should be."""
    return MMModelError(Codes.CORRUPT_MODEL_FILE, message, hint=hint, details=details)


# --------------------------------------------------------------------------------------------
# Keys, ids, times, JSON.
# --------------------------------------------------------------------------------------------


def check_key(key: str) -> str:
    """``key`` if it is a safe relative key (``raw/demo.csv``), else ``MMM_006``.

    Segments are letters, digits, ``.``, ``_``, ``-`` and ``=`` (for ``year=2024`` partitions);
    no empty, ``.`` or ``..`` segment, no leading ``.`` (kept for temporary and lock files), no
    absolute path, no backslash.

    Raises
    ------
    MMModelError
        ``MMM_006`` when the key is not safe.
    """
    segments = key.split("/") if isinstance(key, str) else []
    if not segments or not all(_SEGMENT.fullmatch(s) and len(s) <= _MAX_SEGMENT for s in segments):
        raise _invalid(
            f"{key!r} is not a valid storage key.",
            hint="use a relative path of '/'-separated names made of letters, digits, '.', "
            "'_', '-' and '=' (e.g. 'raw/demo.csv'), with no '..', no leading '/' or '.'.",
            details={"reason": "invalid_key", "key": str(key)},
        )
    return key


def check_id(value: str, what: str = "model id") -> str:
    """``value`` if it is a valid id (``[A-Za-z0-9][A-Za-z0-9._-]*``), else ``MMM_006``."""
    if (
        not isinstance(value, str)
        or not _ID.fullmatch(value)
        or ".." in value
        or len(value) > _MAX_SEGMENT
    ):
        raise _invalid(
            f"{value!r} is not a valid {what}.",
            hint=f"a {what} is made of letters, digits, '.', '_' and '-', starts with a letter "
            "or digit and holds no '..' (e.g. 'mmm-20240102-030405-a1b2c3').",
            details={"reason": "invalid_id", "what": what, "value": str(value)},
        )
    return value


def new_model_id(now: datetime | None = None) -> str:
    """A new model id ``mmm-YYYYmmdd-HHMMSS-<6 hex>`` (UTC time, random suffix).

    Examples
    --------
    >>> new_model_id(datetime(2024, 1, 2, 3, 4, 5))[:20]
    'mmm-20240102-030405-'
    """
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return f"mmm-{stamp}-{secrets.token_hex(3)}"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _id_time(model_id: str) -> str | None:
    """The creation time written in an id made by :func:`new_model_id`, else ``None``."""
    match = _MODEL_ID_TIME.fullmatch(model_id)
    if not match:
        return None
    stamp = datetime.strptime(match.group(1), "%Y%m%d-%H%M%S")
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def _json_value(value: Any) -> Any:
    """``json.dumps`` fallback: numpy arrays and scalars become lists and numbers."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _encode_json(doc: Any, indent: int | None = 2) -> bytes:
    """UTF-8 JSON of ``doc``; non-finite numbers become ``null``."""
    try:
        text = json.dumps(doc, indent=indent, allow_nan=False, default=_json_value)
    except ValueError:  # NaN or infinity somewhere: pass through plain values and retry
        plain = json.loads(json.dumps(doc, default=_json_value))
        text = json.dumps(json_value(plain), indent=indent, allow_nan=False)
    except TypeError as exc:
        raise _invalid(
            f"cannot store the document as JSON ({exc}).",
            hint="store dicts, lists, strings, numbers, booleans and None only.",
            details={"reason": "not_json"},
        ) from exc
    return (text + "\n").encode("utf-8")


def _content_type(name: str) -> str:
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    return _CONTENT_TYPES.get(suffix, "application/octet-stream")


def _version(data: bytes) -> str:
    """The version tag of an object's content (used by stores without native versions)."""
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------------------------
# The store.
# --------------------------------------------------------------------------------------------


class ArtifactStore(ABC):
    """Keys to bytes, JSON, parquet datasets, models, reports and the production pointer.

    Subclasses implement the primitives; every public method is defined here once.

    Examples
    --------
    >>> import tempfile
    >>> from mmm_core.store import LocalStore
    >>> store = LocalStore(tempfile.mkdtemp())
    >>> store.put_json("models/m1/notes.json", {"ok": True})
    >>> store.get_json("models/m1/notes.json")
    {'ok': True}
    """

    # ---------------------------------------------------------------- primitives
    @abstractmethod
    def _put(
        self,
        key: str,
        data: bytes,
        content_type: str,
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
    ) -> None:
        """Write ``data`` at ``key`` whole and atomically.

        With ``if_match`` only when the object's current version (:meth:`_get_versioned`) is
        that one; with ``if_none_match`` only when there is no object yet. A failed condition
        raises :class:`WriteConflictError` and writes nothing.
        """

    @abstractmethod
    def _get(self, key: str) -> bytes:
        """The object at ``key``; :class:`ArtifactNotFoundError` (via :meth:`_missing`) if none."""

    @abstractmethod
    def _exists(self, key: str) -> bool:
        """Whether an object is at ``key``."""

    @abstractmethod
    def _list(self, prefix: str) -> list[str]:
        """Every key under ``prefix`` (``""`` or ending with ``/``), at any depth, sorted."""

    @abstractmethod
    def _delete(self, key: str) -> None:
        """Remove the object at ``key``; nothing happens when there is none."""

    @abstractmethod
    def _uri(self, key: str) -> str:
        """Where ``key`` lives (``file://...`` or ``s3://...``)."""

    def _get_versioned(self, key: str) -> tuple[bytes, str]:
        """The object at ``key`` and its version tag (for :meth:`_put`'s ``if_match``)."""
        data = self._get(key)
        return data, _version(data)

    def _write_parquet(self, key: str, frame: pd.DataFrame) -> None:
        """Write ``frame`` as one parquet object at ``key``."""
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        self._put(key, buffer.getvalue(), PARQUET_TYPE)

    def _read_parquet(self, keys: list[str]) -> pd.DataFrame:
        """The parquet objects at ``keys``, one after the other."""
        import pandas as pd

        frames = [pd.read_parquet(io.BytesIO(self._get(key))) for key in keys]
        return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)

    def _missing(self, key: str) -> ArtifactNotFoundError:
        """The error of a missing object."""
        return ArtifactNotFoundError(
            Codes.MODEL_ERROR,
            f"nothing is stored at {self._uri(key)!r}.",
            hint="check the name; list what is stored with store.list(prefix).",
            details={"reason": "not_found", "key": key},
        )

    # ---------------------------------------------------------------- keys and bytes
    def uri(self, key: str) -> str:
        """The ``file://`` or ``s3://`` URI of ``key``."""
        return self._uri(check_key(key))

    def put_bytes(self, key: str, data: bytes, content_type: str | None = None) -> str:
        """Store ``data`` at ``key`` (atomically) and return its URI."""
        if not isinstance(data, bytes | bytearray):
            raise _invalid(
                f"put_bytes needs bytes, got {type(data).__name__}.",
                hint="encode text first (text.encode('utf-8')), or use put_json for documents.",
            )
        check_key(key)
        self._put(key, bytes(data), content_type or _content_type(key))
        return self._uri(key)

    def get_bytes(self, key: str) -> bytes:
        """The bytes at ``key``.

        Raises
        ------
        ArtifactNotFoundError
            ``MMM_001`` (``details["reason"] == "not_found"``) when nothing is there.
        DeploymentError
            ``MMM_300`` when the storage cannot be read.
        """
        return self._get(check_key(key))

    def put_json(self, key: str, doc: Any, *, indent: int | None = 2) -> None:
        """Store ``doc`` as JSON at ``key`` (NaN and infinities become ``null``).

        ``indent=None`` writes it on one line (smaller, for big documents such as models).
        """
        self._put(check_key(key), _encode_json(doc, indent), JSON_TYPE)

    def get_json(self, key: str) -> Any:
        """The JSON document at ``key``.

        Raises
        ------
        ArtifactNotFoundError
            ``MMM_001`` when nothing is there.
        MMModelError
            ``MMM_004`` when the object is not valid UTF-8 JSON.
        """
        return self._decode_json(key, self._get(check_key(key)))

    def exists(self, key: str) -> bool:
        """Whether something is stored at ``key``."""
        return self._exists(check_key(key))

    def list(self, prefix: str = "") -> list[str]:
        """The keys under the folder ``prefix`` (``""`` for all), at any depth, sorted."""
        folder = prefix.strip("/")
        if not folder:
            return self._list("")
        return self._list(check_key(folder) + "/")

    def delete(self, key: str) -> None:
        """Remove the object at ``key`` (nothing happens when there is none)."""
        self._delete(check_key(key))

    def _decode_json(self, key: str, data: bytes) -> Any:
        try:
            return json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise _corrupt(
                f"{self._uri(key)!r} is not valid JSON ({exc}).",
                hint="the object is damaged: write it again (refit or re-save the model).",
                details={"reason": "corrupt_json", "key": key},
            ) from exc

    # ---------------------------------------------------------------- models
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
            changes through :meth:`promote`), or when the storage cannot be written.
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

    # ---------------------------------------------------------------- datasets
    @staticmethod
    def _dataset_folder(name: str) -> str:
        return f"curated/{check_id(name, 'dataset name')}/"

    def put_dataset(self, name: str, frame: pd.DataFrame) -> str:
        """Store ``frame`` as ``curated/<name>/data.parquet`` (index dropped); return its URI.

        Raises
        ------
        DataIntegrationError
            ``MMM_100`` when the frame cannot be written as parquet (non-string column names,
            mixed-type columns) or no parquet engine is installed.
        """
        key = self._dataset_folder(name) + DATASET_FILE
        try:
            self._write_parquet(key, frame.reset_index(drop=True))
        except ImportError as exc:
            raise _no_parquet("write", name, exc) from exc
        except (ValueError, TypeError) as exc:  # pyarrow's ArrowInvalid / ArrowTypeError
            raise DataIntegrationError(
                Codes.DATA_ERROR,
                f"cannot write dataset {name!r} as parquet ({type(exc).__name__}: {exc}).",
                hint="give string column names and one type per column.",
                details={"reason": "not_parquet", "dataset": name},
            ) from exc
        return self._uri(key)

    def get_dataset(self, name: str) -> pd.DataFrame:
        """The dataset ``name``: every ``.parquet`` object under ``curated/<name>/``.

        Raises
        ------
        ArtifactNotFoundError
            ``MMM_001`` when there is no such dataset.
        """
        folder = self._dataset_folder(name)
        keys = [k for k in self._list(folder) if k.endswith(".parquet")]
        if not keys:
            known = self.list_datasets()
            raise ArtifactNotFoundError(
                Codes.MODEL_ERROR,
                f"no dataset {name!r} in {self._uri('curated')!r}.",
                hint=f"stored datasets: {', '.join(known)}."
                if known
                else "store one first with store.put_dataset(name, frame).",
                details={"reason": "not_found", "dataset": name},
            )
        try:
            return self._read_parquet(keys)
        except ImportError as exc:
            raise _no_parquet("read", name, exc) from exc
        except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
            raise _corrupt(
                f"dataset {name!r} is not readable parquet ({type(exc).__name__}: {exc}).",
                hint="write it again with store.put_dataset(name, frame).",
                details={"reason": "corrupt_parquet", "dataset": name},
            ) from exc

    def list_datasets(self) -> list[str]:
        """The names of the stored datasets, sorted."""
        return sorted({k.split("/")[1] for k in self._list("curated/") if k.endswith(".parquet")})

    # ---------------------------------------------------------------- reports
    def put_report(self, model_id: str, files: Mapping[str, str | bytes]) -> dict[str, str]:
        """Store report files under ``reports/<model_id>/``; return ``{name: uri}``.

        Text is stored as UTF-8; the content type follows the file's ending.
        """
        folder = f"reports/{check_id(model_id)}/"
        out = {}
        for name, content in files.items():
            key = folder + check_id(name, "report file name")
            data = content.encode("utf-8") if isinstance(content, str) else content
            out[name] = self.put_bytes(key, data)
        return out

    # ---------------------------------------------------------------- production
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


def _no_parquet(action: str, name: str, exc: ImportError) -> DataIntegrationError:
    return DataIntegrationError(
        Codes.DATA_ERROR,
        f"cannot {action} dataset {name!r}: no parquet engine ({exc}).",
        hint="install pyarrow (the 'sources' extra).",
        details={"reason": "no_parquet_engine", "dataset": name},
    )


def _refused(model_id: str | None, reason: str, message: str, hint: str) -> DeploymentError:
    return DeploymentError(
        Codes.DEPLOYMENT_ERROR,
        message,
        hint=hint,
        details={"reason": reason, "model_id": model_id},
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
