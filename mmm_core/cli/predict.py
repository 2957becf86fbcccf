"""``mmm predict``: predictions of a saved model and their decomposition, as CSV."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from mmm_core.cli.options import add_home, add_model
from mmm_core.cli.store import load_model, read_table, write_atomic
from mmm_core.cli.tables import progress

__all__ = ["add_parser", "run_predict"]


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add ``predict`` to the subparsers ``sub``."""
    p = sub.add_parser(
        "predict",
        help="predict the target with a saved model",
        description="Load a model saved by 'mmm fit' or 'mmm demo' and write, per row of the "
        "data, the predicted target and its decomposition (baseline, each control, each "
        "channel) as CSV, in the target's units per period. The data need the model's spend "
        "and control columns; adstock starts from zero spend before the first row. Rows come "
        "out in the input file's order.",
    )
    add_model(p)
    p.add_argument("--data", required=True, metavar="FILE", help="a .csv or .parquet file")
    p.add_argument("--output", metavar="FILE", help="CSV to write (default: stdout)")
    add_home(p)
    p.set_defaults(command="predict")
    return p


def run_predict(args: argparse.Namespace, out: TextIO) -> int:
    """``mmm predict``: predictions and their decomposition, as CSV."""
    model, _ = load_model(args.model, args.home)
    data = read_table(args.data)
    progress(f"predicting {len(data)} rows…")
    parts = model.decompose(data)
    parts.insert(0, f"predicted_{model.target_column_}", parts.sum(axis=1))
    dated = isinstance(parts.index, pd.DatetimeIndex)
    parts.index.name = model.date_column_ if dated else parts.index.name
    text = parts.to_csv(index=dated)
    if args.output:
        write_atomic(Path(args.output), text)
        progress(f"wrote {len(parts)} predictions to {args.output}")
    else:
        out.write(text)
    return 0
