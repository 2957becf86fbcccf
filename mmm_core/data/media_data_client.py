"""Marketing data from the best source available: Kaggle, then Hugging Face, then synthetic.

:class:`MediaDataClient` is the reference's data integration class. Every source ends in the
same layout (``date``, ``<channel>_spend`` ..., other numeric columns, ``revenue``; see
:mod:`mmm_core.data.schema`) and every call leaves a JSON-serialisable description of what it
did in :attr:`MediaDataClient.last_info`::

    {
      "schema_version": 1,
      "source": "kaggle" | "huggingface" | "synthetic" | "file" | "s3",
      "dataset": "owner/name" | None,     "location": where the data were read,
      "files": [...],                     "attempts": [{"source", "status", "reason", ...}],
      "column_mapping": {input: output},  "schema": SchemaReport.to_dict(),
      "fit_arguments": {"target_column", "spend_columns", "control_columns", "date_column"},
      "truth": SyntheticTruth.to_dict()   (synthetic only),
      "notes": [...]
    }

An attempt's ``status`` is ``"used"``, ``"skipped"`` (not tried: ``reason`` is
``not_configured``, ``missing_credentials`` or ``package_not_installed``) or ``"failed"``
(tried: ``download_failed`` or ``unusable_data``, with the error's ``message`` and ``code``).

Configuration (environment)
---------------------------
``KAGGLE_USERNAME`` + ``KAGGLE_KEY`` (or ``~/.kaggle/kaggle.json``, or ``KAGGLE_API_TOKEN``)
    Kaggle credentials.
``HF_TOKEN``
    Hugging Face token; optional for public datasets.
``MMM_KAGGLE_DATASET``, ``MMM_HF_DATASET``
    The datasets :meth:`MediaDataClient.get_best_available_data` tries when the constructor
    gets :data:`DEFAULT`; unset means the source is not configured (and skipped).
``MMM_HOME``
    Downloads are cached under ``$MMM_HOME/raw`` (default ``./.mmm/raw``).

The ``kaggle`` and ``datasets`` packages (the ``sources`` extra) are imported only when a
download runs, so ``import mmm_core`` stays light; the one function that talks to Kaggle is
:func:`download_kaggle_dataset`.

Examples
--------
>>> client = MediaDataClient(kaggle_dataset=None, hf_dataset=None, cache_dir="/tmp/mmm-cache")
>>> frame, info, source = client.get_best_available_data()
>>> source, info["attempts"][0]["reason"]
('synthetic', 'not_configured')
>>> sorted(info["fit_arguments"])
['control_columns', 'date_column', 'spend_columns', 'target_column']
"""

from __future__ import annotations

import contextlib
import enum
import io
import os
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from mmm_core.data.loaders import (
    extract_archives,
    find_data_files,
    is_s3_uri,
    read_table,
)
from mmm_core.data.schema import SchemaReport, standardise_frame
from mmm_core.data.synthetic import generate_mmm_data
from mmm_core.errors import Codes, DataIntegrationError

__all__ = [
    "DEFAULT",
    "INFO_SCHEMA_VERSION",
    "DataInfo",
    "MediaDataClient",
    "Reason",
    "SourceAttempt",
    "download_kaggle_dataset",
    "kaggle_credentials",
]

INFO_SCHEMA_VERSION = 1
KAGGLE_DATASET_ENV = "MMM_KAGGLE_DATASET"
HF_DATASET_ENV = "MMM_HF_DATASET"

SourceType = Literal["kaggle", "huggingface", "synthetic"]


class _Default(enum.Enum):
    DEFAULT = "default"


DEFAULT = _Default.DEFAULT
"""Constructor default: read the dataset name from ``MMM_KAGGLE_DATASET`` / ``MMM_HF_DATASET``."""


class Reason:
    """Why a source was skipped or failed (``SourceAttempt.reason``)."""

    NOT_CONFIGURED = "not_configured"
    MISSING_CREDENTIALS = "missing_credentials"
    PACKAGE_NOT_INSTALLED = "package_not_installed"
    DOWNLOAD_FAILED = "download_failed"
    UNUSABLE_DATA = "unusable_data"


