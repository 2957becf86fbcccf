"""Where the command line keeps things, and reading and writing them safely.

Layout under home (``--home``, else ``$MMM_HOME``, else ``./.mmm``)::

    raw/demo.csv                      the demo's generated data
    models/<model_id>/model.json      the fitted model (EconometricMMM.save)
    models/<model_id>/results.json    what fit returned
    models/<model_id>/truth.json      the demo's known truth (synthetic data only)
    models/<model_id>/optimization.json  the budget plan of 'mmm demo' / 'mmm optimize'
    reports/<prefix>*.{json,csv,txt,html}

Every file is written atomically: a temporary file in the same folder, then ``os.replace``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from mmm_core import files
from mmm_core.cli.options import DEFAULT_HOME, HOME_ENV
from mmm_core.errors import Codes, DataIntegrationError, DeploymentError, MMModelError
from mmm_core.json_values import json_value
from mmm_core.store import new_model_id
from mmm_core.store.models import MODEL_FILE, PLAN_FILE, RESULTS_FILE

if TYPE_CHECKING:
    from mmm_core.models.econometric_mmm import EconometricMMM

__all__ = [
    "MODEL_FILE",
    "PLAN_FILE",
    "RESULTS_FILE",
    "load_model",
    "load_results",
    "model_folder",
    "model_source",
    "new_model_id",
    "read_json",
    "read_table",
    "resolve_home",
    "save_fit",
    "write_atomic",
    "write_json",
]


# --------------------------------------------------------------------------------------------
# Places.
# --------------------------------------------------------------------------------------------


def resolve_home(home: str | None) -> Path:
    """The folder models are stored under.

    Parameters
    ----------
    home : str or None
        ``--home``; when ``None`` the ``MMM_HOME`` environment variable, else ``./.mmm``.

    Returns
    -------
    pathlib.Path
    """
    return Path(home or os.environ.get(HOME_ENV) or DEFAULT_HOME)


def model_source(model: str, home: str | None) -> Path:
    """``--model``: an existing path as given, else ``<home>/models/<model>`` when that folder
    exists, else the path as given (loading it then says that there is no model there)."""
    path = Path(model)
    if not path.exists():
        stored = resolve_home(home) / "models" / model
        if stored.is_dir():
            return stored
    return path


def model_folder(source: Path) -> Path:
    """The folder of a model given as its file or its folder."""
    return source if source.is_dir() else source.parent


# --------------------------------------------------------------------------------------------
# Writing.
# --------------------------------------------------------------------------------------------


def write_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` via a temporary file in the same folder and ``os.replace``.

    Parameters
    ----------
    path : pathlib.Path
        Destination; missing parent folders are created.
    text : str
        UTF-8 content.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    DeploymentError
        ``MMM_300`` when the folder or file cannot be written.
    """
    try:
        return files.write_atomic(path, text)
    except OSError as exc:
        raise write_error(path, exc) from exc


def write_error(path: Path, exc: OSError) -> DeploymentError:
    """``MMM_300``: ``path`` cannot be written."""
    return DeploymentError(
        Codes.DEPLOYMENT_ERROR,
        f"cannot write {str(path)!r} ({exc.strerror or exc}).",
        hint="check that the folder exists and is writable, or choose another --home/--output.",
    )


def write_json(path: Path, doc: Any) -> Path:
    """Write ``doc`` as indented JSON, atomically (non-finite numbers become ``null``)."""
    return write_atomic(path, json.dumps(json_value(doc), indent=2, allow_nan=False) + "\n")


def save_fit(model: EconometricMMM, results: Mapping[str, Any], home: Path) -> Path:
    """Save a fitted model and its results under ``<home>/models/<new id>/``.

    Returns
    -------
    pathlib.Path
        The ``model.json`` written (``results.json`` is next to it).
    """
    folder = home / "models" / new_model_id()
    try:
        model_path = model.save(folder / MODEL_FILE)
    except OSError as exc:
        raise write_error(folder / MODEL_FILE, exc) from exc
    write_json(folder / RESULTS_FILE, results)
    return model_path


# --------------------------------------------------------------------------------------------
# Reading.
# --------------------------------------------------------------------------------------------


