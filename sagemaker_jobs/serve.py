"""The serving container's HTTP server: ``python -m sagemaker_jobs.serve``.

SageMaker's contract for a bring-your-own inference image: answer ``GET /ping`` with 200 when
ready and ``POST /invocations`` with predictions, on port 8080, the model extracted to
``/opt/ml/model``. This is a plain WSGI application (:class:`ModelServer`) over
:mod:`sagemaker_jobs.inference`, run by the standard library's threaded WSGI server -- no web
framework, so the image stays small. Any WSGI server (gunicorn...) can run
``sagemaker_jobs.serve:create_app()`` instead.

- ``GET /ping``: 200 ``{"status": "healthy", ...}`` once the model loads; 503 with the error JSON
  when it does not (SageMaker then fails the deployment, and the log says why).
- ``POST /invocations``: see :mod:`sagemaker_jobs.inference` for bodies and errors; bodies over
  :data:`MAX_BODY_BYTES` get 413.

Environment: ``SM_MODEL_DIR`` (default ``/opt/ml/model``) and ``SAGEMAKER_BIND_TO_PORT``
(default 8080).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from mmm_core.errors import Codes, MMModelError
from mmm_core.models.econometric_mmm import EconometricMMM
from sagemaker_jobs import inference
from sagemaker_jobs.paths import SageMakerPaths

__all__ = ["DEFAULT_PORT", "MAX_BODY_BYTES", "ModelServer", "create_app", "main", "make_app_server"]

DEFAULT_PORT = 8080
#: Larger than SageMaker's own limits (6 MB real-time, 4 MB serverless), so they decide first.
MAX_BODY_BYTES = 8 * 1024 * 1024

StartResponse = Callable[..., Any]


class ModelServer:
    """WSGI application serving one model; the model is loaded on first use, once.

    Parameters
    ----------
    model_dir : str or Path, optional
        Folder holding ``model.json`` (default ``SM_MODEL_DIR``, else ``/opt/ml/model``).
    model : EconometricMMM, optional
        A model already in memory (tests); ``model_dir`` is then not read.
    """

    def __init__(
        self, model_dir: str | os.PathLike[str] | None = None, model: EconometricMMM | None = None
    ) -> None:
        self.model_dir = Path(model_dir) if model_dir else SageMakerPaths.from_env().model_dir
        self._model = model
        self._lock = threading.Lock()

    def model(self) -> EconometricMMM:
        """The model, loaded at the first call (raises the load error each time it fails)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = inference.model_fn(str(self.model_dir))
        return self._model

    # -- WSGI --------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "/") or "/"
        routes = {"/ping": ("GET", self._ping), "/invocations": ("POST", self._invocations)}
        if path not in routes:
            status, body, media = _error(
                404, f"no route {path!r}.", "use GET /ping or POST /invocations."
            )
        elif method != routes[path][0] and not (path == "/ping" and method == "HEAD"):
            status, body, media = _error(
                405, f"{method} is not allowed on {path}.", f"use {routes[path][0]} {path}."
            )
        else:
            status, body, media = routes[path][1](environ)
        payload = body.encode("utf-8")
        start_response(
            f"{status} {_REASONS.get(status, 'Error')}",
            [("Content-Type", media), ("Content-Length", str(len(payload)))],
        )
        return [b""] if method == "HEAD" else [payload]

    def _ping(self, environ: dict[str, Any]) -> tuple[int, str, str]:
        try:
            model = self.model()
        except Exception as exc:  # not ready: SageMaker must see 503, not a crash
            _, body, media = inference.error_response(exc)
            return 503, body, media
        doc = {
            "status": "healthy",
            "target_column": model.target_column_,
            "spend_columns": list(model.spend_columns_),
            "control_columns": list(model.control_columns_),
        }
        return 200, json.dumps(doc), inference.JSON

    def _invocations(self, environ: dict[str, Any]) -> tuple[int, str, str]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _error(400, "the Content-Length header is not a number.", "send a valid one.")
        if length > MAX_BODY_BYTES:
            return _error(
                413,
                f"the body has {length} bytes; the most is {MAX_BODY_BYTES}.",
                "send fewer rows per request, or use a batch transform job.",
            )
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        try:
            model = self.model()
        except Exception as exc:
            return inference.error_response(exc)
        return inference.invoke(
            model,
            body,
            environ.get("CONTENT_TYPE") or inference.JSON,
            environ.get("HTTP_ACCEPT"),
            environ.get("HTTP_X_AMZN_SAGEMAKER_CUSTOM_ATTRIBUTES"),
        )


_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def _error(status: int, message: str, hint: str) -> tuple[int, str, str]:
    body = MMModelError(Codes.DATA_ERROR, message, hint=hint).to_dict()
    body["type"] = "RequestError"
    return status, json.dumps({"error": body}), inference.JSON


def create_app(
    model_dir: str | os.PathLike[str] | None = None, model: EconometricMMM | None = None
) -> ModelServer:
    """The WSGI application (``gunicorn 'sagemaker_jobs.serve:create_app()'`` works too)."""
    return ModelServer(model_dir, model)


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    """One log line per request, without the health checks SageMaker sends every few seconds."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self.path != "/ping" or str(code) != "200":
            super().log_request(code, size)


def make_app_server(
    host: str = "0.0.0.0", port: int = DEFAULT_PORT, app: ModelServer | None = None
) -> WSGIServer:
    """A threaded server for ``app`` bound to ``host:port`` (port 0: any free port).

    Call ``serve_forever()`` to run it, ``shutdown()`` from another thread to stop it, then
    ``server_close()``.
    """
    return make_server(
        host,
        port,
        app or create_app(),
        server_class=_ThreadingWSGIServer,
        handler_class=_QuietHandler,
    )


def main() -> int:
    """Serve on ``0.0.0.0:$SAGEMAKER_BIND_TO_PORT`` (8080) until interrupted."""
    port = int(os.environ.get("SAGEMAKER_BIND_TO_PORT") or DEFAULT_PORT)
    app = create_app()
    try:
        model = app.model()
        print(
            f"mmm-serve: model {model.target_column_} ~ {model.spend_columns_} "
            f"from {app.model_dir}",
            flush=True,
        )
    except MMModelError as exc:  # keep serving: /ping answers 503 with the reason
        print(f"mmm-serve: the model does not load: {exc}", file=sys.stderr, flush=True)
    server = make_app_server("0.0.0.0", port, app)
    print(f"mmm-serve: listening on 0.0.0.0:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
