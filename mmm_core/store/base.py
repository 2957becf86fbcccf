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
retraining pipeline share one home. All the logic is written once, in :class:`ArtifactStore`,
against six primitives (``_put``, ``_get``, ``_exists``, ``_list``, ``_delete``, ``_uri``) that
:class:`~mmm_core.store.local.LocalStore` and :class:`~mmm_core.store.s3.S3Store` implement.
``ArtifactStore`` is put together from these modules (what they make public is importable
from here too):

- :mod:`mmm_core.store.base` (this one): the primitives, bytes and JSON, datasets, reports;
- :mod:`mmm_core.store.models`: models, their cards and status
  (:class:`~mmm_core.store.models.ModelsMixin`);
- :mod:`mmm_core.store.production`: the production pointer
  (:class:`~mmm_core.store.production.ProductionMixin`);
- :mod:`mmm_core.store.keys`: the key and id rules, model ids, JSON encoding, content types;
- :mod:`mmm_core.store.errors`: :class:`ArtifactNotFoundError` and the internal
  :class:`WriteConflictError`.

Consistency
-----------
- Every write replaces a whole object: a temporary file then a rename locally, a single
  ``PutObject`` on S3. A reader sees the old object or the new one, never half of either.
- :meth:`ArtifactStore.save_model` writes ``model.json`` (and results, card) before
  ``status.json`` says ``ready``, so a reader never sees a ready model without its file.
- The production pointer is one JSON object rewritten whole, and only by
  :meth:`ArtifactStore.promote` (when the model is ready and its quality gate passed) or
  :meth:`ArtifactStore.rollback`, each a compare-and-swap retried when it loses a race (how,
  locally and on S3, is in :mod:`mmm_core.store.production`). Other keys follow "last writer
  wins"; two writers of the same model id should not run at once (a model id is made for one
  training run).
"""

from __future__ import annotations

import io
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mmm_core.errors import Codes, DataIntegrationError
from mmm_core.store.errors import ArtifactNotFoundError, WriteConflictError, _corrupt, _invalid
from mmm_core.store.keys import (
    JSON_TYPE,
    PARQUET_TYPE,
    _content_type,
    _encode_json,
    _version,
    check_id,
    check_key,
    new_model_id,
)
from mmm_core.store.models import MODEL_FILE, PLAN_FILE, RESULTS_FILE, STATES, ModelsMixin
from mmm_core.store.production import HISTORY_LIMIT, PRODUCTION_KEY, ProductionMixin

if TYPE_CHECKING:
    import pandas as pd

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

DATASET_FILE = "data.parquet"


class ArtifactStore(ModelsMixin, ProductionMixin, ABC):
    """Keys to bytes, JSON, parquet datasets, models, reports and the production pointer.

    Subclasses implement the primitives; every public method is defined once, here or in
    :class:`~mmm_core.store.models.ModelsMixin` (models and status) and
    :class:`~mmm_core.store.production.ProductionMixin` (the production pointer).

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


def _no_parquet(action: str, name: str, exc: ImportError) -> DataIntegrationError:
    return DataIntegrationError(
        Codes.DATA_ERROR,
        f"cannot {action} dataset {name!r}: no parquet engine ({exc}).",
        hint="install pyarrow (the 'sources' extra).",
        details={"reason": "no_parquet_engine", "dataset": name},
    )
