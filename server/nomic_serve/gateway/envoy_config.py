"""Renders Envoy configs from the templates and the settings: environment in, YAML out.

Two configs share one set of templates and helpers:
- the sidecar (`envoy.yaml.in`): the REST listener in front of the server beside it;
- the gateway (`gateway.yaml.in`, `--gateway`): gRPC balanced per request over a list of
  replicas, with health checks, outlier detection and retries, plus the same REST listener
  with `--listen-rest`.
`admin.yaml.in` and `rest_listener.yaml.in` are the parts both include. `--bundle DIR` writes
the config and every file it serves into DIR, so an Envoy without Python can run it.
"""

from __future__ import annotations

import argparse
import importlib.util
import ipaddress
import json
import re
import shutil
import sys
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from string import Template

from ..config import Settings
from ..errors import ConfigError
from .cors import cors_policy

__all__ = [
    "DRAIN_DETECTION_S",
    "GATEWAY_CLUSTER",
    "HEALTH_INTERVAL_S",
    "SWAGGER_FILES",
    "SWAGGER_UI_PACKAGE",
    "UNHEALTHY_THRESHOLD",
    "Address",
    "Assets",
    "Gateway",
    "render",
    "render_gateway",
    "swagger_ui_dir",
    "write_bundle",
]

HERE = Path(__file__).resolve().parent
SWAGGER_UI_PACKAGE = "flask-swagger-ui==5.34.0"
SWAGGER_FILES = (
    "swagger-ui.css",
    "swagger-ui-bundle.js",
    "swagger-ui-standalone-preset.js",
    "favicon-32x32.png",
)
BUNDLE_CONFIG = "envoy.yaml"

# The gateway's view of a replica. A draining replica (health NOT_SERVING) is out of the
# balancing after HEALTH_INTERVAL_S x UNHEALTHY_THRESHOLD at most: the server's
# SHUTDOWN_DELAY_S must be longer than DRAIN_DETECTION_S.
HEALTH_INTERVAL_S = 1.0
HEALTH_TIMEOUT_S = 1.0
UNHEALTHY_THRESHOLD = 2
HEALTHY_THRESHOLD = 1  # a restarted replica takes traffic at its first SERVING answer
DRAIN_DETECTION_S = HEALTH_INTERVAL_S * UNHEALTHY_THRESHOLD
GATEWAY_CLUSTER = "replicas"
# Failures of a replica going away: the connection refused or reset, the stream refused,
# UNAVAILABLE, and CANCELLED, which a stopping gRPC server answers to the calls it had accepted
# but not started (a client's own cancel is never retried: the client is gone). Embedding RPCs
# are idempotent, so another replica may answer. RESOURCE_EXHAUSTED is not among them: it
# reaches the client with its retry hint (a replica under load, not one going away).
RETRY_ON = "reset,connect-failure,refused-stream,unavailable,cancelled"
NUM_RETRIES = 3  # with previous_hosts: every replica of three, and one more try
MAX_REQUESTS = 8192  # circuit breakers; see gateway.yaml.in

# Routes Envoy answers itself: the transcoder would refuse them as unknown methods first.
_NO_TRANSCODING = {
    "envoy.filters.http.grpc_json_transcoder": {
        "@type": "type.googleapis.com/envoy.config.route.v3.FilterConfig",
        "disabled": True,
    }
}

# HTTP status of an Envoy-made error -> the gRPC code its JSON body carries (google/rpc/code.proto).
_GRPC_CODE_BY_HTTP = {
    400: 3,
    401: 16,
    403: 7,
    404: 5,
    408: 4,
    413: 3,
    429: 8,
    500: 13,
    501: 12,
    502: 14,
    503: 14,
    504: 4,
}
_HOSTNAME = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9_-]{1,63}(?<!-))*\.?")