@dataclass
class SourceAttempt:
    """One source tried (or not) by :meth:`MediaDataClient.get_best_available_data`.

    Attributes
    ----------
    source : str
        ``"kaggle"``, ``"huggingface"`` or ``"synthetic"``.
    status : str
        ``"used"``, ``"skipped"`` (not tried) or ``"failed"`` (tried, no usable data).
    reason : str or None
        A :class:`Reason` value (``None`` when used).
    message : str
        What happened, with how to fix it.
    dataset : str or None
        The dataset asked for.
    code : str or None
        The error code when an error stopped the source.
    """

    source: str
    status: Literal["used", "skipped", "failed"]
    reason: str | None = None
    message: str = ""
    dataset: str | None = None
    code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python copy (JSON-serialisable)."""
        return asdict(self)


@dataclass
class DataInfo:
    """Where a data frame came from and what was done to it (see the module docstring)."""

    source: str
    dataset: str | None = None
    location: str | None = None
    files: list[str] = field(default_factory=list)
    attempts: list[SourceAttempt] = field(default_factory=list)
    schema: SchemaReport | None = None
    fit_arguments: dict[str, Any] = field(default_factory=dict)
    truth: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The ``info`` dict: plain Python, JSON-serialisable, schema-versioned."""
        out: dict[str, Any] = {
            "schema_version": INFO_SCHEMA_VERSION,
            "source": self.source,
            "dataset": self.dataset,
            "location": self.location,
            "files": list(self.files),
            "attempts": [a.to_dict() for a in self.attempts],
            "column_mapping": dict(self.schema.column_mapping) if self.schema else {},
            "schema": self.schema.to_dict() if self.schema else None,
            "fit_arguments": dict(self.fit_arguments),
            "notes": list(self.notes),
        }
        if self.truth is not None:
            out["truth"] = self.truth
        return out


def _unavailable(reason: str, message: str, hint: str, **details: Any) -> DataIntegrationError:
    return DataIntegrationError(
        Codes.SOURCE_UNAVAILABLE, message, hint=hint, details={"reason": reason, **details}
    )


# --------------------------------------------------------------------------------------------
# Kaggle


def _kaggle_config_dirs() -> list[Path]:
    """Folders the kaggle package reads ``kaggle.json`` / ``access_token`` from."""
    if os.environ.get("KAGGLE_CONFIG_DIR"):
        return [Path(os.environ["KAGGLE_CONFIG_DIR"])]
    home = Path.home()
    xdg = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    return [home / ".kaggle", xdg / "kaggle"]


def kaggle_credentials() -> str | None:
    """Where Kaggle credentials were found (for messages; never the secret), or ``None``.

    Checked in order: ``KAGGLE_USERNAME`` and ``KAGGLE_KEY``, ``KAGGLE_API_TOKEN``, then
    ``kaggle.json`` or ``access_token`` in ``KAGGLE_CONFIG_DIR`` (else ``~/.kaggle`` and
    ``~/.config/kaggle``).
    """
    if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
        return "environment variables KAGGLE_USERNAME and KAGGLE_KEY"
    if os.environ.get("KAGGLE_API_TOKEN"):
        return "environment variable KAGGLE_API_TOKEN"
    for folder in _kaggle_config_dirs():
        for name in ("kaggle.json", "access_token"):
            if (folder / name).is_file():
                return str(folder / name)
    return None


def _missing_kaggle_credentials() -> DataIntegrationError:
    half = [v for v in ("KAGGLE_USERNAME", "KAGGLE_KEY") if os.environ.get(v)]
    detail = f" ({half[0]} is set but not its pair)" if half else ""
    return _unavailable(
        Reason.MISSING_CREDENTIALS,
        f"no Kaggle credentials found{detail}.",
        "set KAGGLE_USERNAME and KAGGLE_KEY, or save the kaggle.json from kaggle.com > "
        "Settings > API > Create New Token to ~/.kaggle/kaggle.json.",
    )


