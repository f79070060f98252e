"""All configuration, read once from the environment at start-up.

Every variable is documented in the README's configuration table, and
`tests/unit/test_config.py` fails if the table and `ENVIRONMENT` drift apart.
The original server's variables keep their names and defaults.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from .errors import ConfigError

__all__ = ["ENVIRONMENT", "PREFIX_NAMES", "Settings"]

DEFAULT_TXT_MODEL = Path("models/txt/model_quantized.onnx")
DEFAULT_TOKENIZER = Path("models/txt/tokenizer.json")
DEFAULT_IMG_MODEL = Path("models/img/model_quantized.onnx")
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "nomic-serve"
DISABLED = "none"  # TXT_MODEL=none / IMG_MODEL=none: serve without that model
PREFIX_NAMES = ("search_query", "search_document", "clustering", "classification", "none")
AVERAGING_METHODS = ("arithmetic", "geometric")
POOLING_METHODS = ("mean", "cls")
OTLP_PROTOCOLS = ("grpc", "http/protobuf")

# Variable name -> one-line description; the README table is checked against these keys.
ENVIRONMENT = {
    "PORT": "REST port served by the Envoy sidecar",
    "GRPC_PORT": "gRPC port of the server",
    "GRPC_HOST": "gRPC bind address",
    "TXT_MODEL": "text ONNX model (none: serve no text model)",
    "MODEL": "fallback for TXT_MODEL",
    "TOKENIZER": "tokenizer.json of the text model",
    "IMG_MODEL": "vision ONNX model (none: serve no vision model)",
    "USE_GPU": "add the CUDA execution provider (CPU fallback)",
    "AVERAGING": "default ImageStats colour averaging",
    "DISABLE_CORS": "allow every origin",
    "CORS_ORIGINS": "allowed origins, comma-separated",
    "DEFAULT_PREFIX": "task prefix when a request names none",
    "TXT_MODEL_NAME": "name reported for the text model",
    "TXT_POOLING": "override the profile's pooling",
    "TXT_MAX_TOKENS": "override the profile's maximum input tokens",
    "TXT_PREFIXES": "override whether task prefixes are applied",
    "TXT_LAYER_NORM": "override the Matryoshka layer norm",
    "CACHE_DIR": "where the embedded model is converted and cached",
    "CACHE_SEED_DIR": "read-only cache filled at build time, looked up before CACHE_DIR",
    "QUANT_RANGES": "JSON file of int8/uint8 calibration ranges (default: built-in corpus)",
    "INFO_SHOW_PATHS": "Info shows resolved model paths, not only the configured ones",
    "INTRA_OP_THREADS": "ONNX Runtime threads per inference",
    "INFERENCE_WORKERS": "inferences run at once",
    "SOLO_SESSION": "isolated models: a second session on every core for a lone input",
    "MAX_PENDING_ITEMS": "texts queued at once before RESOURCE_EXHAUSTED",
    "MAX_BATCH_SIZE": "texts per batch",
    "MAX_BATCH_TOKENS": "padded tokens per batch",
    "MAX_PADDING_RATIO": "padded / real tokens a batch may reach",
    "BATCH_WAIT_MS": "pause letting a batch fill",
    "CACHE_MB": "size of the embedding cache",
    "MAX_LIST_INPUTS": "most inputs in one list request",
    "MAX_INPUT_CHARS": "longest text in characters, checked before tokenizing",
    "TOKENIZE_WORKERS": "threads tokenizing long texts",
    "STREAM_WINDOW": "EmbedBatch items in flight per stream",
    "GRPC_MAX_MESSAGE_MB": "largest gRPC message accepted",
    "REQUEST_MAX_PENDING_MB": "bytes of large requests (over 1 MB) held at once",
    "SERVER_PROCESSES": "server processes sharing GRPC_PORT, each on its share of the cores",
    "SHUTDOWN_GRACE_S": "seconds in-flight requests get on SIGTERM",
    "SHUTDOWN_DELAY_S": "seconds still served after SIGTERM while health reports NOT_SERVING",
    "LOG_LEVEL": "log level",
    "IMAGE_MAX_MB": "largest compressed image accepted",
    "IMAGE_MAX_PIXELS": "largest decoded image (decompression bombs)",
    "IMAGE_MAX_PER_REQUEST": "most images in one request",
    "IMAGE_DECODE_TIMEOUT_S": "time allowed to decode one request's images",
    "IMAGE_EXIF_ORIENTATION": "rotate by EXIF orientation before embedding",
    "PREPROCESS_WORKERS": "threads decoding and preprocessing images",
    "WORKER_NICE": "how much lower the worker threads' CPU priority is than the event loop's",
    "IMAGE_MAX_PENDING": "images in flight at once before RESOURCE_EXHAUSTED",
    "IMAGE_MAX_PENDING_MB": "compressed image bytes in flight at once",
    "IMAGE_DECODE_MB": "memory all images being decoded at once may take",
    "FETCH_TIMEOUT_S": "total time allowed to fetch one image URL",
    "FETCH_MAX_REDIRECTS": "redirects followed when fetching a URL",
    "FETCH_ALLOW_NETWORKS": "private networks image URLs may reach (SSRF allow-list)",
    "FETCH_CONNECTIONS": "image URL downloads at once, server-wide",
    "FETCH_CONNECTIONS_PER_REQUEST": "image URL downloads at once for one request",
    "REST_HOST": "address the Envoy REST listener binds",
    "REST_MAX_BODY_MB": "largest REST request body",
    "REST_TIMEOUT_S": "REST timeout of the text routes",
    "REST_IMAGE_TIMEOUT_S": "REST timeout of the image routes",
    "ENVOY_ADMIN_PORT": "Envoy admin port, on 127.0.0.1",
    "RATE_LIMIT_RPS": "Envoy's requests per second per route (0: no limit)",
    "RATE_LIMIT_BURST": "requests a route may take at once above RATE_LIMIT_RPS (0: one second's)",
    "METRICS_PORT": "Prometheus /metrics port (0: off)",
    "METRICS_HOST": "address the metrics port binds",
    "REST_METRICS": "the Envoy sidecar also serves /metrics on the REST port",
    "TLS_CERT": "PEM certificate chain: the gRPC port serves TLS",
    "TLS_KEY": "PEM private key of TLS_CERT",
    "TLS_CLIENT_CA": "PEM CA bundle: clients must present a certificate it signed (mTLS)",
    "TLS_UPSTREAM_CA": "PEM CA bundle Envoy verifies the server's certificate chain with",
    "HEALTH_PORT": "plaintext port serving only the standard gRPC health service (0: off)",
    "OTEL_EXPORTER_OTLP_ENDPOINT": "OTLP collector: traces are exported when set",
    "OTEL_EXPORTER_OTLP_PROTOCOL": "OTLP transport: grpc or http/protobuf",
    "OTEL_SERVICE_NAME": "service.name of the exported spans",
    "OTEL_SDK_DISABLED": "true: no traces even with an endpoint set",
    "API_KEYS": "API keys accepted, comma-separated (unset: no key needed)",
    "API_KEYS_FILE": "file of API keys, one per line, re-read on SIGHUP",
    "API_KEYS_OPEN": "methods that need no key: health, reflection, none",
    "API_KEY_RATE_LIMIT_RPS": "calls a second each API key may make, per process (0: no limit)",
    "API_KEY_RATE_LIMIT_BURST": "calls a key may make at once (0: one second's worth)",
}

# Variables whose values never appear in a message or a log line.
SECRETS = frozenset({"API_KEYS"})

T = TypeVar("T")
N = TypeVar("N", int, float)


@dataclass(frozen=True)
class Settings:
    """The server's configuration; build it with `Settings.from_env()`."""

    port: int = 8080
    grpc_port: int = 50051
    grpc_host: str = "[::]"
    txt_model: Path = DEFAULT_TXT_MODEL
    txt_model_explicit: bool = False
    tokenizer: Path = DEFAULT_TOKENIZER
    tokenizer_explicit: bool = False
    img_model: Path = DEFAULT_IMG_MODEL
    img_model_explicit: bool = False
    use_gpu: bool = False
    averaging: str = "geometric"
    disable_cors: bool = False
    cors_origins: str | None = None
    default_prefix: str = "search_query"
    txt_model_name: str | None = None
    txt_pooling: str | None = None
    txt_max_tokens: int | None = None
    txt_prefixes: bool | None = None
    txt_layer_norm: bool | None = None
    cache_dir: Path = DEFAULT_CACHE_DIR
    cache_seed_dir: Path | None = None
    quant_ranges: Path | None = None
    info_show_paths: bool = False
    intra_op_threads: int = 0  # 0: by mode (every core batched, cores / workers isolated)
    inference_workers: int = 0  # 0: by the graph's mode (1 batched, one per core isolated)
    solo_session: bool = True
    max_pending_items: int = 4096
    max_batch_size: int = 64
    max_batch_tokens: int = 0  # 0: by provider (see models/loader.py)
    max_padding_ratio: float = 1.5
    batch_wait_ms: float = 0.0
    cache_bytes: int = 64 * 1024 * 1024
    max_list_inputs: int = 2048
    max_input_chars: int = 0  # 0: by model, CHARS_PER_TOKEN x its maximum tokens
    tokenize_workers: int = 2
    stream_window: int = 64
    grpc_max_message_mb: int = 32
    request_max_pending_bytes: int = 64 * 1024 * 1024
    server_processes: int = 1
    shutdown_grace_s: float = 10.0
    shutdown_delay_s: float = 3.0
    log_level: str = "INFO"
    image_max_bytes: int = 20 * 1024 * 1024
    image_max_pixels: int = 50_000_000
    image_max_per_request: int = 32
    image_decode_timeout_s: float = 10.0
    image_exif_orientation: bool = False
    preprocess_workers: int = 2
    worker_nice: int = 10
    image_max_pending: int = 128
    image_max_pending_bytes: int = 256 * 1024 * 1024
    image_decode_bytes: int = 128 * 1024 * 1024
    fetch_timeout_s: float = 10.0
    fetch_max_redirects: int = 3
    fetch_allow_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    fetch_connections: int = 64
    fetch_connections_per_request: int = 8
    rest_host: str = "0.0.0.0"
    rest_max_body_bytes: int = 32 * 1024 * 1024
    rest_timeout_s: float = 30.0
    rest_image_timeout_s: float = 60.0
    envoy_admin_port: int = 9901
    rate_limit_rps: int = 0
    rate_limit_burst: int = 0
    metrics_port: int = 9000
    metrics_host: str = "0.0.0.0"
    rest_metrics: bool = False
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_client_ca: Path | None = None
    tls_upstream_ca: Path | None = None
    health_port: int = 0
    otel_endpoint: str | None = None  # None: no traces
    otel_protocol: str = "http/protobuf"
    otel_service_name: str = "nomic-serve"
    api_keys: tuple[str, ...] = field(default=(), repr=False)  # secrets: never printed
    api_keys_file: Path | None = None
    api_keys_open: tuple[str, ...] = ("health", "reflection")
    api_key_rate_limit_rps: float = 0.0
    api_key_rate_limit_burst: int = 0

    def __post_init__(self) -> None:
        if self.max_list_inputs > self.max_pending_items:
            raise ConfigError(
                f"MAX_LIST_INPUTS={self.max_list_inputs} exceeds MAX_PENDING_ITEMS="
                f"{self.max_pending_items}: such a list could never be queued"
            )
        if self.image_max_per_request > self.image_max_pending:
            raise ConfigError(
                f"IMAGE_MAX_PER_REQUEST={self.image_max_per_request} exceeds IMAGE_MAX_PENDING="
                f"{self.image_max_pending}: such a request could never be admitted"
            )
        if self.grpc_max_message_mb * 1024 * 1024 > self.request_max_pending_bytes:
            raise ConfigError(
                "GRPC_MAX_MESSAGE_MB exceeds REQUEST_MAX_PENDING_MB: a request of the largest "
                "size allowed could never be admitted"
            )
        if self.image_max_bytes > self.image_max_pending_bytes:
            raise ConfigError(
                "IMAGE_MAX_MB exceeds IMAGE_MAX_PENDING_MB: an image of the largest size "
                "allowed could never be admitted"
            )

    @property
    def text_disabled(self) -> bool:
        return self.txt_model_explicit and str(self.txt_model).lower() == DISABLED

    @property
    def vision_disabled(self) -> bool:
        return self.img_model_explicit and str(self.img_model).lower() == DISABLED

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Reads and checks every variable; a bad value raises ConfigError naming it."""
        env = _Env(os.environ if environ is None else environ)
        txt_model_raw = env.raw("TXT_MODEL") or env.raw("MODEL")
        return cls(
            port=env.get("PORT", _port, cls.port),
            grpc_port=env.get("GRPC_PORT", _port, cls.grpc_port),
            grpc_host=env.get("GRPC_HOST", str, cls.grpc_host),
            txt_model=Path(txt_model_raw) if txt_model_raw else DEFAULT_TXT_MODEL,
            txt_model_explicit=bool(txt_model_raw),
            tokenizer=env.get("TOKENIZER", Path, DEFAULT_TOKENIZER),
            tokenizer_explicit=env.raw("TOKENIZER") is not None,
            img_model=env.get("IMG_MODEL", Path, DEFAULT_IMG_MODEL),
            img_model_explicit=env.raw("IMG_MODEL") is not None,
            use_gpu=env.get("USE_GPU", _flag, cls.use_gpu),
            averaging=env.get("AVERAGING", _choice(AVERAGING_METHODS), cls.averaging),
            disable_cors=env.get("DISABLE_CORS", _flag, cls.disable_cors),
            cors_origins=env.raw("CORS_ORIGINS"),
            default_prefix=env.get("DEFAULT_PREFIX", _choice(PREFIX_NAMES), cls.default_prefix),
            txt_model_name=env.raw("TXT_MODEL_NAME"),
            txt_pooling=env.get("TXT_POOLING", _choice(POOLING_METHODS), None),
            txt_max_tokens=env.get("TXT_MAX_TOKENS", _positive_int, None),
            txt_prefixes=env.get("TXT_PREFIXES", _flag, None),
            txt_layer_norm=env.get("TXT_LAYER_NORM", _flag, None),
            cache_dir=env.get("CACHE_DIR", Path, DEFAULT_CACHE_DIR),
            cache_seed_dir=env.get("CACHE_SEED_DIR", Path, None),
            quant_ranges=env.get("QUANT_RANGES", Path, None),
            info_show_paths=env.get("INFO_SHOW_PATHS", _flag, cls.info_show_paths),
            intra_op_threads=env.get("INTRA_OP_THREADS", _non_negative_int, cls.intra_op_threads),
            inference_workers=env.get(
                "INFERENCE_WORKERS", _non_negative_int, cls.inference_workers
            ),
            solo_session=env.get("SOLO_SESSION", _flag, cls.solo_session),
            max_pending_items=env.get("MAX_PENDING_ITEMS", _positive_int, cls.max_pending_items),
            max_batch_size=env.get("MAX_BATCH_SIZE", _positive_int, cls.max_batch_size),
            max_batch_tokens=env.get("MAX_BATCH_TOKENS", _non_negative_int, cls.max_batch_tokens),
            max_padding_ratio=env.get("MAX_PADDING_RATIO", _ratio, cls.max_padding_ratio),
            batch_wait_ms=env.get("BATCH_WAIT_MS", _non_negative_float, cls.batch_wait_ms),
            cache_bytes=env.get("CACHE_MB", _megabytes_or_zero, cls.cache_bytes),
            max_list_inputs=env.get("MAX_LIST_INPUTS", _positive_int, cls.max_list_inputs),
            max_input_chars=env.get("MAX_INPUT_CHARS", _non_negative_int, cls.max_input_chars),
            tokenize_workers=env.get("TOKENIZE_WORKERS", _positive_int, cls.tokenize_workers),
            stream_window=env.get("STREAM_WINDOW", _positive_int, cls.stream_window),
            grpc_max_message_mb=env.get(
                "GRPC_MAX_MESSAGE_MB", _positive_int, cls.grpc_max_message_mb
            ),
            request_max_pending_bytes=env.get(
                "REQUEST_MAX_PENDING_MB", _megabytes, cls.request_max_pending_bytes
            ),
            server_processes=env.get("SERVER_PROCESSES", _positive_int, cls.server_processes),
            shutdown_grace_s=env.get("SHUTDOWN_GRACE_S", _non_negative_float, cls.shutdown_grace_s),
            shutdown_delay_s=env.get("SHUTDOWN_DELAY_S", _non_negative_float, cls.shutdown_delay_s),
            log_level=env.get("LOG_LEVEL", _log_level, cls.log_level),
            image_max_bytes=env.get("IMAGE_MAX_MB", _megabytes, cls.image_max_bytes),
            image_max_pixels=env.get("IMAGE_MAX_PIXELS", _pixel_count, cls.image_max_pixels),
            image_max_per_request=env.get(
                "IMAGE_MAX_PER_REQUEST", _positive_int, cls.image_max_per_request
            ),
            image_decode_timeout_s=env.get(
                "IMAGE_DECODE_TIMEOUT_S", _positive_float, cls.image_decode_timeout_s
            ),
            image_exif_orientation=env.get(
                "IMAGE_EXIF_ORIENTATION", _flag, cls.image_exif_orientation
            ),
            preprocess_workers=env.get("PREPROCESS_WORKERS", _positive_int, cls.preprocess_workers),
            worker_nice=env.get("WORKER_NICE", _nice, cls.worker_nice),
            image_max_pending=env.get("IMAGE_MAX_PENDING", _positive_int, cls.image_max_pending),
            image_max_pending_bytes=env.get(
                "IMAGE_MAX_PENDING_MB", _megabytes, cls.image_max_pending_bytes
            ),
            image_decode_bytes=env.get("IMAGE_DECODE_MB", _megabytes, cls.image_decode_bytes),
            fetch_timeout_s=env.get("FETCH_TIMEOUT_S", _positive_float, cls.fetch_timeout_s),
            fetch_max_redirects=env.get(
                "FETCH_MAX_REDIRECTS", _non_negative_int, cls.fetch_max_redirects
            ),
            fetch_allow_networks=env.get("FETCH_ALLOW_NETWORKS", _networks, ()),
            fetch_connections=env.get("FETCH_CONNECTIONS", _positive_int, cls.fetch_connections),
            fetch_connections_per_request=env.get(
                "FETCH_CONNECTIONS_PER_REQUEST", _positive_int, cls.fetch_connections_per_request
            ),
            rest_host=env.get("REST_HOST", str, cls.rest_host),
            rest_max_body_bytes=env.get("REST_MAX_BODY_MB", _megabytes, cls.rest_max_body_bytes),
            rest_timeout_s=env.get("REST_TIMEOUT_S", _positive_float, cls.rest_timeout_s),
            rest_image_timeout_s=env.get(
                "REST_IMAGE_TIMEOUT_S", _positive_float, cls.rest_image_timeout_s
            ),
            envoy_admin_port=env.get("ENVOY_ADMIN_PORT", _port, cls.envoy_admin_port),
            rate_limit_rps=env.get("RATE_LIMIT_RPS", _non_negative_int, cls.rate_limit_rps),
            rate_limit_burst=env.get("RATE_LIMIT_BURST", _non_negative_int, cls.rate_limit_burst),
            metrics_port=env.get("METRICS_PORT", _port, cls.metrics_port),
            metrics_host=env.get("METRICS_HOST", str, cls.metrics_host),
            rest_metrics=env.get("REST_METRICS", _flag, cls.rest_metrics),
            tls_cert=env.get("TLS_CERT", Path, None),
            tls_key=env.get("TLS_KEY", Path, None),
            tls_client_ca=env.get("TLS_CLIENT_CA", Path, None),
            tls_upstream_ca=env.get("TLS_UPSTREAM_CA", Path, None),
            health_port=env.get("HEALTH_PORT", _port, cls.health_port),
            otel_endpoint=(
                None
                if env.get("OTEL_SDK_DISABLED", _flag, False)
                else env.get("OTEL_EXPORTER_OTLP_ENDPOINT", str, None)
            ),
            otel_protocol=env.get(
                "OTEL_EXPORTER_OTLP_PROTOCOL", _choice(OTLP_PROTOCOLS), cls.otel_protocol
            ),
            otel_service_name=env.get("OTEL_SERVICE_NAME", str, cls.otel_service_name),
            api_keys=env.get("API_KEYS", _keys, ()),
            api_keys_file=env.get("API_KEYS_FILE", Path, None),
            api_keys_open=env.get("API_KEYS_OPEN", _open_groups, cls.api_keys_open),
            api_key_rate_limit_rps=env.get(
                "API_KEY_RATE_LIMIT_RPS", _non_negative_float, cls.api_key_rate_limit_rps
            ),
            api_key_rate_limit_burst=env.get(
                "API_KEY_RATE_LIMIT_BURST", _non_negative_int, cls.api_key_rate_limit_burst
            ),
        )


class _Env:
    """Typed access to the environment; only names listed in ENVIRONMENT may be read."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def raw(self, name: str) -> str | None:
        assert name in ENVIRONMENT, f"{name} is not documented in ENVIRONMENT"
        value = self._environ.get(name, "").strip()
        return value or None

    def get(self, name: str, parse: Callable[[str], T], default: T) -> T:
        value = self.raw(name)
        if value is None:
            return default
        try:
            return parse(value)
        except ValueError as exc:
            shown = "(a secret, not shown)" if name in SECRETS else repr(value)
            raise ConfigError(f"{name}={shown} is invalid: {exc}") from None


