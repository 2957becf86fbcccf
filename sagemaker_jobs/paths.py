"""The SageMaker container layout (``/opt/ml``), each folder movable by an environment variable.

SageMaker mounts a training job's inputs and collects its outputs at fixed places; the
sagemaker-training toolkit exports the same places as ``SM_*`` variables. We read those
variables when set, so tests (and local runs) point everything at a temporary directory:

- ``SM_MODEL_DIR`` (``/opt/ml/model``): the model, uploaded as ``model.tar.gz``; also where
  the server reads it;
- ``SM_CHANNEL_TRAINING`` (``/opt/ml/input/data/training``): the ``training`` channel's files;
- ``SM_INPUT_CONFIG_DIR`` (``/opt/ml/input/config``): ``hyperparameters.json``;
- ``SM_OUTPUT_DIR`` (``/opt/ml/output``): ``failure``, why a job failed;
- ``SM_OUTPUT_DATA_DIR`` (``$SM_OUTPUT_DIR/data``): extra outputs, uploaded as
  ``output.tar.gz``.

Examples
--------
>>> paths = SageMakerPaths.from_env({"SM_MODEL_DIR": "/tmp/ml/model"})
>>> str(paths.model_dir), str(paths.failure_file)
('/tmp/ml/model', '/opt/ml/output/failure')
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ML_ROOT", "SageMakerPaths"]

ML_ROOT = Path("/opt/ml")


@dataclass(frozen=True)
class SageMakerPaths:
    """Where a training or serving container reads and writes.

    Attributes
    ----------
    model_dir : Path
        The model folder (``model.json``, ``results.json``, ``metrics.json``).
    training_channel : Path
        The ``training`` input channel (CSV or parquet files).
    input_config_dir : Path
        Holds ``hyperparameters.json`` (and SageMaker's other job configuration).
    output_dir : Path
        Holds ``failure``; SageMaker reports its text as the job's ``FailureReason``.
    output_data_dir : Path
        Extra outputs, uploaded as ``output.tar.gz`` beside the model.
    """

    model_dir: Path
    training_channel: Path
    input_config_dir: Path
    output_dir: Path
    output_data_dir: Path

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SageMakerPaths:
        """The layout from ``environ`` (default ``os.environ``), ``/opt/ml`` where unset."""
        env = os.environ if environ is None else environ

        def pick(name: str, default: Path) -> Path:
            value = env.get(name)
            return Path(value) if value else default

        output_dir = pick("SM_OUTPUT_DIR", ML_ROOT / "output")
        return cls(
            model_dir=pick("SM_MODEL_DIR", ML_ROOT / "model"),
            training_channel=pick("SM_CHANNEL_TRAINING", ML_ROOT / "input" / "data" / "training"),
            input_config_dir=pick("SM_INPUT_CONFIG_DIR", ML_ROOT / "input" / "config"),
            output_dir=output_dir,
            output_data_dir=pick("SM_OUTPUT_DATA_DIR", output_dir / "data"),
        )

    @classmethod
    def under(cls, root: str | os.PathLike[str]) -> SageMakerPaths:
        """The ``/opt/ml`` layout rebuilt under ``root`` (for tests and local runs)."""
        base = Path(root)
        return cls(
            model_dir=base / "model",
            training_channel=base / "input" / "data" / "training",
            input_config_dir=base / "input" / "config",
            output_dir=base / "output",
            output_data_dir=base / "output" / "data",
        )

    @property
    def hyperparameters_file(self) -> Path:
        """``<input_config_dir>/hyperparameters.json``: every value a string."""
        return self.input_config_dir / "hyperparameters.json"

    @property
    def failure_file(self) -> Path:
        """``<output_dir>/failure``: one paragraph saying why the job failed."""
        return self.output_dir / "failure"

    def as_env(self) -> dict[str, str]:
        """The ``SM_*`` variables that point a container at this layout."""
        return {
            "SM_MODEL_DIR": str(self.model_dir),
            "SM_CHANNEL_TRAINING": str(self.training_channel),
            "SM_INPUT_CONFIG_DIR": str(self.input_config_dir),
            "SM_OUTPUT_DIR": str(self.output_dir),
            "SM_OUTPUT_DATA_DIR": str(self.output_data_dir),
        }
