"""``python -m lambdas.api.serve`` (``make serve``): one process per worker, each on its own
``SO_REUSEPORT`` socket, started and stopped together."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lambdas.api.serve import main, reuse_port_balances

REPO = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return {int(p) for p in out.stdout.split()}


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _start(home: Path, port: int, workers: int) -> subprocess.Popen[str]:
    env = {**os.environ, "MMM_HOME": str(home), "POWERTOOLS_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "lambdas.api.serve", "--port", str(port)]
    command += ["--workers", str(workers), "--log-level", "warning"]
    return subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = _free_port()
    process = _start(tmp_path, port, 2)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        pytest.fail("the server did not answer within 60 s")
    try:
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


@pytest.mark.skipif(not reuse_port_balances(), reason="SO_REUSEPORT balancing is Linux's")
def test_two_workers_serve_fresh_connections_and_stop_together_on_sigterm(served) -> None:
    process, url = served
    workers = _children(process.pid)
    # spawn's resource tracker is a child too: the servers are the ones holding the port
    assert len(workers) >= 2
    for _ in range(20):  # a new connection each time
        assert httpx.get(f"{url}/health", timeout=5).status_code == 200
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    deadline = time.monotonic() + 10  # the resource tracker leaves when its pipe closes
    while (alive := [p for p in workers if _running(p)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive, f"processes left running: {alive}"


@pytest.mark.skipif(not reuse_port_balances(), reason="SO_REUSEPORT balancing is Linux's")
def test_a_port_already_taken_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        process = _start(tmp_path, taken.getsockname()[1], 2)
        _, err = process.communicate(timeout=60)
    assert process.returncode != 0
    assert "cannot serve on 127.0.0.1" in err and "Traceback" not in err


def test_port_zero_with_several_workers_is_refused() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--port", "0", "--workers", "2"])
    assert exc.value.code == 2
