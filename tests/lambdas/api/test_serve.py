"""``python -m lambdas.api.serve`` (``make serve``): one process listens and deals each accepted
connection to the next server process in turn; the processes start and stop together."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lambdas.api.serve import can_hand_over, deal_connections, main

REPO = Path(__file__).resolve().parents[3]
needs_hand_over = pytest.mark.skipif(not can_hand_over(), reason="passing sockets needs Unix")


def _children(pid: int) -> set[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return {int(p) for p in out.stdout.split()}


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _wait_gone(pids: set[int], seconds: float = 10) -> list[int]:
    deadline = time.monotonic() + seconds  # spawn's resource tracker leaves when its pipe closes
    while (alive := [p for p in pids if _running(p)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive


def _start(home: Path, port: int, workers: int) -> subprocess.Popen[str]:
    env = {**os.environ, "MMM_HOME": str(home), "POWERTOOLS_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "lambdas.api.serve", "--port", str(port)]
    command += ["--workers", str(workers), "--log-level", "warning"]
    return subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """Two server processes on a free port (``--port 0``, read back from the banner)."""
    process = _start(tmp_path, 0, 2)
    assert process.stderr is not None
    banner = process.stderr.readline()
    found = re.search(r"http://127\.0\.0\.1:(\d+) with 2 processes", banner)
    assert found, f"no address in {banner!r}"
    url = f"http://127.0.0.1:{found.group(1)}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read()
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


def _established_per_process(pids: set[int], port: int) -> dict[int, int]:
    """How many established TCP connections to ``port`` each process holds (Linux /proc)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "01":
            inodes.add(fields[9])
    counts = {}
    for pid in pids:
        held = set()
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            target = os.readlink(fd) if fd.is_symlink() else ""
            if target.startswith("socket:["):
                held.add(target[8:-1])
        counts[pid] = len(held & inodes)
    return counts


@needs_hand_over
def test_two_workers_serve_fresh_connections_and_stop_together_on_sigterm(served) -> None:
    process, url = served
    workers = _children(process.pid)
    # spawn's resource tracker is a child too
    assert len(workers) >= 2
    for _ in range(20):  # a new connection each time
        assert httpx.get(f"{url}/health", timeout=5).status_code == 200
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    assert not (alive := _wait_gone(workers)), f"processes left running: {alive}"


@needs_hand_over
@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="counts connections in /proc")
def test_sixteen_keep_alive_clients_are_split_eight_and_eight(served) -> None:
    process, url = served
    port = int(url.rsplit(":", 1)[1])
    clients = [httpx.Client(base_url=url, timeout=10) for _ in range(16)]
    try:
        for client in clients:  # each opens its connection and keeps it
            assert client.get("/health").status_code == 200
        deadline = time.monotonic() + 5  # the banner's health checks may still be closing
        workers = _children(process.pid)
        while sum((counts := _established_per_process(workers, port)).values()) != 16:
            assert time.monotonic() < deadline, counts
            time.sleep(0.05)
        assert sorted(n for n in counts.values() if n) == [8, 8], counts
        for client in clients:  # and the connections go on serving
            assert client.get("/health").status_code == 200
    finally:
        for client in clients:
            client.close()


@needs_hand_over
def test_the_workers_stop_when_the_dealing_process_is_killed(served) -> None:
    process, _ = served
    workers = _children(process.pid)
    process.kill()
    process.wait(timeout=10)
    assert not (alive := _wait_gone(workers, 30)), f"processes left running: {alive}"


@contextlib.contextmanager
def _dealing(listener: socket.socket, n_channels: int) -> Iterator[list[socket.socket]]:
    """``deal_connections`` in a thread over fresh channels; the receiving ends; then stopped."""
    pairs = [socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(n_channels)]
    done = threading.Event()
    dealer = threading.Thread(
        target=deal_connections,
        args=(listener, [ours for ours, _ in pairs], lambda: not done.is_set()),
    )
    dealer.start()
    try:
        for _, theirs in pairs:
            theirs.settimeout(5)
        yield [theirs for _, theirs in pairs]
    finally:
        done.set()
        dealer.join(timeout=5)
        for sock in [listener, *(s for pair in pairs for s in pair)]:
            sock.close()


def _received(channel: socket.socket, count: int) -> list[socket.socket]:
    fds: list[int] = []
    while len(fds) < count:
        _, new, _, _ = socket.recv_fds(channel, 16, 16)
        fds += new
    return [socket.socket(fileno=fd) for fd in fds]


@needs_hand_over
def test_connections_are_dealt_to_the_channels_in_turn_and_stay_usable() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    with _dealing(listener, 3) as channels:
        clients = []
        for _ in range(6):
            clients.append(socket.create_connection(listener.getsockname(), timeout=5))
            clients[-1].sendall(b"x")
        received = [_received(channel, 2) for channel in channels]
        # the i-th connection went to channel i % 3: it holds that client's byte
        for number, client in enumerate(clients):
            with received[number % 3][number // 3] as connection, client:
                assert connection.recv(1) == b"x"
                connection.sendall(b"y")
                assert client.recv(1) == b"y"


class _OutOfDescriptorsOnce(socket.socket):
    failed = False

    def accept(self) -> tuple[socket.socket, Any]:
        if not self.failed:
            self.failed = True
            raise OSError(errno.EMFILE, "Too many open files")
        return super().accept()


@needs_hand_over
def test_running_out_of_descriptors_pauses_dealing_instead_of_stopping_the_server() -> None:
    listener = _OutOfDescriptorsOnce(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    with (
        _dealing(listener, 1) as (channel,),
        socket.create_connection(listener.getsockname(), timeout=5) as client,
    ):
        (connection,) = _received(channel, 1)
        with connection:
            client.sendall(b"x")
            assert connection.recv(1) == b"x"
    assert listener.failed


@needs_hand_over
def test_a_port_already_taken_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        process = _start(tmp_path, taken.getsockname()[1], 2)
        _, err = process.communicate(timeout=60)
    assert process.returncode != 0
    assert "cannot serve on 127.0.0.1" in err and "Traceback" not in err


def test_zero_workers_is_refused() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--workers", "0"])
    assert exc.value.code == 2
