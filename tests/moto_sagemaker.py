"""What moto's SageMaker lacks, emulated inside moto for the tests that need it.

moto 5.2 has no ``UpdateEndpoint`` (it raises ``NotImplementedError``). :func:`emulate_updates`
adds it to moto's SageMaker, so boto3 calls and Step Functions' ``aws-sdk:sagemaker`` tasks
executed by moto both reach it.
"""

from __future__ import annotations

from typing import Any

import pytest
from moto.core.responses import ActionResult
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.responses import SageMakerResponse


def _update(self: SageMakerResponse, roll_back: bool) -> ActionResult:
    backend = self.sagemaker_backend
    name = self._get_param("EndpointName")
    if name not in backend.endpoints:
        raise ValidationError(message=f"Could not find endpoint '{name}'.")
    config = backend.describe_endpoint_config(self._get_param("EndpointConfigName"))
    endpoint = backend.endpoints[name]
    if not roll_back:
        endpoint.endpoint_config_name = config["EndpointConfigName"]
        endpoint.production_variants = endpoint._process_production_variants(
            config["ProductionVariants"]
        )
    return ActionResult({"EndpointArn": endpoint.arn})


def emulate_updates(monkeypatch: pytest.MonkeyPatch, *, roll_back: bool = False) -> None:
    """Give moto ``UpdateEndpoint`` as SageMaker does it, minus the minutes of 'Updating'.

    ``roll_back=True``: every update fails and SageMaker rolls it back, so the endpoint is
    ``InService`` on the configuration it had.
    """

    def update_endpoint(self: SageMakerResponse) -> Any:
        return _update(self, roll_back)

    monkeypatch.setattr(SageMakerResponse, "update_endpoint", update_endpoint, raising=False)
