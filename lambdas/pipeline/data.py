"""Reading a market's curated table the way the training job reads it.

Every CSV or parquet file at the URI (one file, or every one under a folder or an S3 prefix)
is a shard of one table; used by :mod:`~lambdas.pipeline.validate` and
:mod:`~lambdas.pipeline.evaluate`.
"""

from __future__ import annotations

import pandas as pd

from lambdas.pipeline.uris import local_path, split_s3
from mmm_core.data.loaders import DATA_SUFFIXES, find_data_files, read_table
from mmm_core.errors import Codes, DataIntegrationError
from mmm_core.store import S3Store

__all__ = ["data_files", "read_training_table"]


def _is_data_file(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return not base.startswith(".") and base.lower().endswith(DATA_SUFFIXES)


def data_files(uri: str) -> list[str]:
    """The CSV and parquet files at ``uri``: one file, or every one under a folder/prefix.

    Parameters
    ----------
    uri : str
        ``s3://bucket/key`` (a file or a prefix), ``file:///path`` or a local path (a file
        or a folder, searched recursively; hidden files are skipped).

    Returns
    -------
    list of str
        The files' URIs (S3) or paths (local), sorted.

    Raises
    ------
    DataIntegrationError
        ``MMM_110`` when there is none.
    MMModelError
        ``MMM_006`` when ``uri`` is neither S3 nor local.
    """
    if uri.startswith("s3://"):
        bucket, key = split_s3(uri)
        if _is_data_file(key):
            return [uri]
        prefix = key.rstrip("/")
        keys = S3Store(bucket).list(prefix)
        files = [f"s3://{bucket}/{k}" for k in keys if _is_data_file(k)]
    else:
        path = local_path(uri)
        files = (
            [str(p) for p in sorted(find_data_files(path), key=str)]
            if path.is_dir()
            else ([str(path)] if path.is_file() else [])
        )
    if not files:
        raise DataIntegrationError(
            Codes.EMPTY_DATA,
            f"no CSV or parquet file at {uri!r}.",
            hint="upload the market's table (curated/<market>/data.parquet or .csv) there, "
            "or give the task another 'dataset' / 'training_data_uri'.",
            details={"uri": uri},
        )
    return sorted(files)


def read_training_table(uri: str) -> tuple[pd.DataFrame, list[str]]:
    """The table at ``uri`` as the training job reads it: every file a shard of one table.

    Parameters
    ----------
    uri : str
        Where the table is, as for :func:`data_files`.

    Returns
    -------
    frame : DataFrame
        The files, concatenated (no renaming: standardise with ``standardise_frame``).
    files : list of str
        What was read.

    Raises
    ------
    DataIntegrationError
        No data file, an unreadable one, or shards whose columns differ.
    """
    files = data_files(uri)
    tables = [read_table(f) for f in files]
    header = sorted(map(str, tables[0].columns))
    for name, table in zip(files[1:], tables[1:], strict=True):
        if sorted(map(str, table.columns)) != header:
            raise DataIntegrationError(
                Codes.DATA_ERROR,
                f"{name} has columns {list(table.columns)[:20]}, unlike {files[0]}; the files "
                "under one prefix are read as shards of one table.",
                hint="keep one table per market prefix (curated/<market>/).",
                details={"files": files[:50]},
            )
    frame = tables[0] if len(tables) == 1 else pd.concat(tables, ignore_index=True)
    return frame, files