def _missing_package(package: str, source: str) -> DataIntegrationError:
    return _unavailable(
        Reason.PACKAGE_NOT_INSTALLED,
        f"the {package!r} package is not installed, so {source} data cannot be downloaded.",
        "install the sources extra: pip install 'mmm-platform[sources]'.",
        package=package,
    )


_KAGGLE_URL = re.compile(r"^https?://(?:www\.)?kaggle\.com/datasets/", re.IGNORECASE)
_KAGGLE_REF = re.compile(r"^([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)(?:/(?:versions/)?(\d+))?/?$")


def _kaggle_ref(dataset_name: str) -> tuple[str, Path]:
    """Kaggle's ``owner/slug[/version]`` and the cache sub-folder for it."""
    match = _KAGGLE_REF.match(_KAGGLE_URL.sub("", str(dataset_name).strip()))
    if match is None:
        raise DataIntegrationError(
            Codes.DATA_ERROR,
            f"{dataset_name!r} is not a Kaggle dataset name.",
            hint="use 'owner/dataset-slug' as in https://www.kaggle.com/datasets/owner/"
            "dataset-slug (optionally '/<version>').",
            details={"reason": Reason.NOT_CONFIGURED, "dataset": str(dataset_name)},
        )
    owner, slug, version = match.groups()
    ref = f"{owner}/{slug}" + (f"/{version}" if version else "")
    folder = Path(owner) / (slug if version is None else f"{slug}@{version}")
    return ref, folder


def download_kaggle_dataset(dataset: str, destination: Path) -> None:
    """Download a Kaggle dataset's files (one zip archive) into ``destination``.

    The only function of the client that talks to Kaggle: it checks the package and the
    credentials, authenticates and calls ``KaggleApi.dataset_download_files`` (Kaggle's own
    prints are swallowed so they cannot mix with a command's output).

    Parameters
    ----------
    dataset : str
        ``owner/dataset-slug`` (optionally ``/version``).
    destination : Path
        An existing folder; the archive lands in it as ``<slug>.zip``.

    Raises
    ------
    DataIntegrationError
        ``MMM_113`` with ``details["reason"]`` ``package_not_installed``,
        ``missing_credentials`` or ``download_failed``.
    """
    if find_spec("kaggle") is None:
        raise _missing_package("kaggle", "Kaggle")
    if kaggle_credentials() is None:
        raise _missing_kaggle_credentials()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            # Importing kaggle authenticates once on its own; errors surface below.
            from kaggle.api.kaggle_api_extended import KaggleApi

            api = KaggleApi()
            api.authenticate()
            api.dataset_download_files(dataset, path=str(destination), quiet=True, unzip=False)
    except (Exception, SystemExit) as exc:  # kaggle exits on failed authentication
        raise _unavailable(
            Reason.DOWNLOAD_FAILED,
            f"downloading Kaggle dataset {dataset!r} failed: {type(exc).__name__}: "
            f"{str(exc)[:300]}",
            "check the dataset name on kaggle.com, that your credentials are valid and that "
            "you accepted the dataset's rules; or download it yourself and use load().",
            dataset=dataset,
            error=type(exc).__name__,
        ) from exc


# --------------------------------------------------------------------------------------------
# The client


_HF_BUILDERS = {
    "csv": "csv",
    "tsv": "csv",
    "parquet": "parquet",
    "pq": "parquet",
    "json": "json",
    "jsonl": "json",
}
"""``datasets`` builder for a local data file, by its extension."""


