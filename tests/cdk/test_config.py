"""The typed reader of cdk.json context: defaults valid, command-line text coerced, errors named."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from cdk.config import ConfigError, PlatformConfig

CDK_JSON = Path(__file__).resolve().parents[2] / "cdk.json"


def _context(**overrides: Any) -> dict[str, Any]:
    context = json.loads(CDK_JSON.read_text())["context"]
    context.update(overrides)
    return context


def _read(**overrides: Any) -> PlatformConfig:
    return PlatformConfig.from_context(_context(**overrides).get)


def test_cdk_json_defaults_are_valid_and_name_no_account_or_region() -> None:
    config = _read()
    assert config.stage == "prod"
    assert config.schedule.startswith("cron(")
    assert config.markets and config.endpoint.mode == "serverless"
    assert config.alarm_email is None  # "" means no subscription
    context = json.loads(CDK_JSON.read_text())
    assert context["app"] == "python3 app.py"
    text = CDK_JSON.read_text()
    assert not re.search(r"\b\d{12}\b", text)  # no account id
    assert not re.search(r"\b[a-z]{2}(-gov)?-[a-z]+-\d\b", text)  # no region


def test_cdk_json_carries_the_feature_flags_of_aws_cdk_lib_2() -> None:
    flags = [key for key in _context() if key.startswith("@aws-cdk")]
    assert len(flags) > 50
    assert _context()["@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"] is True


def test_command_line_text_is_coerced() -> None:
    config = _read(
        markets="us, uk,br",
        max_parallel_trainings="4",
        schedule_enabled="false",
        serverless_memory_mb="2048",
        alarm_email="ops@example.com",
    )
    assert config.markets == ("us", "uk", "br")
    assert config.max_parallel_trainings == 4
    assert config.schedule_enabled is False
    assert config.endpoint.serverless_memory_mb == 2048
    assert config.alarm_email == "ops@example.com"
    assert _read(markets='["fr", "it"]').markets == ("fr", "it")


def test_instance_type_loses_its_ml_prefix_for_the_training_task() -> None:
    assert _read(training_instance_type="ml.c5.2xlarge").training_instance_family == "c5.2xlarge"


def test_every_invalid_setting_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as raised:
        _read(
            stage="Prod!",
            schedule="every monday",
            markets=["us", "US_East", "us"],
            serverless_memory_mb=1500,
            training_instance_type="m5.large",
            log_retention_days=42,
            api_throttle_rate="fast",
        )
    message = str(raised.value)
    for key in (
        "stage",
        "schedule",
        "markets",
        "serverless_memory_mb",
        "training_instance_type",
        "log_retention_days",
        "api_throttle_rate",
    ):
        assert f"{key}:" in message


def test_missing_settings_are_named() -> None:
    context = _context()
    del context["markets"], context["stage"]
    with pytest.raises(ConfigError, match=r"markets: missing") as raised:
        PlatformConfig.from_context(context.get)
    assert "stage: missing" in str(raised.value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("markets", []),
        ("markets", "[not json"),
        ("markets", ["a" * 21]),
        ("endpoint_mode", "gpu"),
        ("max_parallel_trainings", 0),
        ("schedule_enabled", "maybe"),
        ("alarm_email", "not-an-address"),
    ],
)
def test_bad_values_are_refused(key: str, value: Any) -> None:
    with pytest.raises(ConfigError, match=key):
        _read(**{key: value})


def test_rate_and_cron_schedules_are_accepted() -> None:
    assert _read(schedule="rate(7 days)").schedule == "rate(7 days)"
    assert _read(schedule="cron(30 2 ? * SUN *)").schedule == "cron(30 2 ? * SUN *)"