@dataclass(frozen=True)
class Address:
    """HOST:PORT as given on the command line: an IP literal (IPv6 in brackets) or a DNS name."""

    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> Address:
        host, sep, port = text.rpartition(":")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
            if not _is_ip(host):
                raise ConfigError(f"{text!r}: brackets hold an IPv6 address")
        elif ":" in host:
            raise ConfigError(f"{text!r}: write an IPv6 address in brackets, [::1]:50051")
        if not sep or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"{text!r} is not HOST:PORT with a port from 1 to 65535")
        if not (_is_ip(host) or _HOSTNAME.fullmatch(host)):
            raise ConfigError(f"{text!r}: {host!r} is neither an IP address nor a DNS name")
        return cls(host, int(port))

    @property
    def is_ip(self) -> bool:
        return _is_ip(self.host)

    def socket(self) -> dict[str, object]:
        """Envoy's socket_address."""
        return {"address": self.host, "port_value": self.port}

    def socket_address(self) -> str:
        """Envoy's socket_address, as one line of JSON (valid YAML) for a template."""
        return json.dumps(self.socket())

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Gateway:
    """What `--gateway` balances over and where it listens."""

    upstreams: tuple[Address, ...]
    listen_grpc: Address
    listen_rest: Address | None = None

    def __post_init__(self) -> None:
        if not self.upstreams:
            raise ConfigError("the gateway needs at least one --upstream")
        for listen in (self.listen_grpc, self.listen_rest):
            if listen is not None and not listen.is_ip:
                raise ConfigError(f"listen on an IP address (0.0.0.0, [::]), not {listen}")


@dataclass(frozen=True)
class Assets:
    """The files the REST listener serves: the installed package's, or a bundle's copies."""

    descriptor: Path
    openapi: Path
    docs_html: Path
    swagger_dir: Path

    @classmethod
    def installed(cls) -> Assets:
        return cls(
            descriptor=HERE / "descriptor.binpb",
            openapi=HERE / "openapi.json",
            docs_html=HERE / "docs.html",
            swagger_dir=swagger_ui_dir(),
        )

    def copy_to(self, folder: Path) -> Assets:
        """Copies every file into `folder` (flat); the copies, named by their absolute paths."""
        folder = folder.resolve()
        folder.mkdir(parents=True, exist_ok=True)
        for source in (self.descriptor, self.openapi, self.docs_html):
            shutil.copyfile(source, folder / source.name)
        for name in SWAGGER_FILES:
            shutil.copyfile(self.swagger_dir / name, folder / name)
        return Assets(
            descriptor=folder / self.descriptor.name,
            openapi=folder / self.openapi.name,
            docs_html=folder / self.docs_html.name,
            swagger_dir=folder,
        )


def swagger_ui_dir() -> Path:
    """Swagger UI's static files, from the flask-swagger-ui wheel (installed without Flask)."""
    spec = importlib.util.find_spec("flask_swagger_ui")
    folder = Path(spec.origin).parent / "dist" if spec and spec.origin else None
    if folder is None or not all((folder / name).is_file() for name in SWAGGER_FILES):
        raise ConfigError(
            f"Swagger UI assets are missing: pip install --no-deps {SWAGGER_UI_PACKAGE}"
        )
    return folder


def render(settings: Settings, assets: Assets | None = None) -> str:
    """The sidecar's complete Envoy config for these settings, as YAML."""
    text_route = {"cluster": "grpc", "timeout": _seconds(settings.rest_timeout_s)}
    image_route = {"cluster": "grpc", "timeout": _seconds(settings.rest_image_timeout_s)}
    rest = Address(settings.rest_host, settings.port)
    metrics = settings.rest_metrics and settings.metrics_port > 0
    listener = _rest_listener(
        settings, rest, assets or Assets.installed(), text_route, image_route, metrics
    )
    return _template(
        "envoy.yaml.in",
        METRICS_CLUSTER=_metrics_cluster(settings) if metrics else "",
        ADMIN=_admin(settings),
        LISTENERS=_indented(listener, 4),
        GRPC_ADDRESS=Address("127.0.0.1", settings.grpc_port).socket_address(),
        UPSTREAM_TLS=json.dumps(_upstream_tls(settings)),
    )


