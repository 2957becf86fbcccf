"""Reading tables (CSV, parquet) from local paths and ``s3://`` URIs, and unpacking archives.

Only pandas is needed for local files; parquet needs ``pyarrow`` (the ``sources`` extra) and
``s3://`` needs ``boto3`` (the ``aws`` extra): the object is downloaded to a temporary file and
read like a local one. A missing package, a missing file or a file that
does not parse raises :class:`~mmm_core.errors.DataIntegrationError` (``MMM_100``) saying what to
install or check; nothing here touches the network except reading an ``s3://`` URI.

Examples
--------
>>> import pandas as pd, tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> pd.DataFrame({"date": ["2024-01-01"], "tv_spend": [1.0]}).to_csv(folder / "a.csv", index=False)
>>> read_table(folder / "a.csv").columns.tolist()
['date', 'tv_spend']
>>> [p.name for p in find_data_files(folder)]
['a.csv']
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from importlib.util import find_spec
from pathlib import Path

import pandas as pd

from mmm_core.errors import Codes, DataIntegrationError

__all__ = ["DATA_SUFFIXES", "extract_archives", "find_data_files", "is_s3_uri", "read_table"]

#: File endings read by :func:`read_table` (compressed CSV included).
DATA_SUFFIXES: tuple[str, ...] = (
    ".csv",
    ".csv.gz",
    ".csv.zip",
    ".csv.bz2",
    ".tsv",
    ".parquet",
    ".pq",
)
_PARQUET = (".parquet", ".pq")


def is_s3_uri(path_or_uri: str | os.PathLike[str]) -> bool:
    """Whether ``path_or_uri`` is an ``s3://`` (or ``s3a://``) URI."""
    return str(path_or_uri).lower().startswith(("s3://", "s3a://"))


def _suffix(name: str) -> str | None:
    lowered = name.lower()
    longest_first = sorted(DATA_SUFFIXES, key=len, reverse=True)
    return next((s for s in longest_first if lowered.endswith(s)), None)


def _need(package: str, extra: str, why: str) -> None:
    if find_spec(package) is None:
        raise DataIntegrationError(
            Codes.DATA_ERROR,
            f"{why} needs the {package!r} package, which is not installed.",
            hint=f"install the {extra!r} extra: pip install 'mmm-platform[{extra}]' (or "
            f"pip install {package}), or download the file and pass a local path.",
            details={"reason": "package_not_installed", "package": package, "extra": extra},
        )


def _read_csv(source: str, sep: str) -> pd.DataFrame:
    """CSV with a header row; UTF-8 (with or without BOM), else Latin-1.

    A file whose header holds ``;`` but no ``,`` is re-read as a European CSV (``;`` between
    fields, ``,`` as the decimal mark).
    """
    decimal = "," if sep == ";" else "."
    try:
        frame = pd.read_csv(source, sep=sep, decimal=decimal, encoding="utf-8-sig")
    except UnicodeDecodeError:
        frame = pd.read_csv(source, sep=sep, decimal=decimal, encoding="latin-1")
    if sep == "," and frame.shape[1] == 1 and ";" in str(frame.columns[0]):
        return _read_csv(source, ";")  # European CSV
    return frame


