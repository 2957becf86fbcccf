"""Run the dbt project (``dbt/``) from Python: build the marts, run the data-quality tests, read.

The dbt project turns the raw feeds of the lake (``<home>/raw/<table>/*.parquet``: daily media
spend per channel and market, sales, customer-journey touchpoints, markets) into the weekly
MMM modelling table ``mmm_weekly`` and the SQL attribution marts, with data-quality tests
(not_null, unique, accepted_values, relationships, no negative spend, no missing weeks,
plausible ranges, reconciliations) and source freshness. :class:`DBTIntegration` runs it
through dbt's programmatic runner (``dbt.cli.main.dbtRunner``) and reads the run results as
objects, never dbt's console output. dbt is imported inside the methods, so importing
``mmm_core`` needs no dbt (install it with ``pip install -e '.[dbt]'``).

Everything dbt writes goes under the home (``home``, else ``$MMM_HOME``, else ``./.mmm``), never
into the project folder::

    raw/<table>/*.parquet      what dbt reads (DBTIntegration.seed_sample writes a sample)
    curated/mmm.duckdb         what dbt builds (target ``duckdb``)
    curated/dbt/target/        dbt's artifacts (manifest, run_results.json, compiled SQL)
    curated/dbt/logs/dbt.log   dbt's log

Failures (a test that fails or errors, a model that errors, a source whose freshness is past
its error threshold) raise :class:`~mmm_core.errors.DataIntegrationError` naming them; its
``details`` carry the whole report. An invocation is serialised by a lock and sets ``MMM_HOME``
(read by ``profiles.yml``) and ``DO_NOT_TRACK=1`` only while dbt runs.

Examples
--------
>>> dbt = DBTIntegration(home="/tmp/mmm-demo")  # doctest: +SKIP
>>> dbt.seed_sample("/tmp/mmm-demo")["markets"]  # doctest: +SKIP
['north', 'south']
>>> dbt.build()["summary"]["failed"]  # doctest: +SKIP
0
>>> frame = dbt.read_modelling_table(market="north")  # doctest: +SKIP
>>> EconometricMMM().fit(frame, **modelling_fit_arguments(frame))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from mmm_core.errors import Codes, DataIntegrationError, suggest_name
from mmm_core.store.factory import DEFAULT_HOME, HOME_ENV

__all__ = [
    "DEFAULT_TARGET",
    "MODELLING_TABLE",
    "PROJECT_ENV",
    "DBTIntegration",
    "modelling_fit_arguments",
]

PROJECT_ENV = "MMM_DBT_PROJECT"
DEFAULT_TARGET = "duckdb"
#: The weekly modelling table (one row per market and week) that ``mmm fit --from-dbt`` reads.
MODELLING_TABLE = "mmm_weekly"
#: dbt selector of the attribution marts and what they are built from.
ATTRIBUTION_SELECTOR = "+tag:attribution"
RAW_TABLES = ("markets", "media_spend", "sales", "journey_touchpoints")
CONTROL_COLUMNS = ("price_index", "promo")
TARGET_COLUMN = "revenue"
DATE_COLUMN = "date"

_FAILED_TESTS = ("fail", "error")
_FAILED_FRESHNESS = ("error", "runtime error")
_MESSAGE_ITEMS = 8  # failures named in an error message (all are in its details)
_LOCK = threading.Lock()


def _default_project() -> Path:
    """``$MMM_DBT_PROJECT``, else the repository's ``dbt/`` next to the package."""
    env = os.environ.get(PROJECT_ENV)
    return Path(env) if env else Path(__file__).resolve().parents[1] / "dbt"


