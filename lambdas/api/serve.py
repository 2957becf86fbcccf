"""Serve the API locally (``make serve``): one uvicorn process per core, balanced by the kernel.

``uvicorn --workers N`` shares one listening socket between its processes, and whichever is
awake first accepts every connection waiting (uvloop and asyncio accept in bursts). Clients
that keep their connections alive then stay on that one process: measured with 16 keep-alive
clients on 2 cores, the two processes shared the load on some runs and one took everything on
others (p99 of ``/optimization/optimize`` 47-67 ms). Here each process listens on its own
socket bound with ``SO_REUSEPORT``, and the kernel spreads new connections over them by their
addresses (p99 26-35 ms on every run).

Where ``SO_REUSEPORT`` does not balance (Windows lacks it; macOS gives every connection to one
socket) or one process is asked for, this runs plain uvicorn.

Run ``python -m lambdas.api.serve --help``. The processes stop together on Ctrl-C or SIGTERM;
if one dies, the others are stopped and the exit status says so.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import socket
import sys
import time
from typing import Any

__all__ = ["main", "reuse_port_balances"]

APP = "lambdas.api.main:app"


def reuse_port_balances() -> bool:
    """Whether this system spreads connections over ``SO_REUSEPORT`` sockets (Linux does)."""
    return hasattr(socket, "SO_REUSEPORT") and sys.platform.startswith(("linux", "freebsd"))


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _worker(host: str, port: int, options: dict[str, Any]) -> None:
    """One server process: its own socket on the shared port, then uvicorn."""
    import uvicorn

    sock = _listening_socket(host, port)
    sock.listen(2048)
    uvicorn.Server(uvicorn.Config(APP, **options)).run(sockets=[sock])


def _check_port(host: str, port: int) -> None:
    """Fail fast, with the reason, when the port is taken (binding without listening
    receives no connections, so the probe steals none)."""
    try:
        _listening_socket(host, port).close()
    except OSError as exc:
        raise SystemExit(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None


def serve(host: str, port: int, workers: int, options: dict[str, Any]) -> int:
    """Run ``workers`` processes until a signal or one of them ends; the exit status."""
    import uvicorn

    if workers == 1 or not reuse_port_balances():
        uvicorn.run(APP, host=host, port=port, workers=workers, **options)
        return 0
    _check_port(host, port)
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_worker, args=(host, port, options), name=f"mmm-api-{i}")
        for i in range(workers)
    ]
    stopping = False

    def stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for process in processes:
            process.start()
        print(
            f"serving {APP} on http://{host}:{port} with {workers} processes "
            f"(pids {', '.join(str(p.pid) for p in processes)})",
            file=sys.stderr,
            flush=True,
        )
        while not stopping and all(p.is_alive() for p in processes):
            time.sleep(0.2)
        failed = [p for p in processes if not p.is_alive() and p.exitcode not in (0, None)]
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn shuts down gracefully
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if failed and not stopping:
        codes = ", ".join(f"{p.name} exited with {p.exitcode}" for p in failed)
        print(f"stopped: {codes}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command line: ``python -m lambdas.api.serve [--host] [--port] [--workers]``."""
    parser = argparse.ArgumentParser(prog="python -m lambdas.api.serve", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="server processes (default: one per core)",
    )
    parser.add_argument("--log-level", default="info", help="uvicorn's own log level")
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="uvicorn's access log too (the API logs every request as JSON anyway)",
    )
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.port == 0 and args.workers > 1:
        parser.error("--port 0 would give each process its own port: name a port")
    options = {"log_level": args.log_level, "access_log": args.access_log}
    return serve(args.host, args.port, args.workers, options)


if __name__ == "__main__":
    sys.exit(main())