def render_gateway(gateway: Gateway, settings: Settings, assets: Assets | None = None) -> str:
    """The gateway's complete Envoy config: gRPC on `listen_grpc`, REST on `listen_rest` if set.

    From the settings it takes the admin port and the REST ones (CORS, body limit, timeouts);
    the REST timeouts also bound each try of a one-text or one-image gRPC call (the client's
    own deadline bounds the whole call).
    """
    text_s, image_s = settings.rest_timeout_s, settings.rest_image_timeout_s
    rest_listener = ""
    if gateway.listen_rest is not None:
        listener = _rest_listener(
            settings,
            gateway.listen_rest,
            assets or Assets.installed(),
            # The route timeout bounds a REST call, its retries included.
            {"cluster": GATEWAY_CLUSTER, "timeout": _seconds(text_s), **_retries(None)},
            {"cluster": GATEWAY_CLUSTER, "timeout": _seconds(image_s), **_retries(None)},
        )
        rest_listener = _indented(listener, 4)
    endpoints = [
        {"endpoint": {"address": {"socket_address": upstream.socket()}}}
        for upstream in gateway.upstreams
    ]
    return _template(
        "gateway.yaml.in",
        ADMIN=_admin(settings),
        GRPC_LISTEN=gateway.listen_grpc.socket_address(),
        GRPC_TEXT_ROUTE=json.dumps(_grpc_route(text_s)),
        GRPC_IMAGE_ROUTE=json.dumps(_grpc_route(image_s)),
        GRPC_ROUTE=json.dumps(_grpc_route(None)),
        REST_LISTENER=rest_listener,
        DNS_REFRESH="2s",
        KEEPALIVE_IDLE="10s",
        KEEPALIVE_TIMEOUT="3s",
        MAX_REQUESTS=MAX_REQUESTS,
        HEALTH_INTERVAL=_seconds(HEALTH_INTERVAL_S),
        HEALTH_TIMEOUT=_seconds(HEALTH_TIMEOUT_S),
        UNHEALTHY_THRESHOLD=UNHEALTHY_THRESHOLD,
        HEALTHY_THRESHOLD=HEALTHY_THRESHOLD,
        ENDPOINTS=json.dumps(endpoints),
        GRPC_DOWNSTREAM_TLS=json.dumps(_downstream_tls(settings, alpn=["h2"])),
        REPLICA_TLS=json.dumps(_upstream_tls(settings)),
        GRPC_RATE_LIMIT=json.dumps(
            _rate_limit("grpc_rate_limit", settings if settings.rate_limit_rps else None)
        ),
    )


def write_bundle(folder: Path, settings: Settings, gateway: Gateway | None = None) -> Path:
    """Writes `folder/envoy.yaml` and every file it serves, copied into `folder` and named by
    their paths there: mount `folder` at the same path in an Envoy container (no Python)."""
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    serves_files = gateway is None or gateway.listen_rest is not None
    assets = Assets.installed().copy_to(folder) if serves_files else None
    config = folder / BUNDLE_CONFIG
    config.write_text(_config(settings, gateway, assets))
    return config


def _config(settings: Settings, gateway: Gateway | None, assets: Assets | None) -> str:
    """The sidecar's config, or the gateway's; `None` assets: the installed files."""
    if gateway is None:
        return render(settings, assets)
    return render_gateway(gateway, settings, assets)


def _grpc_route(per_try_s: float | None) -> dict[str, object]:
    """A gRPC route: no route timeout (the client's grpc-timeout header is the deadline, passed
    through uncapped), retries, and `per_try_s` for each try if set."""
    return {
        "cluster": GATEWAY_CLUSTER,
        "timeout": "0s",
        "max_stream_duration": {"grpc_timeout_header_max": "0s"},
        **_retries(per_try_s),
    }


def _retries(per_try_s: float | None) -> dict[str, object]:
    policy: dict[str, object] = {
        "retry_on": RETRY_ON,
        "num_retries": NUM_RETRIES,
        # Each retry goes to a replica not tried yet for this request.
        "retry_host_predicate": [
            {
                "name": "envoy.retry_host_predicates.previous_hosts",
                "typed_config": {
                    "@type": "type.googleapis.com/"
                    "envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate"
                },
            }
        ],
        "host_selection_retry_max_attempts": 5,
        "retry_back_off": {"base_interval": "0.025s", "max_interval": "0.25s"},
    }
    if per_try_s is not None:
        policy["per_try_timeout"] = _seconds(per_try_s)
    return {"retry_policy": policy}


def _rest_listener(
    settings: Settings,
    listen: Address,
    assets: Assets,
    text_route: Mapping[str, object],
    image_route: Mapping[str, object],
    metrics: bool = False,
) -> str:
    """The REST listener; `metrics`: /metrics too, from the server's METRICS_PORT."""
    policy = cors_policy(settings.cors_origins, settings.disable_cors)
    matchers = (
        [{"safe_regex": {"regex": ".*"}}]
        if policy.allow_all
        else [{"exact": origin} for origin in policy.origins]
    )
    return _template(
        "rest_listener.yaml.in",
        REST_ADDRESS=listen.socket_address(),
        METRICS_ROUTE=" " * 20 + "- " + json.dumps(_METRICS_ROUTE) if metrics else "",
        DOWNSTREAM_TLS=json.dumps(_downstream_tls(settings)),
        RATE_LIMIT_FILTER=json.dumps(_rate_limit("rest_rate_limit", None)),
        RATE_LIMIT=json.dumps(
            {"envoy.filters.http.local_ratelimit": _rate_limit("rest_rate_limit", settings)}
            if settings.rate_limit_rps
            else {}
        ),
        CORS_ORIGIN_MATCHERS=json.dumps(matchers),
        NO_TRANSCODING=json.dumps(_NO_TRANSCODING),
        LOCAL_REPLY_MAPPERS=json.dumps(_local_reply_mappers()),
        OPENAPI=assets.openapi,
        DOCS_HTML=assets.docs_html,
        SWAGGER_DIR=assets.swagger_dir,
        DESCRIPTOR=assets.descriptor,
        MAX_BODY_BYTES=settings.rest_max_body_bytes,
        TEXT_ROUTE=json.dumps(text_route),
        IMAGE_ROUTE=json.dumps(image_route),
    )


