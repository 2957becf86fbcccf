"""The platform's HTTP API: FastAPI routers over :mod:`mmm_core`, served by uvicorn locally and
by Lambda (Mangum) in AWS.

- :mod:`lambdas.api.main` builds the app (``create_app(settings)``; ``app`` for uvicorn);
- :mod:`lambdas.api.handler` is the Lambda entry point (``handler = Mangum(app)``);
- :mod:`lambdas.api.config` reads every setting from the environment, in one place;
- :mod:`lambdas.api.routes` holds one router per concern, :mod:`lambdas.api.schemas` their
  request and response bodies.

Nothing here imports the science stack (numpy, pandas, scipy) at import time: a route imports
what it uses when it is first called, so the Lambda's cold start stays short.
"""
