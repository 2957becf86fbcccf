"""Where the platform keeps data, models, reports and the production pointer.

One interface, :class:`ArtifactStore`, over a local folder (:class:`LocalStore`, the embedded
default under ``MMM_HOME``) or an S3 prefix (:class:`S3Store`), chosen by
:func:`store_from_env` from ``MMM_DATA_LAKE_URI``. The layout and the consistency rules are in
:mod:`mmm_core.store.base`.

Examples
--------
>>> import tempfile
>>> from mmm_core.store import open_store
>>> store = open_store(tempfile.mkdtemp())
>>> store.put_json("raw/notes.json", {"source": "demo"})
>>> store.list("raw")
['raw/notes.json']
"""

from mmm_core.store.base import (
    HISTORY_LIMIT,
    PRODUCTION_KEY,
    STATES,
    ArtifactNotFoundError,
    ArtifactStore,
    check_id,
    check_key,
    new_model_id,
)
from mmm_core.store.factory import DATA_LAKE_ENV, open_store, store_from_env
from mmm_core.store.local import LocalStore
from mmm_core.store.s3 import S3Store

__all__ = [
    "DATA_LAKE_ENV",
    "HISTORY_LIMIT",
    "PRODUCTION_KEY",
    "STATES",
    "ArtifactNotFoundError",
    "ArtifactStore",
    "LocalStore",
    "S3Store",
    "check_id",
    "check_key",
    "new_model_id",
    "open_store",
    "store_from_env",
]