# REST_METRICS: GET /metrics answered by the server's metrics port, untranscoded. It is
# outside the API keys' reach (they guard gRPC calls), so it is off unless asked for.
_METRICS_ROUTE = {
    "match": {"path": "/metrics"},
    "typed_per_filter_config": _NO_TRANSCODING,
    "route": {"cluster": "metrics", "timeout": "10s"},
}


def _metrics_cluster(settings: Settings) -> str:
    """The cluster of the server's metrics port (HTTP/1.1, on 127.0.0.1 beside Envoy)."""
    cluster = {
        "name": "metrics",
        "type": "STATIC",
        "connect_timeout": "2s",
        "load_assignment": {
            "cluster_name": "metrics",
            "endpoints": [
                {
                    "lb_endpoints": [
                        {
                            "endpoint": {
                                "address": {
                                    "socket_address": Address(
                                        "127.0.0.1", settings.metrics_port
                                    ).socket()
                                }
                            }
                        }
                    ]
                }
            ],
        },
    }
    return " " * 4 + "- " + json.dumps(cluster)


def _rate_limit(prefix: str, settings: Settings | None) -> dict[str, object]:
    """Envoy's local rate limit: a token bucket of RATE_LIMIT_RPS a second holding up to
    RATE_LIMIT_BURST (default: one second's worth). Refused calls get HTTP 429 with
    `retry-after: 1` and the x-ratelimit headers; gRPC ones RESOURCE_EXHAUSTED. None: the
    filter without a bucket, which limits nothing (routes give theirs)."""
    config: dict[str, object] = {
        "@type": "type.googleapis.com/"
        "envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit",
        "stat_prefix": prefix,
    }
    if settings is None:
        return config
    rps = settings.rate_limit_rps
    everything = {"default_value": {"numerator": 100, "denominator": "HUNDRED"}}
    return {
        **config,
        "token_bucket": {
            "max_tokens": settings.rate_limit_burst or rps,
            "tokens_per_fill": rps,
            "fill_interval": "1s",
        },
        "filter_enabled": {"runtime_key": f"{prefix}_enabled", **everything},
        "filter_enforced": {"runtime_key": f"{prefix}_enforced", **everything},
        "rate_limited_as_resource_exhausted": True,
        "enable_x_ratelimit_headers": "DRAFT_VERSION_03",
        "response_headers_to_add": [
            {"append_action": "OVERWRITE_IF_EXISTS_OR_ADD",
             "header": {"key": "retry-after", "value": "1"}}
        ],
    }  # fmt: skip


_TLS_SOCKET = "envoy.transport_sockets.tls"
_TLS_TYPES = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3."


def _certificate(settings: Settings) -> list[dict[str, object]]:
    return [
        {
            "certificate_chain": {"filename": str(settings.tls_cert)},
            "private_key": {"filename": str(settings.tls_key)},
        }
    ]


def _downstream_tls(settings: Settings, alpn: list[str] | None = None) -> dict[str, object] | None:
    """A listener over TLS with the server's own files: ALPN offers HTTP/2 and HTTP/1.1 (REST)
    or `alpn`, and with TLS_CLIENT_CA a client certificate it signed is required, as on the
    server's gRPC port. Envoy reads the files at start: a rotated certificate takes a restart
    of Envoy (the server itself reloads its own)."""
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    context: dict[str, object] = {
        "tls_certificates": _certificate(settings),
        "alpn_protocols": alpn or ["h2", "http/1.1"],
    }
    tls: dict[str, object] = {"@type": _TLS_TYPES + "DownstreamTlsContext"}
    if settings.tls_client_ca is not None:
        context["validation_context"] = {"trusted_ca": {"filename": str(settings.tls_client_ca)}}
        tls["require_client_certificate"] = True
    tls["common_tls_context"] = context
    return {"name": _TLS_SOCKET, "typed_config": tls}


