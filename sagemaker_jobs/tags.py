"""The tags the platform puts on SageMaker resources: a contract between the deployment tool
(:mod:`sagemaker_jobs.deployment`) and the retraining pipeline's state machine
(``cdk/ml.py``), which import them from here without loading the science stack."""

__all__ = ["MODEL_NAME_TAG", "PREVIOUS_CONFIG_TAG"]

#: On an endpoint: the configuration it served before its last switch (what ``rollback()``
#: switches back to).
PREVIOUS_CONFIG_TAG = "mmm:previous-endpoint-config"
#: On an endpoint configuration: the model it serves.
MODEL_NAME_TAG = "mmm:model-name"
