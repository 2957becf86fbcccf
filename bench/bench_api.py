"""API benchmark: Lambda cold import, the size of what the Lambda installs, and latency under load.

Run from the repo root: ``.venv/bin/python bench/bench_api.py [--quick] [--workers N]
[--client raw|httpx]``.
Prints figures; asserts nothing (errors are counted and printed, never raised).

1. Cold import of ``lambdas.api.handler`` in a fresh interpreter (median of 5): the import
   alone, the interpreter's whole run, and import + the first request through the handler
   (an API Gateway event for ``/health``, then ``/optimization/optimize``, which load the
   science stack and the model). Target: import < 1 s.
2. Installed size of the API's dependencies in this virtualenv: the ``api`` extra (fastapi,
   starlette, pydantic, pydantic_core, mangum, aws_lambda_powertools) and ``mmm_core``'s
   (numpy, pandas, scipy, scikit-learn, statsmodels), with their bundled shared libraries.
3. Latency and throughput of ``POST /optimization/optimize`` (the reference's body on the
   production model) and ``POST /attribution/analyze`` (1,000 journeys, Markov) under 16
   concurrent clients (threads, one keep-alive connection each, :class:`KeepAliveClient`, a
   minimal client like ``wrk``; ``--client httpx`` for httpx, which spends about 1 ms of the
   shared CPU per request) against uvicorn on
   127.0.0.1, served as ``make serve`` does (:mod:`lambdas.api.serve`: one process per core,
   connections dealt to them in turn; uvloop and httptools when the ``serve`` extra is
   installed; on a free port, stopped at the end; ``--workers`` to change). A bounded number of
   requests after a warm-up; p50/p99 latency, throughput, errors. Targets: optimize p99 <
   50 ms, analyze p99 < 200 ms, zero errors. The clients share the machine with the server.
   Each operation is first run by a single client: its latency is the service time, what one
   Lambda instance (one request at a time) spends per request.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

API_PACKAGES = (
    "fastapi",
    "starlette",
    "pydantic",
    "pydantic_core",
    "mangum",
    "aws_lambda_powertools",
)
CORE_PACKAGES = ("numpy", "pandas", "scipy", "sklearn", "statsmodels")
CLIENTS = 16

COLD_IMPORT = """
import time
t0 = time.perf_counter()
import lambdas.api.handler
print(time.perf_counter() - t0)
"""

COLD_START = """
import json, os, time
t0 = time.perf_counter()
from lambdas.api.handler import handler
imported = time.perf_counter() - t0


class Context:
    aws_request_id = "bench"
    function_name = "mmm-api"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:mmm-api"


def event(method, path, body=None):
    headers = {"Host": "api.example", "X-Forwarded-Proto": "https"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    return {
        "resource": "/{proxy+}", "path": path, "httpMethod": method, "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "requestContext": {
            "requestId": "bench", "stage": "v1", "identity": {"sourceIp": "127.0.0.1"}
        },
        "body": json.dumps(body) if body is not None else None, "isBase64Encoded": False,
    }


t1 = time.perf_counter()
health = handler(event("GET", "/health"), Context())
t2 = time.perf_counter()
plan = handler(event("POST", "/optimization/optimize", json.loads(os.environ["BODY"])), Context())
t3 = time.perf_counter()
print(json.dumps({"import": imported, "health": t2 - t1, "optimize": t3 - t2,
                  "status": [health["statusCode"], plan["statusCode"]]}))
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------
# 1. Cold import


def fresh_python(code: str, env: dict[str, str] | None = None) -> tuple[str, float]:
    """Run ``code`` in a new interpreter from the repo root; its stdout and wall time."""
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )
    return out.stdout.strip().splitlines()[-1], time.perf_counter() - started


