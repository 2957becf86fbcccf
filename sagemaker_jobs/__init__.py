"""SageMaker adapters running :mod:`mmm_core`: training, serving and deployment.

- :mod:`sagemaker_jobs.train` — the training container's entry point
  (``python -m sagemaker_jobs.train``): hyperparameters and data in, ``model.json`` and
  ``metrics.json`` out, ``/opt/ml/output/failure`` when it fails.
- :mod:`sagemaker_jobs.inference` — ``model_fn`` / ``input_fn`` / ``predict_fn`` / ``output_fn``.
- :mod:`sagemaker_jobs.serve` — ``GET /ping`` and ``POST /invocations`` on port 8080
  (``python -m sagemaker_jobs.serve``) for a bring-your-own container.
- :mod:`sagemaker_jobs.deployment` — :class:`MMMSageMakerDeployment` (boto3): artifacts to S3,
  models and endpoints, update and rollback, training jobs.
- :mod:`sagemaker_jobs.tags` — the tags on SageMaker resources shared with the pipeline.

Nothing here holds science: every number comes from :mod:`mmm_core`. Submodules are imported
on demand, so importing this package costs nothing.
"""

__all__ = ["deployment", "inference", "paths", "serve", "tags", "train"]
