"""The app under uvicorn on loopback: a real HTTP server, started and stopped by the test."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from tests.lambdas.api.conftest import MODEL_ID


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(app: FastAPI, trained: str) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1 (a free port) in a thread; its base URL."""
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start within 10 s"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        assert not thread.is_alive()


@pytest.mark.parametrize("settings", ["local"], indirect=True)
def test_uvicorn_serves_health_and_optimize_over_loopback(server: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as client:
        health = client.get("/health")
        assert health.status_code == 200
        assert health.json()["dependencies"]["production_model"] == MODEL_ID
        assert health.headers["x-request-id"]
        body = {"current_budget": {"tv": 45000, "search": 30000, "social": 15000}}
        plan = client.post("/optimization/optimize", json=body)
        assert plan.status_code == 200
        assert plan.json()["model_id"] == MODEL_ID
        missing = client.get("/models/mmm-absent")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "MMM_001"


def test_science_runs_on_at_most_the_configured_threads(tmp_path) -> None:
    import anyio

    from lambdas.api.config import Settings
    from lambdas.api.deps import Services

    services = Services(Settings(home=str(tmp_path), compute_threads=2))
    lock = threading.Lock()
    running = {"now": 0, "peak": 0}

    def work() -> None:
        with lock:
            running["now"] += 1
            running["peak"] = max(running["peak"], running["now"])
        time.sleep(0.05)
        with lock:
            running["now"] -= 1

    async def many() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(6):
                group.start_soon(services.compute, work)

    anyio.run(many)
    assert running["peak"] == 2
