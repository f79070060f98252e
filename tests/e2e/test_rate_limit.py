"""Envoy's local rate limit (RATE_LIMIT_RPS, RATE_LIMIT_BURST): REST answers 429 with
`retry-after` once a route's bucket is empty, each route has its own, and the gateway's gRPC
listener answers RESOURCE_EXHAUSTED (which clients back off from), not UNAVAILABLE."""

from __future__ import annotations

import json

import grpc
import pytest

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb
from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

from ..support.processes import EnvoyProcess, GatewayProcess, ServerProcess

pytestmark = pytest.mark.e2e

# One token a second: the bucket cannot refill noticeably while a test sends its burst.
LIMIT = {"RATE_LIMIT_RPS": "1", "RATE_LIMIT_BURST": "3"}


def test_rest_routes_are_limited_with_429_each_on_its_own_bucket(
    stack_server: ServerProcess, tmp_path
) -> None:
    envoy = EnvoyProcess(stack_server, tmp_path, LIMIT)
    try:
        body = json.dumps({"input": "Hello world"}).encode()
        json_type = {"content-type": "application/json"}
        statuses = [envoy.request("POST", "/embed", body, json_type)[0] for _ in range(5)]
        # The burst of 3, less the GET /health that found Envoy ready (the same route).
        assert statuses[:2] == [200, 200]
        assert 429 in statuses[2:], statuses
        status, headers, payload = envoy.request("POST", "/embed", body, json_type)
        assert status == 429, payload
        assert headers["retry-after"] == "1"
        assert headers["x-ratelimit-limit"].startswith("3")
        assert headers["x-ratelimit-remaining"] == "0"
        # The image routes have a bucket of their own, still full.
        status, _, payload = envoy.request("POST", "/img/stats", b"{}", json_type)
        assert status != 429, payload
    finally:
        envoy.stop()


def test_unlimited_by_default(stack_server: ServerProcess, tmp_path) -> None:
    envoy = EnvoyProcess(stack_server, tmp_path, {})
    try:
        body = json.dumps({"input": "Hello world"}).encode()
        json_type = {"content-type": "application/json"}
        statuses = {envoy.request("POST", "/embed", body, json_type)[0] for _ in range(8)}
        assert statuses == {200}
    finally:
        envoy.stop()


def test_the_gateway_refuses_grpc_with_resource_exhausted(
    stack_server: ServerProcess, tmp_path
) -> None:
    gateway = GatewayProcess([stack_server.address], tmp_path, LIMIT)
    try:
        codes = []
        with grpc.insecure_channel(gateway.grpc_address) as channel:
            stub = rpc.EmbeddingServiceStub(channel)
            for _ in range(6):
                try:
                    stub.Embed(pb.EmbedRequest(input="hi"), timeout=10)
                    codes.append(grpc.StatusCode.OK)
                except grpc.RpcError as error:
                    codes.append(error.code())  # type: ignore[attr-defined]
        assert codes[:3] == [grpc.StatusCode.OK] * 3
        assert grpc.StatusCode.RESOURCE_EXHAUSTED in codes[3:], codes
        assert grpc.StatusCode.UNAVAILABLE not in codes
    finally:
        gateway.stop()
