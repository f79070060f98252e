"""Scale-out under faults: three replicas behind the gateway config the project renders.

A closed loop of 32 gRPC and 4 REST workers sends single-text Embed calls through the gateway
Envoy while replicas are killed, terminated and restarted on their ports. No call may fail,
every vector must match the one a replica gave directly, and Envoy's counters must show how
the gateway coped (retries, an ejection, health-check failures). The scenarios live in
tests/support/scale_out.py; `make scale-demo` prints the same figures.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb
from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

from ..support.figures import record
from ..support.scale_out import Cluster, Report, kill_and_terminate, replica_env, rolling_restart

pytestmark = pytest.mark.e2e

LOAD_S = 30.0


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, embedded_cache) -> Iterator[Cluster]:
    """Three replicas of the embedded MiniLM and the gateway over them."""
    started = Cluster(
        tmp_path_factory.mktemp("scale-out"),
        replica_env(embedded_cache),
        [sys.executable, "-m", "nomic_serve"],
    )
    yield started
    started.close()


def _no_failures(report: Report) -> None:
    record(report.table())
    assert not report.failed, report.errors[:10]
    kinds = {call.kind for call in report.calls}
    assert kinds == {"grpc", "rest"}
    for fault in report.faults:
        assert report.during(fault), f"no calls during {fault.name}"
        assert fault.exit_code in (None, 0), f"{fault.name}: exit code {fault.exit_code}"
    assert report.stats["upstream_rq_retry_overflow"] == 0
    assert report.stats["membership_healthy"] == 3


def test_replica_killed_then_another_terminated_costs_no_request(cluster: Cluster) -> None:
    cluster.heal()
    report = kill_and_terminate(cluster, LOAD_S)
    _no_failures(report)
    assert report.duration_s >= LOAD_S
    # The killed replica's requests in flight were retried on the others, its connect
    # failures ejected it at once, and health checks kept it out until it was back.
    assert report.retries > 0
    assert report.ejections >= 1
    assert report.health_check_failures >= 1


def test_rolling_restart_costs_no_request(cluster: Cluster) -> None:
    cluster.heal()
    report = rolling_restart(cluster)
    _no_failures(report)
    assert len(report.faults) == 3
    # Each replica said NOT_SERVING and went on serving until the gateway had taken it out
    # (SHUTDOWN_DELAY_S > health-check interval x unhealthy threshold): nothing to retry.
    assert report.health_check_failures >= 2 * 3
    assert report.retries == 0, "a replica refused requests before the gateway took it out"


def test_overload_reaches_the_client_with_its_retry_hint(tmp_path: Path, embedded_cache) -> None:
    """RESOURCE_EXHAUSTED is load, not a replica going away: the gateway neither retries it
    nor ejects the replica, and the client gets the server's retry hint (gRPC and REST)."""
    strict = {"MAX_PENDING_ITEMS": "2", "MAX_LIST_INPUTS": "2", "MAX_BATCH_SIZE": "1"}
    env = {**replica_env(embedded_cache), **strict}
    one = Cluster(tmp_path, env, [sys.executable, "-m", "nomic_serve"], count=1)
    texts = ["a long text about cats " * 40, "and dogs " * 60]
    try:
        with grpc.insecure_channel(one.gateway.grpc_address) as channel:
            stub = rpc.EmbeddingServiceStub(channel)

            def call(_: int) -> grpc.RpcError | None:
                try:
                    stub.EmbedList(pb.EmbedListRequest(inputs=texts), timeout=60)
                except grpc.RpcError as exc:
                    return exc
                return None

            with ThreadPoolExecutor(30) as pool:
                refused = [e for e in pool.map(call, range(30)) if e is not None]
            body = json.dumps({"inputs": texts})
            with ThreadPoolExecutor(30) as pool:
                replies = list(pool.map(lambda _: one.gateway.post_json("/batch", body), range(30)))
        assert refused and {e.code() for e in refused} == {grpc.StatusCode.RESOURCE_EXHAUSTED}
        trailers = dict(refused[0].trailing_metadata())
        assert int(trailers["grpc-retry-pushback-ms"]) > 0
        detail = status_pb2.Status.FromString(trailers["grpc-status-details-bin"]).details[0]
        hint = error_details_pb2.RetryInfo()
        assert detail.Unpack(hint) and hint.retry_delay.ToNanoseconds() > 0
        rest_refused = [reply for status, reply in replies if status == 429]
        assert rest_refused and all(status in (200, 429) for status, _ in replies)
        assert rest_refused[0]["details"][0]["@type"].endswith("google.rpc.RetryInfo")
        stats = one.gateway.stats()
        assert stats.get("upstream_rq_retry", 0) == 0
        assert stats.get("outlier_detection.ejections_enforced_total", 0) == 0
    finally:
        one.close()
