"""The API's one logger: Powertools' structured JSON, with the request id on every line.

Every record is one JSON object (``level``, ``location``, ``message``, ``timestamp``,
``service``, and the keys bound to the request). :func:`request_context` binds ``request_id``
(and the Lambda request id in AWS) in a context variable, so concurrent requests under uvicorn
never mix their keys, and sync routes running in the thread pool inherit them.

What is logged: method, route, status, duration, error codes and server-side tracebacks. What
is never logged: request or response bodies, headers (the API key), query strings, error
messages of client errors (they may quote the client's data).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aws_lambda_powertools import Logger

__all__ = ["logger", "request_context"]

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME") or "mmm-api")


@contextmanager
def request_context(**keys: Any) -> Iterator[None]:
    """Bind ``keys`` (``request_id``...) to every record logged inside the block."""
    previous = dict(logger.thread_safe_get_current_keys())
    logger.thread_safe_append_keys(**keys)
    try:
        yield
    finally:
        logger.thread_safe_clear_keys()
        if previous:
            logger.thread_safe_append_keys(**previous)
