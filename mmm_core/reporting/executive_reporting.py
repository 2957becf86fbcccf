"""``ExecutiveReporting``: the reference's report files, made from a fit's results dict.

One call writes four files for one set of results (and, when present, the budget optimizer's
``"optimization"`` entry)::

    <prefix>_executive_summary.json   headline numbers, schema-versioned (``summary.py``)
    <prefix>_detailed.csv             one row per channel, every number (``channel_table.py``)
    <prefix>_executive_summary.txt    the same story in plain English (``narrative.py``)
    <prefix>.html                     one self-contained page with the figures (``html_page.py``)

The reports are pure: they read dicts (never a model object, never the input's mutation) and
write files; each file is written atomically (a temporary file in the same folder, then
``os.replace``), so a reader never sees half a report file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mmm_core.errors import Codes, MMModelError
from mmm_core.files import write_atomic
from mmm_core.reporting.channel_table import channel_table, to_csv
from mmm_core.reporting.inputs import check_results
from mmm_core.reporting.narrative import executive_text
from mmm_core.reporting.summary import executive_summary

__all__ = ["REPORT_FILES", "ExecutiveReporting", "render_report"]

HOME_ENV = "MMM_HOME"
DEFAULT_HOME = ".mmm"
#: Key of each report file in the returned dict, and the end of its file name.
REPORT_FILES = {
    "executive_summary_json": "_executive_summary.json",
    "detailed_csv": "_detailed.csv",
    "executive_text": "_executive_summary.txt",
    "html": ".html",
}


def render_report(
    mmm_results: Mapping[str, Any], generated_at: datetime | None = None
) -> dict[str, str]:
    """The four report documents as text, keyed like :data:`REPORT_FILES` (nothing written).

    For callers that store reports elsewhere (an S3 upload, an HTTP response).

    Parameters
    ----------
    mmm_results : dict
        What :meth:`EconometricMMM.fit` returns, optionally with an ``"optimization"`` entry
        from the budget optimizer. Not modified.
    generated_at : datetime, optional
        Time stamp written in the reports (default: now, UTC).

    Returns
    -------
    dict
        ``executive_summary_json``, ``detailed_csv``, ``executive_text``, ``html``.

    Raises
    ------
    MMModelError
        ``MMM_001`` when ``mmm_results`` is not a results dict (see the message's hint).
    """
    from mmm_core.reporting.figures import render_figures
    from mmm_core.reporting.html_page import render_html

    check_results(mmm_results)
    summary = executive_summary(mmm_results, generated_at or datetime.now(UTC))
    columns, rows = channel_table(mmm_results, summary)
    figures = render_figures(mmm_results, summary)
    return {
        "executive_summary_json": json.dumps(summary, indent=2, allow_nan=False) + "\n",
        "detailed_csv": to_csv(columns, rows),
        "executive_text": executive_text(summary),
        "html": render_html(summary, mmm_results, figures),
    }


class ExecutiveReporting:
    """Writes executive reports of fitted media mix models.

    Parameters
    ----------
    output_dir : str or path, optional
        Folder for the report files (created when missing). Default: ``$MMM_HOME/reports``,
        else ``./.mmm/reports``, resolved when a report is written.

    Examples
    --------
    >>> from mmm_core import EconometricMMM
    >>> from mmm_core.data.synthetic import generate_mmm_data
    >>> data, truth = generate_mmm_data(104, 3, seed=0)
    >>> results = EconometricMMM(n_bootstrap=20).fit(data, **truth.fit_arguments())
    >>> import tempfile
    >>> paths = ExecutiveReporting(tempfile.mkdtemp()).generate_mmm_report(results, "demo")
    >>> sorted(paths)
    ['detailed_csv', 'executive_summary_json', 'executive_text', 'html']
    """

    def __init__(self, output_dir: str | os.PathLike[str] | None = None) -> None:
        self.output_dir = output_dir

    @property
    def reports_dir(self) -> Path:
        """Where reports go: ``output_dir``, else ``$MMM_HOME/reports``, else ``.mmm/reports``."""
        if self.output_dir is not None:
            return Path(self.output_dir)
        return Path(os.environ.get(HOME_ENV) or DEFAULT_HOME) / "reports"

    def generate_mmm_report(
        self, mmm_results: Mapping[str, Any], filename_prefix: str | None = None
    ) -> dict[str, str]:
        """Write the executive summary (JSON), the detailed CSV, the text summary and the HTML.

        Parameters
        ----------
        mmm_results : dict
            What :meth:`EconometricMMM.fit` returns (``channels`` and ``performance`` at least),
            optionally with an ``"optimization"`` entry from the budget optimizer. Not modified.
        filename_prefix : str, optional
            Start of the file names (a plain name, no folders). Default
            ``mmm_report_<UTC time stamp>`` (with ``_2``, ``_3``... if that is taken).

        Returns
        -------
        dict
            Paths of the files written: ``executive_summary_json``, ``detailed_csv``,
            ``executive_text``, ``html``.

        Raises
        ------
        MMModelError
            ``MMM_001`` for results that cannot be reported on or a folder that cannot be
            written; ``MMM_006`` for a prefix that is not a plain file name.
        """
        check_results(mmm_results)
        prefix = _check_prefix(filename_prefix) if filename_prefix is not None else None
        folder = self.reports_dir
        try:  # before the rendering, so a bad folder fails fast
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _write_error(folder, exc) from exc
        now = datetime.now(UTC)
        documents = render_report(mmm_results, now)
        prefix = prefix or _free_prefix(folder, f"mmm_report_{now:%Y%m%dT%H%M%SZ}")
        paths = {key: folder / f"{prefix}{end}" for key, end in REPORT_FILES.items()}
        for key, path in paths.items():
            _write_atomic(path, documents[key])
        return {key: str(path.resolve()) for key, path in paths.items()}


def _check_prefix(prefix: Any) -> str:
    if (
        not isinstance(prefix, str)
        or not prefix.strip()
        or prefix.startswith(".")
        or any(ch in prefix for ch in "/\\\0")
    ):
        raise MMModelError(
            Codes.INVALID_PARAMETER,
            f"filename_prefix must be a plain file name, got {prefix!r}.",
            hint="use letters, digits, '-' and '_' (e.g. 'q3_review'); choose the folder with "
            "ExecutiveReporting(output_dir=...).",
        )
    return prefix


def _free_prefix(folder: Path, prefix: str) -> str:
    """``prefix``, or ``prefix_2``, ``prefix_3``... when a report already uses it."""
    candidate, n = prefix, 1
    while any((folder / f"{candidate}{end}").exists() for end in REPORT_FILES.values()):
        n += 1
        candidate = f"{prefix}_{n}"
    return candidate


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` atomically; a failure becomes an :class:`MMModelError` with a hint."""
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise _write_error(path, exc) from exc


def _write_error(path: Path, exc: OSError) -> MMModelError:
    return MMModelError(
        Codes.MODEL_ERROR,
        f"cannot write the report to {str(path)!r} ({exc.strerror or exc}).",
        hint="choose a writable folder with ExecutiveReporting(output_dir=...) or set MMM_HOME.",
        details={"path": str(path)},
    )
