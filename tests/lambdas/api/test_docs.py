"""/docs: every operation documents its errors, and every example it shows works as shown."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.lambdas.api.conftest import MODEL_ID, wait_for_training

EXAMPLE_PATH = {"model_id": MODEL_ID}


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[-1]
        return schema["components"]["schemas"][name]
    return node


def _examples(schema: dict[str, Any], operation: dict[str, Any]) -> list[tuple[str, Any]]:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    named = [(name, ex["value"]) for name, ex in content.get("examples", {}).items()]
    if named:
        return named
    body_schema = _resolve(schema, content.get("schema", {}))
    if "anyOf" in body_schema:  # an optional body
        body_schema = _resolve(schema, body_schema["anyOf"][0])
    return [(f"example {i}", ex) for i, ex in enumerate(body_schema.get("examples", []))]


def test_every_operation_has_examples_and_documents_its_errors(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "500" in responses, f"{method} {path}"
            error = responses["500"]["content"]["application/json"]["schema"]
            assert error["$ref"].endswith("/ErrorResponse")
            if method == "post":
                assert _examples(schema, operation), f"{method} {path} shows no example"


def test_every_example_in_the_docs_works(client: TestClient, app: FastAPI) -> None:
    schema = client.get("/openapi.json").json()
    ran = 0
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method != "post":
                continue
            url = path.format(**EXAMPLE_PATH)
            for name, example in _examples(schema, operation):
                response = client.post(url, json=example)
                assert response.status_code in (200, 202), (path, name, response.text)
                ran += 1
    assert ran >= 10
    wait_for_training(app)
    trained = [m for m in client.get("/models").json()["models"] if m["model_id"] != MODEL_ID]
    assert [m["status"] for m in trained] == ["ready"]