def _upstream_tls(settings: Settings) -> dict[str, object] | None:
    """The hop to the server (the sidecar's, on 127.0.0.1) or to the replicas (the gateway's)
    over TLS when TLS_CERT is set: the servers serve TLS then and accept nothing else. The
    chain is verified against TLS_UPSTREAM_CA when set; names are not (a replica is reached
    by its pod IP, which its certificate does not name). With mTLS Envoy presents TLS_CERT,
    so TLS_CLIENT_CA must trust its issuer."""
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    context: dict[str, object] = {"alpn_protocols": ["h2"]}
    if settings.tls_upstream_ca is not None:
        context["validation_context"] = {"trusted_ca": {"filename": str(settings.tls_upstream_ca)}}
    if settings.tls_client_ca is not None:
        context["tls_certificates"] = _certificate(settings)
    tls = {"@type": _TLS_TYPES + "UpstreamTlsContext", "common_tls_context": context}
    return {"name": _TLS_SOCKET, "typed_config": tls}


def _admin(settings: Settings) -> str:
    return _template("admin.yaml.in", ADMIN_PORT=settings.envoy_admin_port)


def _local_reply_mappers() -> list[dict[str, object]]:
    """One mapper per error status, then any other status >= 400 as UNKNOWN (2)."""

    def mapper(op: str, status: int, code: int) -> dict[str, object]:
        comparison = {"op": op, "value": {"default_value": status, "runtime_key": f"lr_{status}"}}
        return {
            "filter": {"status_code_filter": {"comparison": comparison}},
            "body_format_override": {
                "json_format": {"code": code, "message": "%LOCAL_REPLY_BODY%"},
                "content_type": "application/json",
            },
        }

    exact = [mapper("EQ", status, code) for status, code in _GRPC_CODE_BY_HTTP.items()]
    return [*exact, mapper("GE", 400, 2)]


def _template(name: str, **values: object) -> str:
    return Template((HERE / name).read_text()).substitute({k: str(v) for k, v in values.items()})


def _indented(text: str, spaces: int) -> str:
    return textwrap.indent(text.rstrip("\n"), " " * spaces)


def _seconds(value: float) -> str:
    return f"{value:g}s"


def _address(text: str) -> Address:
    try:
        return Address.parse(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: list[str] | None = None) -> int:
    """`nomic-serve-envoy-config`: prints (or writes) the sidecar's or the gateway's config."""
    parser = argparse.ArgumentParser(
        prog="nomic-serve-envoy-config",
        description="Prints the Envoy config: the REST sidecar's (from PORT, GRPC_PORT, CORS_*, "
        "REST_*, ENVOY_ADMIN_PORT), or with --gateway a gRPC load balancer over replicas.",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    output.add_argument(
        "--bundle",
        type=Path,
        metavar="DIR",
        help=f"write DIR/{BUNDLE_CONFIG} and every file it serves into DIR, named by their "
        "paths there (for an Envoy container that mounts DIR at the same path)",
    )
    gateway = parser.add_argument_group("gateway")
    gateway.add_argument(
        "--gateway", action="store_true", help="balance gRPC per request over --upstream"
    )
    gateway.add_argument(
        "--upstream",
        type=_address,
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="a replica's gRPC address; a DNS name (a headless Service) may stand for many",
    )
    gateway.add_argument("--listen-grpc", type=_address, metavar="HOST:PORT")
    gateway.add_argument(
        "--listen-rest", type=_address, metavar="HOST:PORT", help="also serve the REST API"
    )
    args = parser.parse_args(argv)
    if not args.gateway and (args.upstream or args.listen_grpc or args.listen_rest):
        parser.error("--upstream, --listen-grpc and --listen-rest need --gateway")
    if args.gateway and not (args.upstream and args.listen_grpc):
        parser.error("--gateway needs --upstream HOST:PORT (one or more) and --listen-grpc")
    try:
        settings = Settings.from_env()
        plan = (
            Gateway(tuple(args.upstream), args.listen_grpc, args.listen_rest)
            if args.gateway
            else None
        )
        if args.bundle:
            write_bundle(args.bundle, settings, plan)
            return 0
        config = _config(settings, plan, None)
    except (ConfigError, OSError) as exc:
        print(f"nomic-serve-envoy-config: {exc}", file=sys.stderr)
        return 1
    if args.output:
        args.output.write_text(config)
    else:
        sys.stdout.write(config)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