def bench_cold_import(repeats: int, home: Path, body: dict[str, Any]) -> None:
    print("== 1. Lambda cold start (fresh interpreter each time, median of", repeats, "runs)")
    imports, walls = [], []
    for _ in range(repeats):
        out, wall = fresh_python(COLD_IMPORT)
        imports.append(float(out))
        walls.append(wall)
    env = {"MMM_HOME": str(home), "POWERTOOLS_LOG_LEVEL": "WARNING", "BODY": json.dumps(body)}
    firsts = [json.loads(fresh_python(COLD_START, env)[0]) for _ in range(max(1, repeats // 2))]
    health = statistics.median(f["health"] for f in firsts)
    optimize = statistics.median(f["optimize"] for f in firsts)
    total = statistics.median(f["import"] + f["health"] + f["optimize"] for f in firsts)
    print(f"  import lambdas.api.handler      {statistics.median(imports):6.3f} s   (target < 1 s)")
    print(f"  whole interpreter run           {statistics.median(walls):6.3f} s")
    print(
        f"  then first GET /health          {health:6.3f} s   (opens the store: imports mmm_core)"
    )
    print(f"  then first optimize             {optimize:6.3f} s   (loads the model, plans)")
    print(f"  import + both first requests    {total:6.3f} s")
    statuses = {tuple(f["status"]) for f in firsts}
    print(f"  statuses                        {sorted(statuses)}")


# ------------------------------------------------------------------------------------------
# 2. Installed size


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def package_size(site: Path, name: str) -> int:
    """Bytes of a package's folder plus its bundled libraries (``numpy.libs``...)."""
    total = _size(site / name) if (site / name).exists() else 0
    dist = {"sklearn": "scikit_learn"}.get(name, name)
    for libs in (site / f"{name}.libs", site / f"{dist}.libs"):
        if libs.exists():
            total += _size(libs)
    return total


def bench_sizes() -> None:
    import sysconfig

    site = Path(sysconfig.get_paths()["purelib"])
    print(f"== 2. installed size of the API's dependencies ({site})")
    groups = (("api extra", API_PACKAGES), ("mmm_core's science stack", CORE_PACKAGES))
    grand = 0
    for title, names in groups:
        sizes = {name: package_size(site, name) for name in names}
        total = sum(sizes.values())
        grand += total
        listed = ", ".join(f"{n} {s / 1e6:.1f}" for n, s in sizes.items())
        print(f"  {title:<26} {total / 1e6:7.1f} MB   ({listed})")
    print(f"  {'together':<26} {grand / 1e6:7.1f} MB   (a zip Lambda allows 250 MB unzipped;")
    print("                                           the API ships as a container image)")


# ------------------------------------------------------------------------------------------
# 3. Load


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare_store(home: Path, quick: bool) -> tuple[str, list[str]]:
    """A production model in the local store ``home``; its id and channels."""
    from mmm_core import EconometricMMM
    from mmm_core.data.synthetic import generate_mmm_data
    from mmm_core.store import LocalStore

    data, truth = generate_mmm_data(156, 5, seed=0)
    model = EconometricMMM(n_bootstrap=50 if quick else 200)
    results = model.fit(data, **truth.fit_arguments())
    store = LocalStore(home)
    model_id = store.new_model_id()
    store.save_model(model_id, model.to_dict(), results)
    store.promote(model_id, {"passed": True})
    return model_id, list(truth.spend_columns)


def optimize_body(channels: list[str]) -> dict[str, Any]:
    """The reference's body, with the model's channels by their short names."""
    current = {c.removesuffix("_spend"): 20_000.0 + 5_000.0 * j for j, c in enumerate(channels)}
    return {
        "current_budget": current,
        "constraints": {"total_budget": sum(current.values()), "min_channel_spend": 5_000},
        "objective": "roi",
    }


def journeys_body(n: int) -> dict[str, Any]:
    from mmm_core.attribution.journeys import to_journey_list
    from mmm_core.attribution.simulate import simulate_journeys

    frame, _ = simulate_journeys(n, n_channels=5, seed=1)
    journeys = to_journey_list(frame)
    for journey in journeys:
        journey["journey_id"] = str(journey["journey_id"])
        for touch in journey["touchpoints"]:
            touch["timestamp"] = str(touch["timestamp"])
    return {"customer_journeys": journeys, "attribution_model": "markov", "lookback_window": 30}


class Server:
    """The API served as ``make serve`` does (:mod:`lambdas.api.serve`) on 127.0.0.1."""

    def __init__(self, home: Path, workers: int) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            "MMM_HOME": str(home),
            "PYTHONPATH": str(REPO),
        }
        command = [
            sys.executable, "-m", "lambdas.api.serve", "--host", "127.0.0.1",
            "--port", str(self.port), "--workers", str(workers), "--log-level", "warning",
        ]  # fmt: skip
        # The API logs one JSON line per request, as in production; to /dev/null here.
        self.process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 60.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("uvicorn did not answer within the timeout")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


class KeepAliveClient:
    """A minimal HTTP/1.1 client on one keep-alive connection: what ``wrk`` or ``hey`` do.

    The clients share the server's two cores, so a heavy client takes CPU from the server it
    measures: ``httpx`` spends about 1 ms of CPU per request in the client, 0.07 ms here.
    It sends the request's bytes and reads the status line, the headers and a
    ``Content-Length`` body (every response of this API has one); anything else raises.
    """

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        host, port = url.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.host = host
        self.pending = b""

    def post(self, path: str, payload: bytes) -> tuple[int, bytes]:
        """POST ``payload`` as JSON; the status and the body."""
        head = (
            f"POST {path} HTTP/1.1\r\nhost: {self.host}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(payload)}\r\n\r\n"
        ).encode()
        self.sock.sendall(head + payload)
        data = self.pending
        while b"\r\n\r\n" not in data:
            data += self._recv()
        header, _, body = data.partition(b"\r\n\r\n")
        lines = header.split(b"\r\n")
        status = int(lines[0].split()[1])
        fields = dict(line.lower().split(b":", 1) for line in lines[1:])
        if b"content-length" not in fields:
            raise ConnectionError(f"a response without Content-Length: {header[:200]!r}")
        length = int(fields[b"content-length"])
        while len(body) < length:
            body += self._recv()
        self.pending = body[length:]
        return status, body[:length]

    def _recv(self) -> bytes:
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        return chunk

    def close(self) -> None:
        self.sock.close()


class HttpxClient:
    """The same interface on an ``httpx.Client`` (``--client httpx``)."""

    def __init__(self, url: str) -> None:
        import httpx

        self.client = httpx.Client(base_url=url, timeout=30)

    def post(self, path: str, payload: bytes) -> tuple[int, bytes]:
        response = self.client.post(
            path, content=payload, headers={"content-type": "application/json"}
        )
        return response.status_code, response.content

    def close(self) -> None:
        self.client.close()


CLIENT_KINDS: dict[str, Callable[[str], Any]] = {"raw": KeepAliveClient, "httpx": HttpxClient}


def load(
    url: str,
    path: str,
    payload: bytes,
    total: int,
    warmup: int,
    clients: int = CLIENTS,
    kind: str = "raw",
) -> dict[str, Any]:
    """``total`` POSTs of ``payload`` from ``clients`` threads after ``warmup`` each."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(total))

    def worker() -> None:
        client = CLIENT_KINDS[kind](url)
        try:
            for _ in range(warmup):
                client.post(path, payload)
            barrier.wait()
            while True:
                with lock:
                    if next(counter, None) is None:
                        return
                started = time.perf_counter()
                try:
                    status, body = client.post(path, payload)
                    problem = None if status == 200 else f"HTTP {status}: {body[:120]!r}"
                except Exception as exc:  # counted and printed, never raised
                    problem = f"{type(exc).__name__}: {exc}"
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    if problem:
                        errors.append(problem)
        finally:
            client.close()

    barrier = threading.Barrier(clients + 1)
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join(timeout=600)
    wall = time.perf_counter() - started
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return {
        "requests": len(ordered),
        "p50": pct(0.50),
        "p99": pct(0.99),
        "max": ordered[-1] * 1000,
        "throughput": len(ordered) / wall,
        "errors": errors,
    }


def bench_load(home: Path, workers: int, quick: bool, channels: list[str], kind: str) -> None:
    import importlib.util

    speedups = [m for m in ("uvloop", "httptools") if importlib.util.find_spec(m)]
    print(
        f"== 3. load: {CLIENTS} concurrent clients ({kind} HTTP/1.1 keep-alive), uvicorn on "
        f"127.0.0.1 ({workers} worker process{'es' if workers > 1 else ''}; "
        f"{' + '.join(speedups) or 'asyncio + h11'})"
    )
    cases: list[tuple[str, str, dict[str, Any], int, float]] = [
        ("POST /optimization/optimize", "/optimization/optimize", optimize_body(channels),
         400 if quick else 2000, 50.0),
        ("POST /attribution/analyze (1,000 journeys)", "/attribution/analyze",
         journeys_body(1000), 160 if quick else 1200, 200.0),
    ]  # fmt: skip
    server = Server(home, workers)
    try:
        server.wait_ready()
        print(f"  {'operation':<44} {'clients':>7} {'requests':>8} {'p50 ms':>8} {'p99 ms':>8} "
              f"{'max ms':>8} {'req/s':>7}  errors")  # fmt: skip
        for title, path, body, total, target in cases:
            payload = json.dumps(body).encode()
            log(f"load: {title}, {total} requests ({len(payload) / 1e3:.0f} kB each)")
            # One client first: the service time, what one Lambda instance sees per request.
            for clients, count in ((1, max(50, total // 10)), (CLIENTS, total)):
                result = load(server.url, path, payload, count, 2 if quick else 5, clients, kind)
                errors = len(result["errors"])
                line = (
                    f"  {title:<44} {clients:>7} {result['requests']:>8} {result['p50']:>8.1f} "
                    f"{result['p99']:>8.1f} {result['max']:>8.1f} {result['throughput']:>7.1f}  "
                    f"{errors} ({'ok' if errors == 0 else 'FAIL'})"
                )
                if clients == CLIENTS:
                    verdict = "ok" if result["p99"] < target else "over target"
                    line += f"   p99 target < {target:.0f} ms: {verdict}"
                print(line)
                for problem in sorted(set(result["errors"]))[:3]:
                    print(f"      e.g. {problem}")
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats and requests")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="uvicorn worker processes (default: one per core, as make serve runs)",
    )
    parser.add_argument(
        "--client",
        choices=sorted(CLIENT_KINDS),
        default="raw",
        help="load generator: raw (a minimal keep-alive client, like wrk) or httpx",
    )
    parser.add_argument(
        "--skip", default="", help="comma-separated sections to skip: cold,size,load"
    )
    args = parser.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    home = Path(tempfile.mkdtemp(prefix="mmm-bench-api-"))
    try:
        log("fitting the production model for the benchmark...")
        model_id, channels = prepare_store(home, args.quick)
        log(f"model {model_id} ({len(channels)} channels) in {home}")
        steps: list[tuple[str, Callable[[], None]]] = [
            ("cold", lambda: bench_cold_import(5, home, optimize_body(channels))),
            ("size", bench_sizes),
            ("load", lambda: bench_load(home, args.workers, args.quick, channels, args.client)),
        ]
        for name, step in steps:
            if name not in skip:
                step()
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
