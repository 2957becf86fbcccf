"""The Lambda entry point: ``lambdas.api.handler.handler`` (API Gateway REST or HTTP API).

Importing this module must stay fast (the cold start): it loads FastAPI, Mangum and the API's
own modules, never the science stack, which routes import when first called
(``bench/bench_api.py`` measures it). Lifespan events are off: a Lambda invocation is not a
server's life, and the app needs no startup work.
"""

from __future__ import annotations

from mangum import Mangum

from lambdas.api.main import app

__all__ = ["handler"]

handler = Mangum(app, lifespan="off")