class MediaDataClient:
    """Multi-source marketing data with progressive enhancement (the reference's client).

    Parameters
    ----------
    kaggle_dataset : str, None or DEFAULT
        Kaggle dataset (``owner/slug``) tried first by :meth:`get_best_available_data`;
        ``DEFAULT`` reads ``MMM_KAGGLE_DATASET``; ``None`` never tries Kaggle.
    hf_dataset : str, None or DEFAULT
        Hugging Face dataset (hub name, local folder or data file) tried second; ``DEFAULT``
        reads ``MMM_HF_DATASET``; ``None`` never tries Hugging Face.
    cache_dir : str or Path, optional
        Where downloads are cached; default ``$MMM_HOME/raw`` (``./.mmm/raw``).

    Attributes
    ----------
    last_info : dict or None
        The ``info`` of the last call that returned data (see the module docstring).
    last_truth : SyntheticTruth or None
        The truth behind the last synthetic data (for
        :func:`~mmm_core.data.synthetic.truth_contributions`).

    Examples
    --------
    >>> client = MediaDataClient(kaggle_dataset=None, hf_dataset=None)
    >>> frame = client.get_synthetic_data(weeks=52, channels=2)
    >>> client.last_info["source"], frame.attrs["truth"]["spend_columns"]
    ('synthetic', ['tv_spend', 'search_spend'])
    """

    def __init__(
        self,
        kaggle_dataset: str | _Default | None = DEFAULT,
        hf_dataset: str | _Default | None = DEFAULT,
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self._kaggle_dataset = kaggle_dataset
        self._hf_dataset = hf_dataset
        self._cache_dir = cache_dir
        self.last_info: dict[str, Any] | None = None
        self.last_truth: Any = None

    # -- configuration -----------------------------------------------------------------------

    @property
    def kaggle_dataset(self) -> str | None:
        """Kaggle dataset tried first (``None``: not configured)."""
        if self._kaggle_dataset is DEFAULT:
            return os.environ.get(KAGGLE_DATASET_ENV) or None
        return self._kaggle_dataset or None  # type: ignore[return-value]

    @property
    def hf_dataset(self) -> str | None:
        """Hugging Face dataset tried second (``None``: not configured)."""
        if self._hf_dataset is DEFAULT:
            return os.environ.get(HF_DATASET_ENV) or None
        return self._hf_dataset or None  # type: ignore[return-value]

    @property
    def cache_dir(self) -> Path:
        """Folder of cached downloads (``kaggle/<owner>/<slug>/``, ``huggingface/``)."""
        if self._cache_dir is not None:
            return Path(self._cache_dir)
        return Path(os.environ.get("MMM_HOME") or ".mmm") / "raw"

    # -- best available ----------------------------------------------------------------------

    def get_best_available_data(
        self, *, weeks: int = 104, channels: int = 5, seed: int = 0
    ) -> tuple[pd.DataFrame, dict[str, Any], SourceType]:
        """Data from the first source that works: Kaggle, Hugging Face, then synthetic.

        A source is skipped when it is not configured, its package is missing or (Kaggle) no
        credentials are found and nothing is cached; it fails when its download fails or its
        data do not pass the schema check. Neither stops the call: synthetic data always work.

        Parameters
        ----------
        weeks, channels, seed : int
            Shape and seed of the synthetic fallback (:func:`generate_mmm_data`).

        Returns
        -------
        data_df : pandas.DataFrame
            Standardised data (``date``, ``<channel>_spend`` ..., ``revenue``).
        data_info : dict
            JSON-serialisable description; ``attempts`` lists every source with its status
            and reason.
        source_type : {"kaggle", "huggingface", "synthetic"}
        """
        attempts: list[SourceAttempt] = []
        sources: list[tuple[SourceType, str | None, Callable[[], SourceAttempt | None], Any]] = [
            ("kaggle", self.kaggle_dataset, self._kaggle_preflight, self._kaggle),
            ("huggingface", self.hf_dataset, self._huggingface_preflight, self._huggingface),
        ]
        for source, dataset, preflight, fetch in sources:
            skipped = preflight()
            if skipped is not None:
                attempts.append(skipped)
                continue
            try:
                frame, info = fetch(dataset)
            except DataIntegrationError as exc:
                reason = exc.details.get("reason", Reason.UNUSABLE_DATA)
                attempts.append(
                    SourceAttempt(source, "failed", reason, str(exc), dataset, exc.code)
                )
                continue
            except Exception as exc:  # a broken source must never stop the fallback
                attempts.append(
                    SourceAttempt(
                        source,
                        "failed",
                        Reason.DOWNLOAD_FAILED,
                        f"{type(exc).__name__}: {str(exc)[:300]}",
                        dataset,
                    )
                )
                continue
            return frame, self._finish(info, attempts, dataset), source
        frame, info = self._synthetic(weeks, channels, seed)
        return frame, self._finish(info, attempts, None), "synthetic"

    def _finish(
        self, info: DataInfo, attempts: list[SourceAttempt], dataset: str | None
    ) -> dict[str, Any]:
        info.attempts = [*attempts, SourceAttempt(info.source, "used", dataset=dataset)]
        self.last_info = info.to_dict()
        return self.last_info

    def _kaggle_preflight(self) -> SourceAttempt | None:
        dataset = self.kaggle_dataset
        if dataset is None:
            return SourceAttempt(
                "kaggle",
                "skipped",
                Reason.NOT_CONFIGURED,
                f"no Kaggle dataset configured: set {KAGGLE_DATASET_ENV}=owner/dataset-slug or "
                "pass kaggle_dataset=.",
            )
        try:
            _, folder = _kaggle_ref(dataset)
        except DataIntegrationError as exc:
            return SourceAttempt("kaggle", "skipped", Reason.NOT_CONFIGURED, str(exc), dataset)
        if _has_data(self.cache_dir / "kaggle" / folder):
            return None  # cached: no package or credentials needed
        error = None
        if find_spec("kaggle") is None:
            error = _missing_package("kaggle", "Kaggle")
        elif kaggle_credentials() is None:
            error = _missing_kaggle_credentials()
        if error is None:
            return None
        reason = error.details["reason"]
        return SourceAttempt("kaggle", "skipped", reason, str(error), dataset, error.code)

    def _huggingface_preflight(self) -> SourceAttempt | None:
        dataset = self.hf_dataset
        if dataset is None:
            return SourceAttempt(
                "huggingface",
                "skipped",
                Reason.NOT_CONFIGURED,
                f"no Hugging Face dataset configured: set {HF_DATASET_ENV}=owner/name or pass "
                "hf_dataset=.",
            )
        if find_spec("datasets") is None:
            error = _missing_package("datasets", "Hugging Face")
            return SourceAttempt(
                "huggingface",
                "skipped",
                Reason.PACKAGE_NOT_INSTALLED,
                str(error),
                dataset,
                error.code,
            )
        return None

    # -- Kaggle --------------------------------------------------------------------------------

    def get_kaggle_data(
        self,
        dataset_name: str | None = None,
        *,
        file_name: str | None = None,
        target: str | None = None,
        spend_columns: Sequence[str] | None = None,
        date_column: str | bool | None = None,
        refresh: bool = False,
    ) -> pd.DataFrame:
        """Marketing data from a Kaggle dataset, downloaded once and cached.

        The dataset's archive is downloaded to ``<cache_dir>/kaggle/<owner>/<slug>/`` (by
        :func:`download_kaggle_dataset`) and unzipped; its CSV and parquet files are tried
        largest first and the first that passes the schema check is returned, standardised.
        A cached copy is used without contacting Kaggle unless ``refresh``.

        Parameters
        ----------
        dataset_name : str, optional
            ``owner/dataset-slug`` (or its kaggle.com URL); default the client's
            ``kaggle_dataset``.
        file_name : str, optional
            The file to use (name or path inside the dataset), instead of trying them all.
        target, spend_columns, date_column
            Passed to :func:`~mmm_core.data.schema.standardise_frame`.
        refresh : bool, default False
            Download again even if a cached copy exists.

        Returns
        -------
        pandas.DataFrame
            Standardised data; the description is in :attr:`last_info`.

        Raises
        ------
        DataIntegrationError
            ``MMM_113`` when the dataset is not configured or cannot be downloaded
            (``details["reason"]``), or a schema error (``MMM_101``, ``MMM_112``...) when no
            file is usable.
        """
        frame, info = self._kaggle(
            dataset_name,
            file_name=file_name,
            target=target,
            spend_columns=spend_columns,
            date_column=date_column,
            refresh=refresh,
        )
        return self._used("kaggle", frame, info, dataset=info.dataset)

    def _kaggle(
        self, dataset_name: str | None, *, refresh: bool = False, **options: Any
    ) -> tuple[pd.DataFrame, DataInfo]:
        dataset = dataset_name or self.kaggle_dataset
        if dataset is None:
            raise _unavailable(
                Reason.NOT_CONFIGURED,
                "no Kaggle dataset given.",
                f"pass dataset_name='owner/dataset-slug' or set {KAGGLE_DATASET_ENV}.",
            )
        ref, sub = _kaggle_ref(dataset)
        folder = self.cache_dir / "kaggle" / sub
        notes: list[str] = []
        if refresh or not _has_data(folder):
            partial = folder.with_name(folder.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir(parents=True)
            try:
                download_kaggle_dataset(ref, partial)
                extract_archives(partial)
            except BaseException:
                shutil.rmtree(partial, ignore_errors=True)
                raise
            shutil.rmtree(folder, ignore_errors=True)
            partial.rename(folder)
            notes.append(f"downloaded {ref} to {folder}")
        else:
            notes.append(f"used the cached copy in {folder} (refresh=True downloads again)")
        frame, report, used, rejected = _first_usable(folder, **options)
        notes += [f"skipped {name}: {why}" for name, why in rejected.items()]
        info = DataInfo(
            source="kaggle",
            dataset=ref,
            location=str(folder),
            files=[used],
            schema=report,
            fit_arguments=report.fit_arguments(),
            notes=notes,
        )
        return frame, info

    # -- Hugging Face ----------------------------------------------------------------------------

    def get_huggingface_data(
        self,
        dataset_name: str | None = None,
        split: str = "train",
        *,
        data_files: str | Sequence[str] | None = None,
        target: str | None = None,
        spend_columns: Sequence[str] | None = None,
        date_column: str | bool | None = None,
    ) -> pd.DataFrame:
        """Marketing data through ``datasets.load_dataset``, standardised.

        Parameters
        ----------
        dataset_name : str, optional
            A hub name (``owner/name``), a local folder, a local CSV / parquet / JSON file, or
            a builder name (``"csv"``, ``"parquet"``) with ``data_files``; default the client's
            ``hf_dataset``. ``HF_TOKEN`` is used for hub names when set (needed only for
            private or gated datasets).
        split : str, default "train"
            The split to load.
        data_files : str or list of str, optional
            Files for a builder name, as in ``load_dataset("csv", data_files=...)``.
        target, spend_columns, date_column
            Passed to :func:`~mmm_core.data.schema.standardise_frame`.

        Returns
        -------
        pandas.DataFrame
            Standardised data; the description is in :attr:`last_info`.

        Raises
        ------
        DataIntegrationError
            ``MMM_113`` when not configured, ``datasets`` is missing or loading fails
            (``details["reason"]``), or a schema error when the data are not usable.
        """
        frame, info = self._huggingface(
            dataset_name,
            split=split,
            data_files=data_files,
            target=target,
            spend_columns=spend_columns,
            date_column=date_column,
        )
        return self._used("huggingface", frame, info, dataset=info.dataset)

    def _huggingface(
        self,
        dataset_name: str | None,
        *,
        split: str = "train",
        data_files: str | Sequence[str] | None = None,
        **options: Any,
    ) -> tuple[pd.DataFrame, DataInfo]:
        name = dataset_name or self.hf_dataset
        if name is None:
            raise _unavailable(
                Reason.NOT_CONFIGURED,
                "no Hugging Face dataset given.",
                f"pass dataset_name='owner/name' or set {HF_DATASET_ENV}.",
            )
        if find_spec("datasets") is None:
            raise _missing_package("datasets", "Hugging Face")
        import datasets  # lazy: heavy, and only needed here

        kwargs: dict[str, Any] = {"split": split, "cache_dir": str(self.cache_dir / "huggingface")}
        builder, notes = name, []
        local = Path(name)
        if data_files is not None:
            kwargs["data_files"] = data_files if isinstance(data_files, str) else list(data_files)
        elif local.is_file():
            builder = _HF_BUILDERS.get(local.suffix.lower().lstrip("."), "csv")
            kwargs["data_files"] = str(local)
        elif not local.exists():
            token = os.environ.get("HF_TOKEN") or None
            kwargs["token"] = token
            if token is None:
                notes.append("HF_TOKEN not set: only public datasets can be read")
        try:
            loaded = datasets.load_dataset(builder, **kwargs)
            raw = loaded.to_pandas()
        except Exception as exc:  # network, missing dataset or split, parse errors
            raise _unavailable(
                Reason.DOWNLOAD_FAILED,
                f"loading Hugging Face dataset {name!r} (split {split!r}) failed: "
                f"{type(exc).__name__}: {str(exc)[:300]}",
                "check the dataset name and split on huggingface.co, set HF_TOKEN for a "
                "private or gated dataset, or download the files and use load().",
                dataset=name,
                error=type(exc).__name__,
            ) from exc
        if not isinstance(raw, pd.DataFrame):  # batched to_pandas gives an iterator
            raw = pd.concat(list(raw), ignore_index=True)
        frame, report = standardise_frame(raw, **options)
        files = (
            [kwargs["data_files"]]
            if isinstance(kwargs.get("data_files"), str)
            else list(kwargs.get("data_files") or [])
        )
        info = DataInfo(
            source="huggingface",
            dataset=name,
            location=name if data_files is None else f"{name} ({split})",
            files=files,
            schema=report,
            fit_arguments=report.fit_arguments(),
            notes=notes,
        )
        return frame, info

    # -- synthetic -------------------------------------------------------------------------------

    def get_synthetic_data(self, weeks: int = 52, channels: int = 5, seed: int = 0) -> pd.DataFrame:
        """Synthetic weekly data with a known truth (:func:`generate_mmm_data`).

        Parameters
        ----------
        weeks : int, default 52
            Number of weeks (at least 52).
        channels : int, default 5
            Number of media channels (1 to 10).
        seed : int, default 0
            Random seed; equal seeds give equal data.

        Returns
        -------
        pandas.DataFrame
            ``date``, ``<channel>_spend`` ..., ``price_index``, ``promo``, ``revenue``; the
            truth is in ``frame.attrs["truth"]`` (a dict), :attr:`last_truth` (the object)
            and ``last_info["truth"]``.
        """
        frame, info = self._synthetic(weeks, channels, seed)
        return self._used("synthetic", frame, info)

    def _used(
        self, source: str, frame: pd.DataFrame, info: DataInfo, **attempt: Any
    ) -> pd.DataFrame:
        """``frame``, recording ``source`` as the one (and only) source tried."""
        info.attempts = [SourceAttempt(source, "used", **attempt)]
        self.last_info = info.to_dict()
        return frame

    def _synthetic(self, weeks: int, channels: int, seed: int) -> tuple[pd.DataFrame, DataInfo]:
        frame, truth = generate_mmm_data(weeks=weeks, channels=channels, seed=seed)
        arguments = truth.fit_arguments()
        _, report = standardise_frame(
            frame,
            target=arguments["target_column"],
            spend_columns=arguments["spend_columns"],
            date_column=arguments["date_column"],
        )
        truth_dict = truth.to_dict()
        frame.attrs["truth"] = truth_dict
        self.last_truth = truth
        info = DataInfo(
            source="synthetic",
            dataset=None,
            location=f"generate_mmm_data(weeks={weeks}, channels={channels}, seed={seed})",
            schema=report,
            fit_arguments=arguments,
            truth=truth_dict,
        )
        return frame, info

    # -- files -----------------------------------------------------------------------------------

    def load(
        self,
        path_or_uri: str | os.PathLike[str],
        target: str | None = None,
        spend_columns: Sequence[str] | None = None,
        date_column: str | bool | None = None,
    ) -> tuple[pd.DataFrame, dict[str, Any]]:
        """Read a CSV or parquet file (local or ``s3://``), check and standardise it.

        Parameters
        ----------
        path_or_uri : str or path-like
            ``data.csv``, ``data.parquet``, ``s3://bucket/key.csv``... (``s3://`` needs
            ``s3fs``, the ``aws`` extra).
        target : str, optional
            Target column (detected from revenue / sales / kpi / y... when omitted).
        spend_columns : list of str, optional
            Spend columns (detected from names such as ``tv_S``, ``TV Spend``, ``spend_tv``).
        date_column : str, None or False
            Date column (detected when ``None``; ``False`` for undated data).

        Returns
        -------
        frame : pandas.DataFrame
            Standardised data, daily rows summed to weeks starting on Monday.
        info : dict
            Source ``"file"`` or ``"s3"``, column mapping, schema report (frequency, gaps...)
            and ``fit_arguments``.

        Raises
        ------
        DataIntegrationError
            ``MMM_100`` when the file cannot be read, or the schema errors of
            :func:`~mmm_core.data.schema.standardise_frame`.
        """
        raw = read_table(path_or_uri)
        frame, report = standardise_frame(
            raw, target=target, spend_columns=spend_columns, date_column=date_column
        )
        location = os.fspath(path_or_uri)
        info = DataInfo(
            source="s3" if is_s3_uri(location) else "file",
            location=location,
            files=[location],
            schema=report,
            fit_arguments=report.fit_arguments(),
        )
        self.last_info = info.to_dict()
        return frame, self.last_info


def _has_data(folder: Path) -> bool:
    return folder.is_dir() and bool(find_data_files(folder))


def _first_usable(
    folder: Path,
    *,
    file_name: str | None = None,
    **options: Any,
) -> tuple[pd.DataFrame, SchemaReport, str, dict[str, str]]:
    """The first data file under ``folder`` that standardises, largest first.

    Returns the frame, its report, the file (relative to ``folder``) and, for each file tried
    before it, why it was not usable. With a single candidate its own error is raised.
    """
    files = find_data_files(folder)
    names = [p.relative_to(folder).as_posix() for p in files]
    if file_name is not None:
        chosen = [p for p, n in zip(files, names, strict=True) if file_name in (n, p.name)]
        if not chosen:
            raise DataIntegrationError(
                Codes.MISSING_COLUMN,
                f"no file {file_name!r} in {folder}; the data files are {names}.",
                hint="pass file_name= with one of the names listed.",
                details={"reason": Reason.UNUSABLE_DATA, "files": names},
            )
        files = chosen[:1]
    if not files:
        present = sorted(p.name for p in folder.rglob("*") if p.is_file())
        raise DataIntegrationError(
            Codes.EMPTY_DATA,
            f"no CSV or parquet file in {folder} (files: {present[:20]}).",
            hint="choose a dataset with a table of weekly or daily spend and revenue.",
            details={"reason": Reason.UNUSABLE_DATA, "files": present[:50]},
        )
    rejected: dict[str, str] = {}
    for path in files:
        name = path.relative_to(folder).as_posix()
        try:
            frame, report = standardise_frame(read_table(path), **options)
        except DataIntegrationError as exc:
            if len(files) == 1:
                raise
            rejected[name] = str(exc)
            continue
        return frame, report, name, rejected
    listing = "; ".join(f"{n}: {why}" for n, why in rejected.items())
    raise DataIntegrationError(
        Codes.DATA_ERROR,
        f"none of the {len(files)} data files in {folder} is usable ({listing[:1500]}).",
        hint="pass file_name= and target= / spend_columns= / date_column= to map the right "
        "file's columns.",
        details={"reason": Reason.UNUSABLE_DATA, "files": rejected},
    )
