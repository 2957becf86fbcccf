"""The bring-your-own container's HTTP server: in-process WSGI calls, then a real socket."""

from __future__ import annotations

import io
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

import numpy as np
import pandas as pd
import pytest

from mmm_core import EconometricMMM
from sagemaker_jobs import serve
from tests.sagemaker_jobs import fit_small_model, request_rows


@pytest.fixture(scope="module")
def model_dir(
    tmp_path_factory: pytest.TempPathFactory,
    mmm_frame: pd.DataFrame,
    spend_columns: list[str],
    control_columns: list[str],
) -> Path:
    folder = tmp_path_factory.mktemp("model")
    fit_small_model(mmm_frame, spend_columns, control_columns).save(folder / "model.json")
    return folder


@pytest.fixture(scope="module")
def rows(mmm_frame: pd.DataFrame) -> pd.DataFrame:
    return request_rows(mmm_frame, rows=8)


def call(
    app: serve.ModelServer,
    method: str,
    path: str,
    body: bytes = b"",
    **headers: str,
) -> tuple[int, dict[str, str], bytes]:
    """One request through the WSGI interface, as a server would make it."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        **{k.upper(): v for k, v in headers.items()},
    }
    setup_testing_defaults(environ)
    seen: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]]) -> None:
        seen["status"] = int(status.split()[0])
        seen["headers"] = dict(response_headers)

    payload = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], payload


def test_ping_is_healthy_once_the_model_loads(model_dir: Path) -> None:
    status, headers, body = call(serve.create_app(model_dir), "GET", "/ping")

    assert status == 200 and headers["Content-Type"] == "application/json"
    doc = json.loads(body)
    assert doc["status"] == "healthy" and doc["target_column"] == "revenue"


def test_ping_is_503_with_the_reason_when_there_is_no_model(tmp_path: Path) -> None:
    status, _, body = call(serve.create_app(tmp_path), "GET", "/ping")

    assert status == 503
    assert json.loads(body)["error"]["code"] == "MMM_004"


def test_invocations_answer_json_and_csv(model_dir: Path, rows: pd.DataFrame) -> None:
    app = serve.create_app(model_dir)
    expected = EconometricMMM.load(model_dir).predict(rows)

    status, headers, body = call(
        app,
        "POST",
        "/invocations",
        json.dumps({"instances": rows.to_dict("records")}).encode(),
        CONTENT_TYPE="application/json",
    )
    assert (status, headers["Content-Type"]) == (200, "application/json")
    np.testing.assert_allclose(json.loads(body)["predictions"], expected)

    status, headers, body = call(
        app,
        "POST",
        "/invocations",
        rows.to_csv(index=False).encode(),
        CONTENT_TYPE="text/csv",
        HTTP_ACCEPT="text/csv",
        HTTP_X_AMZN_SAGEMAKER_CUSTOM_ATTRIBUTES="decompose=true",
    )
    assert (status, headers["Content-Type"]) == (200, "text/csv")
    assert body.decode().splitlines()[0].startswith("prediction,baseline,")


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/nowhere", 404), ("GET", "/invocations", 405), ("POST", "/ping", 405)],
)
def test_unknown_routes_and_methods_get_error_json(
    model_dir: Path, method: str, path: str, status: int
) -> None:
    got, _, body = call(serve.create_app(model_dir), method, path)

    assert got == status
    assert set(json.loads(body)["error"]) == {"type", "message", "code", "timestamp"}


def test_a_body_over_the_limit_is_refused_before_it_is_read(model_dir: Path) -> None:
    app = serve.create_app(model_dir)
    environ_length = str(serve.MAX_BODY_BYTES + 1)

    status, _, body = call(app, "POST", "/invocations", CONTENT_LENGTH=environ_length)

    assert status == 413 and b"fewer rows" in body


@pytest.fixture
def running_server(model_dir: Path) -> Iterator[str]:
    server = serve.make_app_server("127.0.0.1", 0, serve.create_app(model_dir))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert not thread.is_alive()


def test_a_real_server_on_loopback_answers_ping_and_invocations(
    running_server: str, rows: pd.DataFrame, model_dir: Path
) -> None:
    with urllib.request.urlopen(f"{running_server}/ping", timeout=10) as response:
        assert response.status == 200

    request = urllib.request.Request(
        f"{running_server}/invocations",
        data=rows.to_csv(index=False).encode(),
        headers={"Content-Type": "text/csv", "Accept": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        doc = json.loads(response.read())
    expected = EconometricMMM.load(model_dir).predict(rows)
    np.testing.assert_allclose(doc["predictions"], expected)

    bad = urllib.request.Request(
        f"{running_server}/invocations",
        data=b"{oops",
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(bad, timeout=10)
    assert err.value.code == 400
    assert json.loads(err.value.read())["error"]["code"] == "MMM_100"
