"""The retraining pipeline's Step Functions tasks: validate, evaluate, promote, report.

Each module holds a plain function (``state -> result``, JSON in and out) and its Lambda
entry point ``handler(event, context)`` (``lambdas.pipeline.<task>.handler``, the command of
each task function in ``cdk/pipeline.py``). Training itself runs on SageMaker
(``sagemaker_jobs/train.py``). Payloads, environment variables and a by-hand run are in
``lambdas/pipeline/README.md``.
"""

TASKS = ("validate", "evaluate", "promote", "report")

__all__ = ["TASKS"]
