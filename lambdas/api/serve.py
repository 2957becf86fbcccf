"""Serve the API locally (``make serve``): one uvicorn process per core, connections dealt in turn.

Keep-alive clients stay on the process that accepted their connection, so how connections are
spread sets the tail latency. Two ways of spreading them were measured with 16 keep-alive
clients on 2 cores, and both were uneven:

- ``uvicorn --workers N`` shares one listening socket, and whichever process is awake first
  accepts every connection waiting: one process sometimes served all 16.
- One ``SO_REUSEPORT`` socket per process lets the kernel pick by a hash of the addresses, which
  splits 16 connections binomially: 12/4 or worse about one run in 13, where
  ``/attribution/analyze``'s p99 reached 194-210 ms against 113-130 ms on even splits.

So this process listens and accepts, and deals each connection to the next server process in
turn, over a Unix socket (``SCM_RIGHTS``), as Node's ``cluster`` module does by default. Only
the accept goes through here; the requests on a connection go straight to its server process.
Where file descriptors cannot be passed (Windows) or one process is asked for, this runs plain
uvicorn.

Run ``python -m lambdas.api.serve --help``. The processes stop together on Ctrl-C or SIGTERM;
if one dies, the others are stopped and the exit status says so.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import itertools
import multiprocessing
import os
import selectors
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

__all__ = ["can_hand_over", "deal_connections", "main"]

APP = "lambdas.api.main:app"
BACKLOG = 2048
POLL_SECONDS = 0.2  # how often the dealer looks at signals and at its server processes
#: accept() failures that pass: out of file descriptors or memory. The dealer waits a moment and
#: goes on, leaving the connections queued, rather than stopping the server (asyncio does so too).
_TRANSIENT = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


def can_hand_over() -> bool:
    """Whether accepted connections can be passed to other processes here (not on Windows)."""
    return hasattr(socket, "send_fds") and hasattr(socket, "AF_UNIX")


def _listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SystemExit(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(BACKLOG)
    return sock


def deal_connections(
    listener: socket.socket,
    channels: list[socket.socket],
    keep_going: Callable[[], bool],
) -> int:
    """Accept connections and pass each to the next channel in turn, while ``keep_going()``.

    Parameters
    ----------
    listener : socket.socket
        A listening socket; it is made non-blocking.
    channels : list of socket.socket
        One connected Unix socket per server process. Each accepted connection's file
        descriptor goes to one of them with a one-byte message, and this process's copy is
        closed.
    keep_going : callable
        Asked at least every ``POLL_SECONDS``; dealing stops when it returns False.

    Returns
    -------
    int
        How many connections were dealt.

    A connection whose channel is broken (its process died) is closed; ``keep_going`` is
    where the caller notices the death.
    """
    listener.setblocking(False)
    turn = itertools.cycle(channels)
    dealt = 0
    with selectors.DefaultSelector() as selector:
        selector.register(listener, selectors.EVENT_READ)
        while keep_going():
            if not selector.select(timeout=POLL_SECONDS):
                continue
            while True:
                try:
                    connection, _ = listener.accept()
                except (BlockingIOError, InterruptedError):
                    break
                except ConnectionAbortedError:  # the client gave up while queued
                    continue
                except OSError as exc:
                    if exc.errno not in _TRANSIENT:
                        raise
                    time.sleep(POLL_SECONDS)
                    break
                with connection:
                    try:
                        socket.send_fds(next(turn), [b"c"], [connection.fileno()])
                        dealt += 1
                    except OSError:
                        pass
    return dealt


def _served_server(config: Any, channel: socket.socket) -> Any:
    """A uvicorn server that listens on nothing and serves the connections ``channel`` brings."""
    import uvicorn

    class HandedConnectionsServer(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=[])  # the lifespan, no listening socket
            loop = asyncio.get_running_loop()
            pending: set[asyncio.Task[Any]] = set()

            def make_protocol() -> asyncio.Protocol:
                return self.config.http_protocol_class(  # type: ignore[call-arg]
                    config=self.config,
                    server_state=self.server_state,
                    app_state=self.lifespan.state,
                    _loop=loop,
                )

            def receive() -> None:
                while True:
                    try:
                        message, fds, _, _ = socket.recv_fds(channel, 64, 64)
                    except (BlockingIOError, InterruptedError):
                        return
                    if not message and not fds:  # the dealer has gone: stop too
                        loop.remove_reader(channel.fileno())
                        self.should_exit = True
                        return
                    for fd in fds:
                        task = loop.create_task(
                            loop.connect_accepted_socket(make_protocol, socket.socket(fileno=fd))
                        )
                        pending.add(task)
                        task.add_done_callback(settled)

            def settled(task: asyncio.Task[Any]) -> None:
                pending.discard(task)
                if not task.cancelled():
                    task.exception()  # a client gone before its transport was made: nothing to do

            channel.setblocking(False)
            loop.add_reader(channel.fileno(), receive)

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            asyncio.get_running_loop().remove_reader(channel.fileno())
            await super().shutdown(sockets=sockets)

    return HandedConnectionsServer(config)


def _worker(channel: socket.socket, options: dict[str, Any]) -> None:
    """One server process: the app, serving the connections the dealer hands it."""
    import uvicorn

    _served_server(uvicorn.Config(APP, **options), channel).run()


def serve(host: str, port: int, workers: int, options: dict[str, Any]) -> int:
    """Run ``workers`` server processes until a signal or one of them ends; the exit status."""
    import uvicorn

    if workers == 1 or not can_hand_over():
        uvicorn.run(APP, host=host, port=port, workers=workers, **options)
        return 0
    listener = _listening_socket(host, port)
    context = multiprocessing.get_context("spawn")
    pairs = [socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(workers)]
    processes = [
        context.Process(target=_worker, args=(theirs, options), name=f"mmm-api-{i}")
        for i, (_, theirs) in enumerate(pairs)
    ]
    stopping = False

    def stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for process in processes:
            process.start()
        for _, theirs in pairs:
            theirs.close()
        bound = listener.getsockname()[1]
        print(
            f"serving {APP} on http://{host}:{bound} with {workers} processes "
            f"(pids {', '.join(str(p.pid) for p in processes)})",
            file=sys.stderr,
            flush=True,
        )
        deal_connections(
            listener,
            [ours for ours, _ in pairs],
            lambda: not stopping and all(p.is_alive() for p in processes),
        )
        failed = [p for p in processes if not p.is_alive() and p.exitcode not in (0, None)]
    finally:
        listener.close()
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn shuts down gracefully
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
                process.join()
        for ours, _ in pairs:
            ours.close()
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
    parser.add_argument(
        "--port", type=int, default=8000, help="0 picks a free port, named on stderr"
    )
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
    options = {"log_level": args.log_level, "access_log": args.access_log}
    return serve(args.host, args.port, args.workers, options)


if __name__ == "__main__":
    sys.exit(main())
