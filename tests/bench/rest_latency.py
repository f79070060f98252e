"""REST through Envoy vs gRPC direct: median latency of one `Hello world` embedding.

Starts the server (embedded model unless TXT_MODEL is set) and Envoy in front of it, then
alternates N requests of each kind from one client process: `POST /embed` over a keep-alive
HTTP/1.1 connection, and `Embed` over one gRPC channel. Prints medians and p99; asserts
nothing.

    .venv/bin/python -m tests.bench.rest_latency [--requests 500]
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import grpc

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb
from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

from ..support.processes import EnvoyProcess, ServerProcess

BODY = b'{"input": "Hello world"}'


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = {"LOG_LEVEL": "warning", "CACHE_MB": "0"}  # measure computing, not cache hits
        server = ServerProcess([sys.executable, "-m", "nomic_serve"], Path(folder), env)
        envoy = EnvoyProcess(server, Path(folder), env)
        try:
            rest_ms, grpc_ms = _measure(server.address, envoy.port, args.requests)
        finally:
            envoy.stop()
            server.stop()
    print(
        f"{args.requests} requests each, alternating, one client; {os.cpu_count()} cores "
        "shared by client, Envoy and server"
    )
    print("| path | p50 (ms) | p99 (ms) |")
    print("|---|---|---|")
    for name, samples in (("POST /embed through Envoy", rest_ms), ("Embed over gRPC", grpc_ms)):
        p99 = statistics.quantiles(samples, n=100)[98]
        print(f"| {name} | {statistics.median(samples):.3f} | {p99:.3f} |")
    gap = statistics.median(rest_ms) - statistics.median(grpc_ms)
    print(f"REST overhead (difference of medians): {gap:.3f} ms")


def _measure(grpc_address: str, rest_port: int, count: int) -> tuple[list[float], list[float]]:
    connection = http.client.HTTPConnection("127.0.0.1", rest_port)
    headers = {"content-type": "application/json"}
    channel = grpc.insecure_channel(grpc_address)
    stub = rpc.EmbeddingServiceStub(channel)
    request = pb.EmbedRequest(input="Hello world")

    def rest() -> None:
        connection.request("POST", "/embed", BODY, headers)
        response = connection.getresponse()
        response.read()
        assert response.status == 200

    rest_ms, grpc_ms = [], []
    for _ in range(20):
        rest()
        stub.Embed(request)
    for _ in range(count):
        started = time.perf_counter()
        rest()
        rest_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        stub.Embed(request)
        grpc_ms.append((time.perf_counter() - started) * 1000)
    connection.close()
    channel.close()
    return rest_ms, grpc_ms


if __name__ == "__main__":
    main()