def read_table(path: str) -> pd.DataFrame:
    """Read a ``.csv`` (or ``.txt``) or ``.parquet`` file into a DataFrame.

    Parameters
    ----------
    path : str
        The file.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    DataIntegrationError
        ``MMM_100`` when the file is missing, of another type or unreadable, ``MMM_110`` when it
        is empty.
    """
    source = Path(path)
    _check_file(source, "data file")
    suffix = source.suffix.lower()
    readers: dict[str, Callable[[Path], pd.DataFrame]] = {
        ".csv": pd.read_csv,
        ".txt": pd.read_csv,
        ".parquet": pd.read_parquet,
        ".pq": pd.read_parquet,
    }
    if suffix not in readers:
        raise DataIntegrationError(
            Codes.DATA_ERROR,
            f"cannot read {path!r}: unknown file type {suffix or '(none)'!r}.",
            hint="give a .csv or .parquet file.",
        )
    try:
        return readers[suffix](source)
    except pd.errors.EmptyDataError as exc:
        raise DataIntegrationError(
            Codes.EMPTY_DATA,
            f"the data file {path!r} is empty.",
            hint="give a file with a header row and one row per period.",
        ) from exc
    except ImportError as exc:
        raise DataIntegrationError(
            Codes.DATA_ERROR,
            f"cannot read {path!r}: no Parquet engine (pyarrow or fastparquet) is installed.",
            hint="install pyarrow, or save the data as CSV.",
        ) from exc
    except (OSError, ValueError, UnicodeDecodeError) as exc:  # ParserError is a ValueError
        detail = " ".join(str(exc).split())[:200]
        raise DataIntegrationError(
            Codes.DATA_ERROR,
            f"cannot read {path!r} ({type(exc).__name__}: {detail}).",
            hint=f"check that it is a valid {suffix.lstrip('.')} file (UTF-8 text for CSV).",
        ) from exc


def _check_file(source: Path, what: str) -> None:
    if not source.is_file():
        state = "is a folder, not a file" if source.is_dir() else "does not exist"
        raise DataIntegrationError(
            Codes.DATA_ERROR,
            f"the {what} {str(source)!r} {state}.",
            hint="check the path (relative paths start from the current folder).",
        )


def read_json(path: Path, what: str) -> dict[str, Any]:
    """A JSON object from a file.

    Parameters
    ----------
    path : pathlib.Path
        The file.
    what : str
        What it holds, for the messages (``"constraints file"``, ``"plan"``...).

    Raises
    ------
    DataIntegrationError
        ``MMM_100`` when the file is missing, unreadable, not JSON or not a JSON object.
    """
    _check_file(path, what)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        detail = " ".join(str(exc).split())[:200]
        raise DataIntegrationError(
            Codes.DATA_ERROR,
            f"cannot read the {what} {str(path)!r} ({type(exc).__name__}: {detail}).",
            hint="give a UTF-8 JSON file holding one object {...}.",
        ) from exc
    if not isinstance(doc, dict):
        raise DataIntegrationError(
            Codes.DATA_ERROR,
            f"the {what} {str(path)!r} holds a JSON {type(doc).__name__}, not an object.",
            hint="give a JSON object {...}.",
        )
    return doc


def load_model(model: str, home: str | None) -> tuple[EconometricMMM, Path]:
    """Load ``--model`` (a path or a model id) and return it with its folder.

    Raises
    ------
    MMModelError
        ``MMM_004`` when there is no model there or its file is damaged.
    """
    from mmm_core.models.econometric_mmm import EconometricMMM

    source = model_source(model, home)
    if not source.exists():
        raise _no_model(model, resolve_home(home) / "models")
    return EconometricMMM.load(source), model_folder(source)


def _no_model(model: str, models: Path) -> MMModelError:
    ids = sorted((p.name for p in models.glob("*") if (p / MODEL_FILE).is_file()), reverse=True)
    if ids:
        listed = ", ".join(ids[:3]) + (", ..." if len(ids) > 3 else "")
        hint = f"pass model.json, its folder, or a model id in {models} ({listed})."
    else:
        hint = f"no model is saved in {models} yet: run 'mmm fit' or 'mmm demo' first, or " + (
            "pass --home (or set MMM_HOME) to where the models are."
        )
    looks_like_path = os.sep in model or "/" in model or model.endswith(".json")
    message = (
        f"no model at {model!r}: no such file or folder."
        if looks_like_path
        else f"no model {model!r}: no model id {model!r} in {models}, nor such a file or folder."
    )
    return MMModelError(Codes.CORRUPT_MODEL_FILE, message, hint=hint)


def load_results(model: str, home: str | None) -> tuple[dict[str, Any], Path]:
    """The fit results of ``--model`` and its folder.

    ``results.json`` next to ``model.json`` when it is there (the layout ``mmm fit`` and
    ``mmm demo`` write), else the results stored inside the model file.
    """
    source = model_source(model, home)
    folder = model_folder(source)
    results_file = folder / RESULTS_FILE
    if (source.is_dir() or source.name == MODEL_FILE) and results_file.is_file():
        return read_json(results_file, "results file"), folder
    loaded, folder = load_model(model, home)
    results = getattr(loaded, "results_", None)
    if not isinstance(results, dict):
        raise MMModelError(
            Codes.CORRUPT_MODEL_FILE,
            f"the model at {str(source)!r} carries no fit results.",
            hint="refit it with 'mmm fit' (which writes results.json next to model.json).",
        )
    return results, folder
