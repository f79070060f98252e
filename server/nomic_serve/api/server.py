"""The grpc.aio server: our service, standard health per model, reflection, graceful stop."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb

from ..config import Settings
from ..core.workpool import WorkPool
from .codec import Activity, PendingRequests, service_handler
from .interceptors import RequestInterceptor
from .servicer import EmbeddingServicer, ServingState

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


async def start_server(
    servicer: EmbeddingServicer,
    settings: Settings,
    *,
    text_ready: bool,
    vision_ready: bool,
    parse_pool: WorkPool,
    activity: Activity,
    port: int | None = None,
) -> RunningServer:
    """Builds and starts the server on `port` (default GRPC_PORT; 0 picks a free one)."""
    max_bytes = settings.grpc_max_message_mb * 1024 * 1024
    server = grpc.aio.server(
        interceptors=[RequestInterceptor()],
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
    bound = server.add_insecure_port(address)
    await server.start()
    log.info("gRPC listening on %s", address.rsplit(":", 1)[0] + f":{bound}")
    return RunningServer(server=server, port=bound, health=health_servicer, state=servicer.state)


def _max_fields(settings: Settings) -> int:
    """Fields a valid request may hold at most, nested ones included: a list item costs two
    (the entry and, for the OpenAI route, the string inside its Value), plus a few options."""
    items = max(settings.max_list_inputs, 2 * settings.image_max_per_request)
    return 2 * items + 64