def _unavailable(message: str, hint: str, **details: Any) -> DataIntegrationError:
    return DataIntegrationError(Codes.SOURCE_UNAVAILABLE, message, hint=hint, details=details)


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of the block, then restore them."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def _release_duckdb_file() -> None:
    """Close the DuckDB file dbt-duckdb keeps open in this process after an invocation.

    dbt-duckdb caches its database handle between invocations; while it is open no other
    connection with a different configuration (a read-only reader, another process) can open
    the file. Closing it costs a reopen (milliseconds) on the next invocation.
    """
    module = sys.modules.get("dbt.adapters.duckdb.connections")
    if module is None:  # dbt-duckdb never ran in this process (importing it would be slow)
        return
    manager: Any = getattr(module, "DuckDBConnectionManager", None)
    lock = getattr(manager, "_LOCK", None)
    if lock is None or not hasattr(manager, "_ENV"):
        return
    with lock:
        env = manager._ENV
        if env is not None:
            env.close()
            manager._ENV = None


def _status(value: Any) -> str:
    """A dbt status enum (or string) as its lower-case string."""
    return str(getattr(value, "value", value)).lower()


def _seconds(value: Any) -> float:
    return round(float(value or 0.0), 4)


def _failure_label(name: str, test: Mapping[str, Any]) -> str:
    """``name (3 failing rows)``, or ``name (error)`` for a test that could not run."""
    if test["status"] != "fail":
        return f"{name} (error)"
    rows = test["failing_rows"]
    return f"{name} ({rows} failing row{'' if rows == 1 else 's'})"


def modelling_fit_arguments(frame: pd.DataFrame) -> dict[str, Any]:
    """Column roles of a modelling table read by :meth:`DBTIntegration.read_modelling_table`.

    ``model.fit(frame, **modelling_fit_arguments(frame))``: target ``revenue``, every
    ``*_spend`` column as media, ``price_index`` and ``promo`` as controls (those present),
    ``date`` as the date column.

    Raises
    ------
    DataIntegrationError
        ``MMM_101`` when the frame has no ``revenue`` or no ``*_spend`` column.
    """
    spend = [c for c in frame.columns if str(c).endswith("_spend")]
    if TARGET_COLUMN not in frame.columns or not spend:
        raise DataIntegrationError(
            Codes.MISSING_COLUMN,
            f"the frame is not a modelling table: it needs '{TARGET_COLUMN}' and '*_spend' "
            f"columns, got {list(frame.columns)}.",
            hint="read it with DBTIntegration().read_modelling_table().",
        )
    return {
        "target_column": TARGET_COLUMN,
        "spend_columns": spend,
        "control_columns": [c for c in CONTROL_COLUMNS if c in frame.columns],
        "date_column": DATE_COLUMN if DATE_COLUMN in frame.columns else None,
    }


