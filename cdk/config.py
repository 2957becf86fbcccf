"""The CDK app's settings: typed, validated, read from ``cdk.json`` context.

Every setting lives in the ``context`` block of ``cdk.json``; ``cdk synth -c key=value`` (or
``App(context=...)``) overrides any of them. Values given on the command line arrive as text,
so numbers, booleans and lists are also accepted in their text form (``-c markets=us,uk`` or
``-c markets='["us","uk"]'``, ``-c schedule_enabled=false``).

Nothing here is account- or region-specific: stacks are environment-agnostic unless
``CDK_DEFAULT_ACCOUNT`` / ``CDK_DEFAULT_REGION`` are set by the CDK CLI.

All problems are reported together in one :class:`ConfigError`, each naming its key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "LOG_RETENTION_DAYS",
    "ConfigError",
    "EndpointSettings",
    "PlatformConfig",
]

#: The retention periods CloudWatch Logs accepts, in days.
LOG_RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557}
    | {2922, 3288, 3653}
)

_STAGE = re.compile(r"^[a-z][a-z0-9-]{0,15}$")
# Market names go into SageMaker training job names (`mmm-<market>-<uuid>`, 63 characters at
# most) and S3 prefixes: lower-case letters and digits, single hyphens inside, 20 at most.
_MARKET = re.compile(r"^[a-z0-9](?:-?[a-z0-9]){0,19}$")
_SCHEDULE = re.compile(r"^(cron\(([^()\s]+\s){5}[^()\s]+\)|rate\(\d+ (minute|hour|day)s?\))$")
_ML_INSTANCE = re.compile(r"^ml\.[a-z0-9]+\.[a-z0-9]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SERVERLESS_MEMORY = (1024, 2048, 3072, 4096, 5120, 6144)


class ConfigError(ValueError):
    """The ``cdk.json`` context is missing a setting or holds an invalid one."""


@dataclass(frozen=True)
class EndpointSettings:
    """How the SageMaker endpoint runs: serverless (default) or on instances."""

    mode: Literal["serverless", "instances"]
    serverless_memory_mb: int
    serverless_max_concurrency: int
    instance_type: str
    instance_count: int


@dataclass(frozen=True)
class PlatformConfig:
    """Every setting of the app, validated (see ``cdk/README.md`` for each one's meaning)."""

    stage: str
    schedule: str
    schedule_enabled: bool
    markets: tuple[str, ...]
    max_parallel_trainings: int
    training_instance_type: str
    training_volume_gb: int
    training_max_runtime_minutes: int
    endpoint: EndpointSettings
    api_memory_mb: int
    api_throttle_rate: int
    api_throttle_burst: int
    log_retention_days: int
    alarm_email: str | None = field(default=None)

    @classmethod
    def from_context(cls, lookup: Callable[[str], Any]) -> PlatformConfig:
        """Read and validate every setting.

        Parameters
        ----------
        lookup : callable
            ``key -> value or None``, e.g. ``app.node.try_get_context``.

        Returns
        -------
        PlatformConfig

        Raises
        ------
        ConfigError
            Listing every missing or invalid setting.
        """
        reader = _Reader(lookup)
        endpoint = EndpointSettings(
            mode=reader.choice("endpoint_mode", ("serverless", "instances")),  # type: ignore[arg-type]
            serverless_memory_mb=reader.integer("serverless_memory_mb", 1024, 6144),
            serverless_max_concurrency=reader.integer("serverless_max_concurrency", 1, 200),
            instance_type=reader.text("endpoint_instance_type", _ML_INSTANCE, "like ml.m5.large"),
            instance_count=reader.integer("endpoint_instance_count", 1, 10),
        )
        if endpoint.serverless_memory_mb not in _SERVERLESS_MEMORY and reader.has(
            "serverless_memory_mb"
        ):
            reader.problem("serverless_memory_mb", f"must be one of {_SERVERLESS_MEMORY}")
        retention = reader.integer("log_retention_days", 1, 3653)
        if retention not in LOG_RETENTION_DAYS and reader.has("log_retention_days"):
            reader.problem("log_retention_days", f"must be one of {sorted(LOG_RETENTION_DAYS)}")
        throttle_rate = reader.integer("api_throttle_rate", 1, 10_000)
        throttle_burst = reader.integer("api_throttle_burst", 1, 5_000)
        config = cls(
            stage=reader.text("stage", _STAGE, "lower-case letters, digits and '-', 16 at most"),
            schedule=reader.text(
                "schedule",
                _SCHEDULE,
                "an EventBridge expression: cron(min hour day month weekday year) or rate(N unit)",
            ),
            schedule_enabled=reader.boolean("schedule_enabled"),
            markets=reader.markets("markets"),
            max_parallel_trainings=reader.integer("max_parallel_trainings", 1, 40),
            training_instance_type=reader.text(
                "training_instance_type", _ML_INSTANCE, "like ml.m5.xlarge"
            ),
            training_volume_gb=reader.integer("training_volume_gb", 1, 1024),
            training_max_runtime_minutes=reader.integer("training_max_runtime_minutes", 5, 1440),
            endpoint=endpoint,
            api_memory_mb=reader.integer("api_memory_mb", 512, 10_240),
            api_throttle_rate=throttle_rate,
            api_throttle_burst=throttle_burst,
            log_retention_days=retention,
            alarm_email=reader.optional_text("alarm_email", _EMAIL, "an e-mail address"),
        )
        reader.raise_if_any()
        return config

    @property
    def training_instance_family(self) -> str:
        """``training_instance_type`` without its ``ml.`` prefix (what CDK's tasks expect)."""
        return self.training_instance_type.removeprefix("ml.")


class _Reader:
    """Reads context values, coerces text from the command line, collects problems."""

    def __init__(self, lookup: Callable[[str], Any]) -> None:
        self._lookup = lookup
        self._problems: list[str] = []

    def has(self, key: str) -> bool:
        return self._lookup(key) not in (None, "")

    def problem(self, key: str, message: str) -> None:
        self._problems.append(f"{key}: {message}")

    def raise_if_any(self) -> None:
        if self._problems:
            lines = "\n  ".join(self._problems)
            raise ConfigError(f"invalid cdk.json context (or -c overrides):\n  {lines}")

    def _required(self, key: str) -> Any:
        value = self._lookup(key)
        if value is None or value == "":
            self.problem(key, "missing")
        return value

    def text(self, key: str, pattern: re.Pattern[str], hint: str) -> str:
        value = self._required(key)
        if value is None or value == "":
            return ""
        if not isinstance(value, str) or not pattern.fullmatch(value.strip()):
            self.problem(key, f"{value!r} is not valid ({hint})")
            return str(value)
        return value.strip()

    def optional_text(self, key: str, pattern: re.Pattern[str], hint: str) -> str | None:
        return self.text(key, pattern, hint) if self.has(key) else None

    def choice(self, key: str, options: tuple[str, ...]) -> str:
        value = self._required(key)
        if value is not None and value not in options:
            self.problem(key, f"{value!r} is not one of {options}")
        return str(value)

    def integer(self, key: str, low: int, high: int) -> int:
        value = self._required(key)
        if value is None or value == "":
            return low
        try:
            number = int(value) if not isinstance(value, bool) else None
        except (TypeError, ValueError):
            number = None
        if number is None or (isinstance(value, float) and value != number):
            self.problem(key, f"{value!r} is not a whole number")
            return low
        if not low <= number <= high:
            self.problem(key, f"{number} is outside [{low}, {high}]")
        return number

    def boolean(self, key: str) -> bool:
        value = self._required(key)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        if value is not None and value != "":
            self.problem(key, f"{value!r} is not true or false")
        return False

    def markets(self, key: str) -> tuple[str, ...]:
        value = self._required(key)
        if value is None or value == "":
            return ()
        if isinstance(value, str):
            text = value.strip()
            try:
                value = json.loads(text) if text.startswith("[") else text.split(",")
            except json.JSONDecodeError:
                self.problem(key, f"{text!r} is not a JSON list")
                return ()
        if not isinstance(value, list | tuple) or not value:
            self.problem(key, "must be a non-empty list of market names")
            return ()
        names = tuple(str(name).strip() for name in value)
        bad = [name for name in names if not _MARKET.fullmatch(name)]
        if bad:
            self.problem(
                key,
                f"{bad} are not valid market names (lower-case letters, digits, single '-', "
                "20 characters at most)",
            )
        if len(set(names)) != len(names):
            self.problem(key, "names must be unique")
        return names
