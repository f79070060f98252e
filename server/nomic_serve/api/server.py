"""The grpc.aio server: our service, standard health per model, reflection, graceful stop;
TLS when configured, and then a plaintext port of health alone for probes (HEALTH_PORT)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb

from ..config import Settings
from ..core.workpool import WorkPool
from ..metrics import Metrics
from .auth import ApiKeys, AuthInterceptor, KeyBuckets
from .codec import Activity, PendingRequests, service_handler
from .interceptors import RequestInterceptor
from .servicer import EmbeddingServicer, ServingState
from .tls import server_credentials

__all__ = ["HEALTH_TEXT", "HEALTH_VISION", "RunningServer", "start_server"]

log = logging.getLogger(__name__)

SERVICE = pb.DESCRIPTOR.services_by_name["EmbeddingService"]
SERVICE_NAME = SERVICE.full_name
# Health entries per model, so a Kubernetes probe can check "text" alone.
HEALTH_TEXT = "text"
HEALTH_VISION = "vision"
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@dataclass
class RunningServer:
    """A started server, the port it bound, and what its graceful stop needs."""

    server: grpc.aio.Server
    port: int
    health: health.aio.HealthServicer
    state: ServingState
    health_server: grpc.aio.Server | None = None  # HEALTH_PORT: health only, plaintext
    health_port: int = 0

    async def drain(self) -> None:
        """Every health entry NOT_SERVING, while requests are still served: load balancers and
        readiness probes take the replica out before it refuses anything."""
        self.state.shutting_down = True
        await self.health.enter_graceful_shutdown()

    async def stop(self, grace: float) -> None:
        """Drained first (probes see it at once), then refuse new RPCs and give the in-flight
        ones `grace` seconds to finish."""
        await self.drain()
        await self.server.stop(grace)
        if self.health_server is not None:
            await self.health_server.stop(0)


async def start_server(
    servicer: EmbeddingServicer,
    settings: Settings,
    *,
    text_ready: bool,
    vision_ready: bool,
    parse_pool: WorkPool,
    activity: Activity,
    metrics: Metrics,
    keys: ApiKeys,
    port: int | None = None,
) -> RunningServer:
    """Builds and starts the server on `port` (default GRPC_PORT; 0 picks a free one)."""
    credentials = server_credentials(settings)  # a bad certificate fails before anything binds
    max_bytes = settings.grpc_max_message_mb * 1024 * 1024
    server = grpc.aio.server(
        # The request interceptor is outermost: it logs and counts what the key check refuses.
        interceptors=_interceptors(settings, metrics, keys),
        options=[
            ("grpc.max_receive_message_length", max_bytes),
            ("grpc.max_send_message_length", max_bytes),
        ],
    )
    handler = service_handler(
        SERVICE,
        servicer,
        _max_fields(settings),
        parse_pool,
        servicer.gates(),
        PendingRequests(settings.request_max_pending_bytes, activity),
    )
    server.add_generic_rpc_handlers((handler,))
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for name, ready in (
        ("", True),
        (SERVICE_NAME, True),
        (HEALTH_TEXT, text_ready),
        (HEALTH_VISION, vision_ready),
    ):
        await health_servicer.set(name, SERVING if ready else NOT_SERVING)
    reflection.enable_server_reflection(
        (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    address = f"{settings.grpc_host}:{settings.grpc_port if port is None else port}"
    if credentials is None:
        bound = server.add_insecure_port(address)
    else:
        bound = server.add_secure_port(address, credentials)
    await server.start()
    mode = "plaintext" if credentials is None else "TLS"
    if settings.tls_client_ca is not None:
        mode = "mTLS"
    log.info("gRPC listening on %s (%s)", address.rsplit(":", 1)[0] + f":{bound}", mode)
    running = RunningServer(server=server, port=bound, health=health_servicer, state=servicer.state)
    if settings.health_port:
        running.health_server, running.health_port = await _health_only(
            health_servicer, f"{settings.grpc_host}:{settings.health_port}"
        )
    elif credentials is not None:
        log.warning("TLS without HEALTH_PORT: Kubernetes' gRPC probes cannot check this server")
    return running


async def _health_only(
    servicer: health.aio.HealthServicer, address: str
) -> tuple[grpc.aio.Server, int]:
    """The same health entries, plaintext and nothing else: native gRPC probes cannot speak
    TLS, and health tells a caller nothing an API key or a certificate protects."""
    server = grpc.aio.server()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    bound = server.add_insecure_port(address)
    await server.start()
    log.info("health-only port %s (plaintext)", address.rsplit(":", 1)[0] + f":{bound}")
    return server, bound


def _interceptors(
    settings: Settings, metrics: Metrics, keys: ApiKeys
) -> list[grpc.aio.ServerInterceptor]:
    """The request interceptor outermost (it logs and counts what the key check refuses), and
    the key check only where keys are set: every interceptor costs each call a coroutine
    layer on the event loop, probes and floods included."""
    chain: list[grpc.aio.ServerInterceptor] = [RequestInterceptor(metrics)]
    if keys.enabled:
        chain.append(AuthInterceptor(keys, settings.api_keys_open, _key_buckets(settings)))
    return chain


def _key_buckets(settings: Settings) -> KeyBuckets | None:
    rate = settings.api_key_rate_limit_rps
    return KeyBuckets(rate, settings.api_key_rate_limit_burst) if rate > 0 else None


def _max_fields(settings: Settings) -> int:
    """Fields a valid request may hold at most, nested ones included: a list item costs two
    (the entry and, for the OpenAI route, the string inside its Value), plus a few options."""
    items = max(settings.max_list_inputs, 2 * settings.image_max_per_request)
    return 2 * items + 64