class DBTIntegration:
    """Run the MMM dbt project and read what it built.

    Parameters
    ----------
    project_dir : str or path, optional
        The dbt project (the folder of ``dbt_project.yml``). Default ``$MMM_DBT_PROJECT``, else
        the repository's ``dbt/``.
    profiles_dir : str or path, optional
        Folder of ``profiles.yml``. Default: ``project_dir`` (the project ships one).
    target : {"duckdb", "athena"}, default "duckdb"
        Output of the ``mmm`` profile. ``duckdb`` is embedded and reads ``<home>/raw``;
        ``athena`` needs dbt-athena and AWS settings (``dbt/README.md``).
    home : str or path, optional
        The platform's home folder. Default ``$MMM_HOME``, else ``./.mmm``.
    vars : dict, optional
        dbt vars (``--vars``), e.g. ``{"mmm_channels": ["tv", "search"]}`` or ``raw_path``.
    threads : int, optional
        dbt threads (default: the profile's).

    Notes
    -----
    The constructor only stores its arguments; paths are resolved when a method runs.
    """

    def __init__(
        self,
        project_dir: str | os.PathLike[str] | None = None,
        profiles_dir: str | os.PathLike[str] | None = None,
        target: str = DEFAULT_TARGET,
        home: str | os.PathLike[str] | None = None,
        *,
        vars: Mapping[str, Any] | None = None,
        threads: int | None = None,
    ) -> None:
        self.project_dir = project_dir
        self.profiles_dir = profiles_dir
        self.target = target
        self.home = home
        self.vars = vars
        self.threads = threads

    # ----------------------------------------------------------------------------------------
    # Places.
    # ----------------------------------------------------------------------------------------

    @property
    def project_path(self) -> Path:
        """The dbt project folder, absolute."""
        path = Path(self.project_dir) if self.project_dir is not None else _default_project()
        return path.expanduser().resolve()

    @property
    def profiles_path(self) -> Path:
        """The folder of ``profiles.yml``, absolute."""
        if self.profiles_dir is None:
            return self.project_path
        return Path(self.profiles_dir).expanduser().resolve()

    @property
    def home_path(self) -> Path:
        """The home folder, absolute."""
        home = self.home if self.home is not None else os.environ.get(HOME_ENV) or DEFAULT_HOME
        return Path(home).expanduser().resolve()

    @property
    def raw_path(self) -> Path:
        """Where the duckdb target reads raw parquet: var ``raw_path``, else ``<home>/raw``."""
        custom = (self.vars or {}).get("raw_path")
        return Path(custom).expanduser().resolve() if custom else self.home_path / "raw"

    @property
    def database_path(self) -> Path:
        """The DuckDB file of the ``duckdb`` target: ``<home>/curated/mmm.duckdb``."""
        return self.home_path / "curated" / "mmm.duckdb"

    @property
    def artifacts_path(self) -> Path:
        """dbt's target and log folders live here: ``<home>/curated/dbt``."""
        return self.home_path / "curated" / "dbt"

    # ----------------------------------------------------------------------------------------
    # The sample.
    # ----------------------------------------------------------------------------------------

    def seed_sample(
        self, home: str | os.PathLike[str] | None = None, seed: int = 0, dirty: bool = False
    ) -> dict[str, Any]:
        """Write the raw sample (2 markets, 104 weeks, daily, 5 channels, journeys) to ``raw/``.

        Each market's weekly sums are :func:`~mmm_core.data.synthetic.generate_mmm_data`
        (``north``: ``seed``, ``south``: ``seed + 1``); see :mod:`mmm_core.data.dbt_sample`.

        Parameters
        ----------
        home : str or path, optional
            Home to seed (default: this instance's home).
        seed : int, default 0
        dirty : bool, default False
            Plant a negative spend, a missing week, a duplicated row and a stale sales feed.

        Returns
        -------
        dict
            ``home``, ``raw_path``, ``tables`` ({name: {path, rows}}), ``markets``,
            ``channels``, ``weeks``, ``planted`` (the problems planted, when dirty).
        """
        from mmm_core.data.dbt_sample import generate_raw_sample, write_raw_sample

        root = Path(home).expanduser().resolve() if home is not None else self.home_path
        sample = generate_raw_sample(seed=seed, dirty=dirty)
        written = write_raw_sample(sample, root)
        return {
            "home": str(root),
            "raw_path": str(root / "raw"),
            "tables": {
                name: {"path": str(path), "rows": len(sample.tables[name])}
                for name, path in written.items()
            },
            "markets": sample.markets,
            "channels": sample.channels,
            "weeks": len(next(iter(sample.weekly.values()))),
            "planted": sample.planted,
        }

    # ----------------------------------------------------------------------------------------
    # Running dbt.
    # ----------------------------------------------------------------------------------------

    def build(
        self,
        select: str | Sequence[str] | None = None,
        *,
        freshness: bool = True,
        raise_on_failure: bool = True,
    ) -> dict[str, Any]:
        """``dbt build`` (models, then their tests, in dependency order) and source freshness.

        A model whose upstream tests fail is skipped, so dirty raw data never reaches the
        marts (the previous build's tables stay).

        Parameters
        ----------
        select : str or sequence of str, optional
            dbt selection (``--select``), e.g. ``"+mmm_weekly"``; default everything.
        freshness : bool, default True
            Also run ``dbt source freshness``.
        raise_on_failure : bool, default True
            Raise when a model errors, a test fails or errors, or a source is stale.

        Returns
        -------
        dict
            ``status`` ("success" or "failed"), ``target``, ``seconds``, ``models``
            ({name: {status, rows, seconds, relation, message}}), ``tests`` (as
            :meth:`run_data_quality_tests`), ``freshness`` and ``summary``.

        Raises
        ------
        DataIntegrationError
            ``MMM_100`` naming the failing tests, models and stale sources (the report is in
            ``details["report"]``); ``MMM_113`` when dbt, the project or the raw data is
            missing.
        """
        started = time.perf_counter()
        self._check_raw()
        result = self._invoke(["build", *self._select(select)])
        models, tests = self._node_results(result)
        fresh = self._freshness() if freshness else {}
        report = self._report(started, models=models, tests=tests, freshness=fresh)
        if raise_on_failure:
            self._raise_on_failure("dbt build", report)
        return report

    def run_attribution_models(self, *, raise_on_failure: bool = True) -> dict[str, Any]:
        """Build the SQL attribution marts (``dbt run --select +tag:attribution``).

        ``attribution_touch_credits`` (each touch of a converted journey with its first-touch,
        last-touch, linear and time-decay credit) and ``attribution_by_channel`` (conversions
        and value credited to each channel by each rule, per market), with the staging view
        they read.

        Returns
        -------
        dict
            ``status``, ``target``, ``seconds`` and ``models``: {name: {status, rows, seconds,
            relation, message}} (``rows`` counted in the built relation; ``None`` when it
            cannot be counted).

        Raises
        ------
        DataIntegrationError
            ``MMM_100`` naming the models that failed; ``MMM_113`` when dbt, the project or
            the raw data is missing.
        """
        started = time.perf_counter()
        self._check_raw()
        result = self._invoke(["run", "--select", ATTRIBUTION_SELECTOR])
        models, _ = self._node_results(result)
        report = self._report(started, models=models)
        if raise_on_failure:
            self._raise_on_failure("dbt run (attribution models)", report)
        return report

    def run_data_quality_tests(
        self,
        select: str | Sequence[str] | None = None,
        *,
        freshness: bool = True,
        raise_on_failure: bool = True,
    ) -> dict[str, Any]:
        """Run the data-quality tests on what was built (``dbt test``) and source freshness.

        Parameters
        ----------
        select : str or sequence of str, optional
            dbt selection, e.g. ``"stg_media_spend"``; default every test.
        freshness : bool, default True
            Also run ``dbt source freshness``.
        raise_on_failure : bool, default True

        Returns
        -------
        dict
            ``status`` ("success" or "failed"), ``target``, ``seconds``, ``tests``: {name:
            {status (pass, warn, fail, error, skipped), passed, failing_rows, test (the generic
            test, or "singular"), model, column, message, seconds}}, ``freshness``: {source:
            {status, passed, max_loaded_at, age_hours, message}} and ``summary``: {tests,
            passed, warned, failed, skipped, failing_tests, failing_rows, stale_sources,
            errored_models, models}.

        Raises
        ------
        DataIntegrationError
            ``MMM_100`` naming the failing tests and stale sources; ``MMM_113`` when dbt or
            the project is missing.
        """
        started = time.perf_counter()
        result = self._invoke(["test", *self._select(select)])
        _, tests = self._node_results(result)
        fresh = self._freshness() if freshness else {}
        report = self._report(started, tests=tests, freshness=fresh)
        if raise_on_failure:
            self._raise_on_failure("dbt test", report)
        return report

    # ----------------------------------------------------------------------------------------
    # Reading what dbt built.
    # ----------------------------------------------------------------------------------------

    def read_modelling_table(self, market: str | None = None) -> pd.DataFrame:
        """The weekly MMM modelling table ``mmm_weekly`` from the DuckDB file.

        Parameters
        ----------
        market : str, optional
            One market's rows, without the ``market`` column: the layout of
            :func:`~mmm_core.data.synthetic.generate_mmm_data` (``date``, ``<channel>_spend``,
            ``price_index``, ``promo``, ``revenue``, plus ``conversions``), ready for
            ``EconometricMMM.fit(frame, **modelling_fit_arguments(frame))``. Default: every
            market, with the ``market`` column.

        Returns
        -------
        pandas.DataFrame
            Sorted by market and date; ``date`` (Monday of the week) as datetime64.

        Raises
        ------
        DataIntegrationError
            ``MMM_113`` when the target is not duckdb, the DuckDB file or the table is missing
            (build first) or the file is locked; ``MMM_006`` for an unknown market.
        """
        if self.target != DEFAULT_TARGET:
            raise _unavailable(
                f"read_modelling_table reads the duckdb target, not {self.target!r}.",
                f"on Athena query the Glue table {MODELLING_TABLE} (e.g. with "
                "awswrangler.athena.read_sql_query), or use DBTIntegration(target='duckdb').",
            )
        path = self.database_path
        if not path.exists():
            raise _unavailable(
                f"no DuckDB database at {path}: dbt has not built this home yet.",
                "run DBTIntegration(home=...).build() first (seed_sample() writes raw data).",
                path=str(path),
            )
        try:
            import duckdb
        except ImportError as exc:
            raise _unavailable(
                "reading the modelling table needs the duckdb package.",
                "install it with pip install -e '.[dbt]'.",
            ) from exc
        _release_duckdb_file()
        try:
            with duckdb.connect(str(path), read_only=True) as con:
                found = con.execute(
                    "select count(*) from information_schema.tables where table_name = ?",
                    [MODELLING_TABLE],
                ).fetchone()
                if not found or not found[0]:
                    raise _unavailable(
                        f"{path} has no table {MODELLING_TABLE}: the last build did not get "
                        "that far (a test upstream failed?).",
                        "run DBTIntegration(home=...).build() and fix what it reports.",
                        path=str(path),
                    )
                frame = con.execute(
                    f'select * from {MODELLING_TABLE} order by market, "{DATE_COLUMN}"'
                ).df()
        except duckdb.Error as exc:
            raise _unavailable(
                f"cannot read {path}: {exc}",
                "wait for the dbt run holding the file to finish, then retry.",
                path=str(path),
            ) from exc
        frame[DATE_COLUMN] = pd.to_datetime(frame[DATE_COLUMN])
        if market is None:
            return frame
        markets = sorted(frame["market"].unique().tolist())
        if market not in markets:
            close = suggest_name(market, markets)
            raise DataIntegrationError(
                Codes.INVALID_PARAMETER,
                f"market {market!r} is not in {MODELLING_TABLE}; markets: {markets}.",
                hint=f"use market={close!r}." if close else f"use one of {markets}.",
                details={"market": market, "markets": markets},
            )
        rows = frame[frame["market"] == market].drop(columns="market")
        return rows.reset_index(drop=True)

    # ----------------------------------------------------------------------------------------
    # Internals.
    # ----------------------------------------------------------------------------------------

    @staticmethod
    def _select(select: str | Sequence[str] | None) -> list[str]:
        if select is None:
            return []
        items = [select] if isinstance(select, str) else list(select)
        return ["--select", *items] if items else []

    def _check_raw(self) -> None:
        """On the duckdb target, every raw table must have parquet files to read."""
        if self.target != DEFAULT_TARGET:
            return
        missing = [t for t in RAW_TABLES if not any((self.raw_path / t).glob("*.parquet"))]
        if missing:
            raise _unavailable(
                f"no raw parquet files for {missing} under {self.raw_path}.",
                "land the feeds as <raw>/<table>/*.parquet, or write the sample with "
                "DBTIntegration(home=...).seed_sample().",
                raw_path=str(self.raw_path),
                missing=missing,
            )

    def _arguments(self, command: list[str]) -> list[str]:
        artifacts = self.artifacts_path
        args = [
            *command,
            "--project-dir",
            str(self.project_path),
            "--profiles-dir",
            str(self.profiles_path),
            "--target",
            self.target,
            "--target-path",
            str(artifacts / "target"),
            "--log-path",
            str(artifacts / "logs"),
            "--quiet",
            "--no-use-colors",
            "--no-send-anonymous-usage-stats",
        ]
        if self.vars:
            args += ["--vars", json.dumps(dict(self.vars))]
        if self.threads:
            args += ["--threads", str(int(self.threads))]
        return args

    def _invoke(self, command: list[str]) -> Any:
        """Run one dbt command in this process; the result object (``dbtRunnerResult.result``).

        Raises ``MMM_113`` when dbt or the project is missing and ``MMM_100`` when dbt stops
        before running nodes (a parse, compile or connection error).
        """
        try:
            from dbt.cli.main import dbtRunner
        except ImportError as exc:
            raise _unavailable(
                "dbt is not installed.",
                "install dbt-core 1.11 and an adapter: pip install -e '.[dbt]' (dbt-duckdb), "
                "plus dbt-athena-community for the athena target.",
            ) from exc
        project = self.project_path
        if not (project / "dbt_project.yml").is_file():
            raise _unavailable(
                f"no dbt project at {project} (dbt_project.yml is missing).",
                f"pass DBTIntegration(project_dir=...) or set {PROJECT_ENV} to the dbt/ folder.",
                project_dir=str(project),
            )
        (self.home_path / "curated").mkdir(parents=True, exist_ok=True)
        args = self._arguments(command)
        env = {
            HOME_ENV: str(self.home_path),
            "DO_NOT_TRACK": "1",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        }
        with _LOCK, _environment(env):
            try:
                outcome = dbtRunner().invoke(args)
            finally:
                _release_duckdb_file()
        if outcome.result is None or outcome.exception is not None:
            log = self.artifacts_path / "logs" / "dbt.log"
            raise DataIntegrationError(
                Codes.DATA_ERROR,
                f"dbt {' '.join(command)} stopped before running: {outcome.exception}",
                hint=f"fix the project or profile (target {self.target!r}); details in {log}.",
                details={"command": command, "target": self.target, "log": str(log)},
            )
        return outcome.result

    def _node_results(self, result: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """Models and tests of a run result, keyed by name."""
        models: dict[str, Any] = {}
        tests: dict[str, Any] = {}
        for item in getattr(result, "results", []):
            node = item.node
            kind = _status(node.resource_type)
            status = _status(item.status)
            if kind == "model":
                response = item.adapter_response or {}
                models[node.name] = {
                    "status": status,
                    "rows": response.get("rows_affected"),
                    "seconds": _seconds(item.execution_time),
                    "relation": node.relation_name,
                    "message": item.message if status == "error" else None,
                }
            elif kind == "test":
                metadata = getattr(node, "test_metadata", None)
                attached = getattr(node, "attached_node", None) or ""
                tests[node.name] = {
                    "status": status,
                    "passed": status == "pass",
                    "failing_rows": int(item.failures or 0),
                    "test": metadata.name if metadata is not None else "singular",
                    "model": attached.split(".")[-1] or None,
                    "column": getattr(node, "column_name", None),
                    "message": item.message if status != "pass" else None,
                    "seconds": _seconds(item.execution_time),
                }
        self._count_rows(models)
        return models, tests

    def _count_rows(self, models: dict[str, Any]) -> None:
        """Fill ``rows`` of the models built on the duckdb target by counting them."""
        built = {n: m for n, m in models.items() if m["status"] == "success" and m["relation"]}
        if self.target != DEFAULT_TARGET or not built or not self.database_path.exists():
            return
        import duckdb

        try:
            with duckdb.connect(str(self.database_path), read_only=True) as con:
                for entry in built.values():
                    row = con.execute(f"select count(*) from {entry['relation']}").fetchone()
                    entry["rows"] = int(row[0]) if row else None
        except duckdb.Error:  # counts are informative; a locked file leaves them None
            return

    def _freshness(self) -> dict[str, Any]:
        """``dbt source freshness``: each source with a freshness rule, by ``source.table``."""
        result = self._invoke(["source", "freshness"])
        out: dict[str, Any] = {}
        for item in getattr(result, "results", []):
            node = item.node
            status = _status(item.status)
            age = getattr(item, "age", None)
            loaded = getattr(item, "max_loaded_at", None)
            out[f"{node.source_name}.{node.name}"] = {
                "status": status,
                "passed": status in ("pass", "warn"),
                "max_loaded_at": loaded.isoformat() if loaded is not None else None,
                "age_hours": round(age / 3600.0, 2) if age is not None else None,
                "message": getattr(item, "message", None) if status != "pass" else None,
            }
        return out

    def _report(
        self,
        started: float,
        *,
        models: dict[str, Any] | None = None,
        tests: dict[str, Any] | None = None,
        freshness: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        models, tests, freshness = models or {}, tests or {}, freshness or {}
        failing = [n for n, t in tests.items() if t["status"] in _FAILED_TESTS]
        errored = [n for n, m in models.items() if m["status"] == "error"]
        stale = [n for n, f in freshness.items() if f["status"] in _FAILED_FRESHNESS]
        summary = {
            "models": len(models),
            "errored_models": errored,
            "tests": len(tests),
            "passed": sum(t["status"] == "pass" for t in tests.values()),
            "warned": sum(t["status"] == "warn" for t in tests.values()),
            "failed": len(failing),
            "skipped": sum(t["status"] == "skipped" for t in tests.values()),
            "failing_tests": failing,
            "failing_rows": sum(tests[n]["failing_rows"] for n in failing),
            "stale_sources": stale,
        }
        report: dict[str, Any] = {
            "status": "failed" if failing or errored or stale else "success",
            "target": self.target,
            "home": str(self.home_path),
            "seconds": round(time.perf_counter() - started, 3),
        }
        if models:
            report["models"] = models
        if tests or freshness:
            report["tests"] = tests
            report["freshness"] = freshness
        report["summary"] = summary
        return report

    def _raise_on_failure(self, what: str, report: dict[str, Any]) -> None:
        if report["status"] != "failed":
            return
        summary = report["summary"]
        tests = report.get("tests", {})
        parts = []
        if summary["failing_tests"]:
            named = [_failure_label(n, tests[n]) for n in summary["failing_tests"]]
            more = len(named) - _MESSAGE_ITEMS
            listed = ", ".join(named[:_MESSAGE_ITEMS]) + (f" and {more} more" if more > 0 else "")
            plural = "test" if len(named) == 1 else "tests"
            parts.append(f"{len(named)} data-quality {plural} failed: {listed}")
        if summary["errored_models"]:
            parts.append(f"models failed: {', '.join(summary['errored_models'])}")
        if summary["stale_sources"]:
            ages = [
                f"{n} ({report['freshness'][n]['age_hours']} h old)"
                for n in summary["stale_sources"]
            ]
            parts.append(f"stale sources: {', '.join(ages)}")
        raise DataIntegrationError(
            Codes.DATA_ERROR,
            f"{what}: " + "; ".join(parts) + ".",
            hint="fix the raw feeds under "
            f"{self.raw_path} and rebuild; each test's SQL is in "
            f"{self.artifacts_path / 'target' / 'compiled'}, dbt's log in "
            f"{self.artifacts_path / 'logs' / 'dbt.log'}.",
            details={
                "failing_tests": summary["failing_tests"],
                "errored_models": summary["errored_models"],
                "stale_sources": summary["stale_sources"],
                "report": report,
            },
        )