def read_table(path_or_uri: str | os.PathLike[str]) -> pd.DataFrame:
    """Read one CSV or parquet file from a local path or an ``s3://`` URI.

    Parameters
    ----------
    path_or_uri : str or path-like
        ``*.csv``, ``*.csv.gz``, ``*.tsv``, ``*.parquet`` / ``*.pq``, local or on S3.

    Returns
    -------
    pandas.DataFrame
        The table as read (no renaming, no type changes beyond pandas' own parsing).

    Raises
    ------
    DataIntegrationError
        ``MMM_100`` when the file is missing, of an unknown type, unreadable, or needs a
        package that is not installed (``details["reason"]`` says which).
    """
    source = os.fspath(path_or_uri)
    remote = is_s3_uri(source)
    if "://" in source and not remote:
        raise DataIntegrationError(
            Codes.DATA_ERROR,
            f"cannot read {source!r}: only local paths and s3:// URIs are supported.",
            hint="download the file and pass its local path, or copy it to S3.",
            details={"reason": "unsupported_uri", "uri": source},
        )
    suffix = _suffix(source)
    if suffix is None:
        raise DataIntegrationError(
            Codes.DATA_ERROR,
            f"cannot read {source!r}: unknown file type (expected one of "
            f"{', '.join(DATA_SUFFIXES)}).",
            hint="save the data as CSV or parquet (from Excel: File > Save As > CSV).",
            details={"reason": "unknown_file_type", "path": source},
        )
    if remote:
        _need("boto3", "aws", f"reading {source}")
        with tempfile.TemporaryDirectory(prefix="mmm-s3-") as folder:
            local = _download_s3(source, Path(folder) / Path(source).name)
            return read_table(local)
    if not Path(source).is_file():
        raise DataIntegrationError(
            Codes.DATA_ERROR,
            f"no such file: {source!r}.",
            hint="check the path (relative paths start from the current directory "
            f"{os.getcwd()!r}).",
            details={"reason": "file_not_found", "path": source},
        )
    if suffix in _PARQUET:
        _need("pyarrow", "sources", "reading parquet")
    try:
        if suffix in _PARQUET:
            return pd.read_parquet(source)
        return _read_csv(source, "\t" if suffix == ".tsv" else ",")
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DataIntegrationError(
            Codes.DATA_ERROR,
            f"cannot read {source!r}: {type(exc).__name__}: {str(exc)[:300]}",
            hint="check that the file is a valid CSV (header row, one separator) or parquet "
            "file" + (", and that your AWS credentials can read it." if remote else "."),
            details={"reason": "unreadable", "path": source, "error": type(exc).__name__},
        ) from exc


def _download_s3(uri: str, destination: Path) -> Path:
    """Copy ``s3://bucket/key`` to ``destination`` with boto3 (credentials from the usual chain)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, _, key = uri[len("s3://") :].partition("/")
    try:
        boto3.client("s3").download_file(bucket, key, str(destination))
    except (BotoCoreError, ClientError) as exc:
        raise DataIntegrationError(
            Codes.SOURCE_UNAVAILABLE,
            f"cannot download {uri!r}: {exc}",
            hint="check the bucket and key, and that your AWS credentials (AWS_PROFILE or "
            "AWS_ACCESS_KEY_ID...) and AWS_REGION can read it.",
            details={"reason": "download_failed", "uri": uri},
        ) from exc
    return destination


def extract_archives(directory: Path) -> list[Path]:
    """Unpack every ``*.zip`` in ``directory`` into it and delete the archive.

    Members that would land outside ``directory`` (``../`` paths) are skipped.

    Returns
    -------
    list of Path
        The files extracted.
    """
    root = directory.resolve()
    extracted: list[Path] = []
    for archive in sorted(directory.glob("*.zip")):
        if archive.name.lower().endswith(".csv.zip"):
            continue  # pandas reads a zipped CSV directly
        try:
            with zipfile.ZipFile(archive) as bundle:
                for member in bundle.infolist():
                    target = (root / member.filename).resolve()
                    if member.is_dir() or not target.is_relative_to(root):
                        continue
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with bundle.open(member) as src, open(target, "wb") as dst:
                        dst.write(src.read())
                    extracted.append(target)
        except zipfile.BadZipFile as exc:
            raise DataIntegrationError(
                Codes.DATA_ERROR,
                f"{archive.name} is not a valid zip archive: {exc}",
                hint="delete the cached download and try again (refresh=True).",
                details={"reason": "bad_archive", "path": str(archive)},
            ) from exc
        archive.unlink()
    return extracted


def find_data_files(directory: Path) -> list[Path]:
    """CSV and parquet files under ``directory`` (recursively), largest first."""
    files = [
        p
        for p in directory.rglob("*")
        if p.is_file() and _suffix(p.name) is not None and not p.name.startswith(".")
    ]
    return sorted(files, key=lambda p: (-p.stat().st_size, str(p)))