def _flag(value: str) -> bool:
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected 1/true or 0/false")


def _at_least(parse: Callable[[str], N], minimum: float, message: str) -> Callable[[str], N]:
    """A parser that refuses numbers below `minimum` (and nan) with `message`."""

    def checked(value: str) -> N:
        number = parse(value)
        if not number >= minimum:
            raise ValueError(message)
        return number

    return checked


_positive_int = _at_least(int, 1, "must be at least 1")
_non_negative_int = _at_least(int, 0, "must be 0 or more")
_non_negative_float = _at_least(float, 0, "must be 0 or more")
_ratio = _at_least(float, 1, "must be at least 1 (1: batches never pad)")


def _positive_float(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise ValueError("must be more than 0")
    return number


def _megabytes(value: str) -> int:
    return int(_positive_float(value) * 1024 * 1024)


def _megabytes_or_zero(value: str) -> int:
    return int(_non_negative_float(value) * 1024 * 1024)


def _networks(value: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Comma-separated CIDRs or single addresses, e.g. `10.0.0.0/8,192.168.1.7`."""
    return tuple(ipaddress.ip_network(part.strip()) for part in value.split(",") if part.strip())


def _pixel_count(value: str) -> int:
    """Pillow refuses images above its own bomb guard; a larger limit could never apply."""
    from PIL import Image

    number = _positive_int(value)
    if Image.MAX_IMAGE_PIXELS and number > Image.MAX_IMAGE_PIXELS:
        raise ValueError(f"must be at most {Image.MAX_IMAGE_PIXELS} (Pillow's own limit)")
    return number


def _nice(value: str) -> int:
    number = int(value)
    if not 0 <= number <= 19:
        raise ValueError("must be 0 (off) to 19")
    return number


def _keys(value: str) -> tuple[str, ...]:
    """Comma-separated keys; the error never repeats the value (it is a secret)."""
    keys = tuple(key.strip() for key in value.split(",") if key.strip())
    if not keys:
        raise ValueError("no key in it")
    return keys


def _open_groups(value: str) -> tuple[str, ...]:
    groups = tuple(group.strip().lower() for group in value.split(",") if group.strip())
    if groups == ("none",):
        return ()
    unknown = [group for group in groups if group not in ("health", "reflection")]
    if unknown:
        raise ValueError("expected health, reflection (comma-separated) or none")
    return groups


def _port(value: str) -> int:
    number = int(value)
    if not 0 <= number <= 65535:
        raise ValueError("must be a port number, 0 to 65535")
    return number


def _choice(allowed: tuple[str, ...]) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value.lower() not in allowed:
            raise ValueError("expected one of " + ", ".join(allowed))
        return value.lower()

    return parse


def _log_level(value: str) -> str:
    return _choice(("debug", "info", "warning", "error"))(value).upper()
