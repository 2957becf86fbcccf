"""``mmm dbt``: the data layer under the home: seed the sample, build the models, run the tests."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from mmm_core.cli.options import add_home
from mmm_core.cli.store import resolve_home
from mmm_core.cli.tables import format_table, progress

__all__ = ["add_parser", "run_dbt"]


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add ``dbt`` to the subparsers ``sub``."""
    p = sub.add_parser(
        "dbt",
        help="seed, build and test the dbt data layer of the home",
        description="The dbt project (dbt/) on DuckDB under <home>/curated: 'seed' writes a "
        "generated raw sample (daily spend per market and channel, sales, journeys; the "
        "generator's known truth) into <home>/raw, 'build' builds the staging views, the "
        "weekly modelling table and the SQL attribution marts and runs every data test, "
        "'test' runs the data tests alone. Failing tests are named and exit with status 2. "
        "Then 'mmm fit --from-dbt --market <m>' fits on the modelling table.",
    )
    p.add_argument("action", choices=("seed", "build", "test"), help="what to do")
    p.add_argument("--dirty", action="store_true", help="seed: plant data problems on purpose")
    p.add_argument("--seed", type=int, default=0, help="seed: random seed (default 0)")
    add_home(p)
    p.set_defaults(command="dbt")
    return p


def run_dbt(args: argparse.Namespace, out: TextIO) -> int:
    """``mmm dbt seed|build|test``."""
    from mmm_core.dbt_integration import DBTIntegration

    home = resolve_home(args.home)
    dbt = DBTIntegration(home=str(home))
    if args.action == "seed":
        progress(f"writing the raw sample to {home / 'raw'}…")
        written = dbt.seed_sample(home, seed=args.seed, dirty=args.dirty)
        print(f"raw sample written under {home / 'raw'}", file=out)
        for key, value in written.items():
            if isinstance(value, int | float | str):
                print(f"  {key}: {value}", file=out)
        return 0
    if args.action == "build":
        progress("running dbt build (models, then their data tests)…")
        report = dbt.build()
        rows = [
            [name, model.get("status", ""), str(model.get("rows", ""))]
            for name, model in report.get("models", {}).items()
        ]
        print(format_table(["model", "status", "rows"], rows), file=out)
    else:
        progress("running the data tests…")
        report = dbt.run_data_quality_tests()
    print(_summary(report.get("summary") or {}), file=out)
    return 0


def _summary(summary: dict[str, Any]) -> str:
    """``62 data tests: 62 passed, 0 warned, 0 failed (7 models)``."""
    parts = [f"{summary.get(k, 0)} {k}" for k in ("passed", "warned", "failed", "skipped")]
    text = f"{summary.get('tests', 0)} data tests: {', '.join(parts)}"
    if "models" in summary:
        text += f" ({summary['models']} models)"
    return text
