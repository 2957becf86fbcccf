"""The retraining pipeline's Step Functions tasks: validate, evaluate, promote, report.

Each task module holds a plain function (``state -> result``, JSON in and out) and its Lambda
entry point ``handler(event, context)`` (``lambdas.pipeline.<task>.handler``, the command of
each task function in ``cdk/pipeline.py``); the code they share is in ``common`` (settings,
state helpers, the handler wrapper), ``data`` (the curated table), ``artifacts`` (the training
job's ``model.tar.gz``) and ``uris``. Training itself runs on SageMaker
(``sagemaker_jobs/train.py``). Payloads, environment variables and a by-hand run are in
``lambdas/pipeline/README.md``.
"""

TASKS = ("validate", "evaluate", "promote", "report")

__all__ = ["TASKS"]
