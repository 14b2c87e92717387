"""``htrkit serve`` under load: 16 clients posting line images for 60 s, as fast as the
server answers, while a 17th asks for ``/api/config`` once a second.

    python benchmarks/server_load.py [--clients 16] [--seconds 60] [--workers 2]
        [--json benchmarks/results/server-load.json]

The server runs as a user starts it (``htrkit serve --port P --workers W``, its default
``--max-pending 16``) in a subprocess; each client is a thread with its own connection
per request (``urllib``), posting ``examples/images/handwritten.png`` in mode ``line``.
Reported: requests answered per second, latency percentiles of the answered ones,
how many were refused with 503 (the queue full, by design) and any other failure (there
should be none), and the latency of ``/api/config`` during the load (the event loop must
stay free while recognition runs in its threads). Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINE = (ROOT / "examples" / "images" / "handwritten.png").read_bytes()
BOUNDARY = "htrkitloadboundary"


def body(image: bytes) -> bytes:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="mode"\r\n\r\nline\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="l.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    )
    return head.encode() + image + f"\r\n--{BOUNDARY}--\r\n".encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(port: int, workers: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "htrkit", "serve", "--port", str(port), "--workers", str(workers)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "HTRKIT_LOAD_PLUGINS": ""})  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/config", timeout=2):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    sys.exit("htrkit serve did not answer in 120 s")


def rss_mb(pid: int) -> float:
    """The process's resident memory, in MB (Linux's /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start(port, args.workers)
    payload = body(LINE)
    with urllib.request.urlopen(
        urllib.request.Request(  # one request: the models loaded
            url + "/api/recognize",
            data=payload,
            method="POST",
            headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        )
    ) as first:
        first.read()
    memory_start = rss_mb(server.pid)
    stop = time.monotonic() + args.seconds
    lock = threading.Lock()
    latencies: list[float] = []
    config_latencies: list[float] = []
    refused = failed = 0
    texts: set[str] = set()

    def client() -> None:
        nonlocal refused, failed
        while time.monotonic() < stop:
            request = urllib.request.Request(
                url + "/api/recognize", data=payload, method="POST",
                headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
            )  # fmt: skip
            t = time.monotonic()
            try:
                with urllib.request.urlopen(request, timeout=120) as resp:
                    text = json.loads(resp.read())["text"]
                with lock:
                    latencies.append(time.monotonic() - t)
                    texts.add(text)
            except urllib.error.HTTPError as exc:
                with lock:
                    if exc.code == 503:
                        refused += 1
                    else:
                        failed += 1
                if exc.code == 503:
                    time.sleep(0.05)  # as a browser would wait before trying again
            except OSError:
                with lock:
                    failed += 1

    def prober() -> None:
        while time.monotonic() < stop:
            t = time.monotonic()
            with urllib.request.urlopen(url + "/api/config", timeout=30):
                config_latencies.append(time.monotonic() - t)
            time.sleep(1.0)

    stop = time.monotonic() + args.seconds
    started = time.monotonic()
    memory_end = float("nan")
    try:
        with ThreadPoolExecutor(args.clients + 1) as pool:
            futures = [pool.submit(client) for _ in range(args.clients)] + [pool.submit(prober)]
            for f in futures:
                f.result()
        memory_end = rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    elapsed = time.monotonic() - started
    result = {
        "clients": args.clients,
        "seconds": round(elapsed, 1),
        "workers": args.workers,
        "answered": len(latencies),
        "requests_per_s": round(len(latencies) / elapsed, 2),
        "latency_s": {
            **{p: round(percentile(latencies, float(p[1:])), 3) for p in ("p50", "p90", "p99")},
            "max": round(max(latencies), 3),
        },
        "refused_503": refused,
        "failed": failed,
        "texts": sorted(texts),
        "config_latency_s": {
            "p50": round(percentile(config_latencies, 50), 3),
            "max": round(max(config_latencies), 3),
        },  # fmt: skip
        "server_memory_mb": {"start": memory_start, "end": memory_end},
        "machine": f"{os.cpu_count()} CPU cores",
    }
    print(json.dumps(result, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
