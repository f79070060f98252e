"""The Envoy configs: CORS rules, the sidecar's and the gateway's configs, and bundles."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml

from nomic_serve.api.server import HEALTH_TEXT
from nomic_serve.config import Settings
from nomic_serve.errors import ConfigError
from nomic_serve.gateway.cors import DEFAULT_ORIGINS, CorsPolicy, cors_policy
from nomic_serve.gateway.envoy_config import (
    DRAIN_DETECTION_S,
    HEALTH_INTERVAL_S,
    SWAGGER_FILES,
    UNHEALTHY_THRESHOLD,
    Address,
    Gateway,
    render,
    render_gateway,
    swagger_ui_dir,
)

from ..support.processes import free_port
from ..support.waiting import eventually_sync

ENVOY = Path(sys.executable).parent / "envoy"
GATEWAY_DIR = Path(__file__).resolve().parents[2] / "server" / "nomic_serve" / "gateway"


def test_defaults_are_the_original_localhost_origins() -> None:
    assert cors_policy(None, False) == CorsPolicy(False, DEFAULT_ORIGINS)
    assert DEFAULT_ORIGINS == (
        "http://localhost:3000",
        "http://localhost:8080",
        "http://127.0.0.1:3000",
        "http://127.0.0.1:8080",
    )


def test_cors_origins_replace_the_defaults_and_invalid_ones_are_logged(caplog) -> None:
    caplog.set_level(logging.WARNING)
    raw = "https://App.Example.com/, http://*.example.com, ftp://x.y, example.com, https://a:8443,"
    policy = cors_policy(raw, False)
    assert policy == CorsPolicy(False, ("https://app.example.com", "https://a:8443"))
    ignored = [r.getMessage() for r in caplog.records]
    assert len(ignored) == 3 and all("ignoring invalid origin" in m for m in ignored)


@pytest.mark.parametrize("raw", ["", " , ", "*", "http://localhost:3000/path", "javascript:x"])
def test_no_valid_origin_falls_back_to_localhost_never_permissive(raw: str) -> None:
    assert cors_policy(raw, False) == CorsPolicy(False, DEFAULT_ORIGINS)


def test_disable_cors_allows_every_origin() -> None:
    assert cors_policy("https://a.example", True) == CorsPolicy(True, ())


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"CORS_ORIGINS": "https://a.example,https://b.example"},
        {"DISABLE_CORS": "true"},
        {"PORT": "9000", "GRPC_PORT": "6000", "REST_MAX_BODY_MB": "64", "REST_TIMEOUT_S": "5"},
        {"REST_HOST": "::"},  # an IPv6 address in the template's flow mappings
    ],
)
def test_rendered_config_is_valid_for_envoy(tmp_path: Path, env: dict[str, str]) -> None:
    config = tmp_path / "envoy.yaml"
    config.write_text(render(Settings.from_env(env)))
    _validate(config)


def test_rendered_config_carries_the_settings() -> None:
    rendered = render(
        Settings.from_env(
            {
                "PORT": "9000",
                "GRPC_PORT": "6000",
                "CORS_ORIGINS": "https://a.example",
                "REST_MAX_BODY_MB": "2",
                "REST_IMAGE_TIMEOUT_S": "90",
            }
        )
    )
    assert '"port_value": 9000' in rendered and '"port_value": 6000' in rendered
    assert json.dumps([{"exact": "https://a.example"}]) in rendered
    assert "max_request_bytes: 2097152" in rendered and '"timeout": "90s"' in rendered
    assert "${" not in rendered
    permissive = render(Settings.from_env({"DISABLE_CORS": "1"}))
    assert '"regex": ".*"' in permissive and '"regex": ".*"' not in rendered


# The gateway: `nomic-serve-envoy-config --gateway`, and bundles for Envoy without Python.

CONFIG_CLI = Path(sys.executable).parent / "nomic-serve-envoy-config"
UPSTREAMS = ["10.0.0.1:50051", "nomic-serve-grpc.default.svc.cluster.local:50051", "[fd00::7]:6000"]


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CONFIG_CLI), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def _gateway_args(rest: bool = True) -> list[str]:
    args = ["--gateway"]
    for upstream in UPSTREAMS:
        args += ["--upstream", upstream]
    args += ["--listen-grpc", "0.0.0.0:50050"]
    return [*args, "--listen-rest", "[::]:8080"] if rest else args


def _validate(config: Path) -> None:
    checked = subprocess.run(
        [str(ENVOY), "--mode", "validate", "-c", str(config), "--use-dynamic-base-id"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def _listener(config: dict, name: str) -> dict:
    (listener,) = [x for x in config["static_resources"]["listeners"] if x["name"] == name]
    return listener


def _routes(listener: dict) -> list[dict]:
    manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
    return manager["route_config"]["virtual_hosts"][0]["routes"]


@pytest.mark.parametrize("rest", [True, False])
def test_gateway_cli_prints_a_config_envoy_accepts(tmp_path: Path, rest: bool) -> None:
    printed = _cli(*_gateway_args(rest), env={"ENVOY_ADMIN_PORT": "9911"})
    assert printed.returncode == 0, printed.stderr
    config = tmp_path / "gateway.yaml"
    config.write_text(printed.stdout)
    _validate(config)
    parsed = yaml.safe_load(printed.stdout)
    assert parsed["admin"]["address"]["socket_address"] == {
        "address": "127.0.0.1",
        "port_value": 9911,
    }
    names = [x["name"] for x in parsed["static_resources"]["listeners"]]
    assert names == (["grpc", "rest"] if rest else ["grpc"])
    assert ("descriptor.binpb" in printed.stdout) is rest


def _gateway_config(**env: str) -> dict:
    gateway = Gateway(
        tuple(Address.parse(u) for u in UPSTREAMS),
        Address.parse("0.0.0.0:50050"),
        Address.parse("127.0.0.1:8080"),
    )
    return yaml.safe_load(render_gateway(gateway, Settings.from_env(env)))


def test_gateway_balances_per_request_over_every_upstream() -> None:
    (cluster,) = _gateway_config()["static_resources"]["clusters"]
    assert cluster["name"] == "replicas"
    assert cluster["type"] == "STRICT_DNS" and cluster["lb_policy"] == "LEAST_REQUEST"
    addresses = [
        e["endpoint"]["address"]["socket_address"]
        for e in cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]
    ]
    assert addresses == [
        {"address": "10.0.0.1", "port_value": 50051},
        {"address": "nomic-serve-grpc.default.svc.cluster.local", "port_value": 50051},
        {"address": "fd00::7", "port_value": 6000},
    ]
    options = cluster["typed_extension_protocol_options"][
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
    ]
    http2 = options["explicit_http_config"]["http2_protocol_options"]
    assert (
        http2["connection_keepalive"]["timeout"] and "interval" not in http2["connection_keepalive"]
    )
    (limits,) = cluster["circuit_breakers"]["thresholds"]
    # All of a dead replica's requests are retried at once: far more than Envoy's default 3.
    assert limits["max_retries"] == limits["max_requests"] >= 1024


def test_gateway_health_checks_the_text_entry_fast_enough_for_the_shutdown_delay() -> None:
    (cluster,) = _gateway_config()["static_resources"]["clusters"]
    (check,) = cluster["health_checks"]
    assert check["grpc_health_check"] == {"service_name": HEALTH_TEXT}
    assert check["interval"] == check["no_traffic_interval"] == f"{HEALTH_INTERVAL_S:g}s"
    assert check["unhealthy_threshold"] == UNHEALTHY_THRESHOLD == 2
    assert check["healthy_threshold"] == 1
    assert DRAIN_DETECTION_S == 2.0 < Settings().shutdown_delay_s
    outlier = cluster["outlier_detection"]
    assert outlier["split_external_local_origin_errors"] is True
    assert outlier["enforcing_consecutive_local_origin_failure"] == 100
    assert outlier["enforcing_consecutive_gateway_failure"] == 100
    assert outlier["always_eject_one_host"] is True


def test_every_gateway_route_retries_failures_but_not_overload() -> None:
    config = _gateway_config(REST_TIMEOUT_S="20", REST_IMAGE_TIMEOUT_S="45")
    routes = {
        (name, route["match"].get("path") or route["match"]["prefix"]): route["route"]
        for name in ("grpc", "rest")
        for route in _routes(_listener(config, name))
        if "route" in route
    }
    assert len(routes) == 5 + 2
    for action in routes.values():
        assert action["cluster"] == "replicas"
        policy = action["retry_policy"]
        conditions = set(policy["retry_on"].split(","))
        assert conditions == {
            "reset",
            "connect-failure",
            "refused-stream",
            "unavailable",
            "cancelled",
        }
        assert "resource-exhausted" not in conditions
        assert policy["num_retries"] == 3
        (predicate,) = policy["retry_host_predicate"]
        assert predicate["name"] == "envoy.retry_host_predicates.previous_hosts"
    service = "/nomic.serve.v1.EmbeddingService"
    per_try = {key: action["retry_policy"].get("per_try_timeout") for key, action in routes.items()}
    assert per_try == {
        ("grpc", f"{service}/Embed"): "20s",
        ("grpc", f"{service}/EmbedQuery"): "20s",
        ("grpc", f"{service}/ImageEmbed"): "45s",
        ("grpc", f"{service}/ImageStats"): "45s",
        ("grpc", "/"): None,  # lists and streams: the client's deadline only
        ("rest", "/img/"): None,  # the route timeout bounds a REST call, retries included
        ("rest", "/"): None,
    }
    assert {action["timeout"] for key, action in routes.items() if key[0] == "grpc"} == {"0s"}
    assert (
        routes[("rest", "/")]["timeout"] == "20s" and routes[("rest", "/img/")]["timeout"] == "45s"
    )


def test_gateway_grpc_listener_is_http2_without_transcoding() -> None:
    listener = _listener(_gateway_config(), "grpc")
    manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
    assert manager["codec_type"] == "HTTP2"
    assert [f["name"] for f in manager["http_filters"]] == [
        "envoy.filters.http.local_ratelimit",  # without RATE_LIMIT_RPS: no bucket, no limit
        "envoy.filters.http.router",
    ]
    assert "token_bucket" not in manager["http_filters"][0]["typed_config"]
    assert listener["address"]["socket_address"] == {"address": "0.0.0.0", "port_value": 50050}


def test_gateway_rest_listener_is_the_sidecars_but_for_its_routes() -> None:
    """One definition of the REST listener: the same filters, local replies, CORS and files;
    only the route actions (cluster, retries) and the address differ."""
    env = {"CORS_ORIGINS": "https://a.example", "REST_MAX_BODY_MB": "3"}
    gateway = _listener(_gateway_config(**env), "rest")
    sidecar = _listener(yaml.safe_load(render(Settings.from_env(env))), "rest")

    def without_route_actions(listener: dict) -> dict:
        listener = json.loads(json.dumps(listener))
        listener.pop("address")
        for route in _routes(listener):
            route.pop("route", None)
        return listener

    assert without_route_actions(gateway) == without_route_actions(sidecar)
    assert gateway["address"]["socket_address"] == {"address": "127.0.0.1", "port_value": 8080}
    assert {r["route"]["cluster"] for r in _routes(sidecar) if "route" in r} == {"grpc"}


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("10.0.0.1:50051", "10.0.0.1", 50051),
        ("[::1]:6000", "::1", 6000),
        (
            "nomic-serve-grpc.ns.svc.cluster.local:50051",
            "nomic-serve-grpc.ns.svc.cluster.local",
            50051,
        ),
        ("localhost:1", "localhost", 1),
    ],
)
def test_addresses_parse(text: str, host: str, port: int) -> None:
    address = Address.parse(text)
    assert (address.host, address.port) == (host, port) and str(address) == text


@pytest.mark.parametrize(
    "text", ["10.0.0.1", "host:0", "host:65536", ":50051", "::1:50051", "[host]:1", "a b:1", "-x:1"]
)
def test_bad_addresses_are_refused(text: str) -> None:
    with pytest.raises(ConfigError):
        Address.parse(text)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--upstream", "10.0.0.1:1"], "need --gateway"),
        (["--gateway", "--listen-grpc", "0.0.0.0:1"], "--gateway needs --upstream"),
        (["--gateway", "--upstream", "10.0.0.1:1"], "--gateway needs --upstream"),
        (["--gateway", "--upstream", "nohost", "--listen-grpc", "0.0.0.0:1"], "HOST:PORT"),
        (["--bundle", "x", "-o", "y"], "not allowed with"),
    ],
)
def test_gateway_cli_refuses_incomplete_arguments(args: list[str], message: str) -> None:
    refused = _cli(*args)
    assert refused.returncode == 2 and message in refused.stderr, refused.stderr


def test_gateway_listens_on_ip_addresses_only() -> None:
    refused = _cli("--gateway", "--upstream", "a:1", "--listen-grpc", "localhost:50050")
    assert refused.returncode == 1 and "listen on an IP address" in refused.stderr


BUNDLED = {"envoy.yaml", "descriptor.binpb", "openapi.json", "docs.html", *SWAGGER_FILES}


def _referenced_files(config: dict) -> set[str]:
    """Every file path the config names (direct responses and the descriptor set)."""
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("filename", "proto_descriptor") and isinstance(value, str):
                    found.add(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(config)
    return found


@pytest.mark.parametrize("gateway", [False, True])
def test_bundle_holds_the_config_and_every_file_it_names(tmp_path: Path, gateway: bool) -> None:
    folder = tmp_path / "etc" / "envoy"
    written = _cli("--bundle", str(folder), *(_gateway_args() if gateway else []))
    assert written.returncode == 0 and written.stdout == "", written.stderr
    assert {p.name for p in folder.iterdir()} == BUNDLED
    config = yaml.safe_load((folder / "envoy.yaml").read_text())
    named = _referenced_files(config)
    assert {Path(p).parent for p in named} == {folder} and len(named) == len(BUNDLED) - 1
    assert (folder / "descriptor.binpb").read_bytes() == (
        GATEWAY_DIR / "descriptor.binpb"
    ).read_bytes()
    swagger = swagger_ui_dir() / "swagger-ui-bundle.js"
    assert (folder / "swagger-ui-bundle.js").read_bytes() == swagger.read_bytes()
    _validate(folder / "envoy.yaml")


def test_gateway_bundle_without_rest_is_the_config_alone(tmp_path: Path) -> None:
    written = _cli("--bundle", str(tmp_path / "b"), *_gateway_args(rest=False))
    assert written.returncode == 0, written.stderr
    assert [p.name for p in (tmp_path / "b").iterdir()] == ["envoy.yaml"]


def test_bundled_envoy_serves_its_files(tmp_path: Path) -> None:
    """The sidecar bundle run by the real Envoy: docs and OpenAPI come from the bundle."""
    port, admin = free_port(), free_port()
    env = {"PORT": str(port), "REST_HOST": "127.0.0.1", "ENVOY_ADMIN_PORT": str(admin)}
    written = _cli("--bundle", str(tmp_path / "bundle"), env=env)
    assert written.returncode == 0, written.stderr
    envoy = subprocess.Popen(
        [str(ENVOY), "-c", str(tmp_path / "bundle" / "envoy.yaml"), "--use-dynamic-base-id"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def fetch(path: str) -> bytes:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as reply:
                return reply.read()

        def serving() -> bool:
            try:
                return bool(fetch("/openapi.json"))
            except OSError:
                return False

        eventually_sync(serving, timeout=30)
        assert fetch("/openapi.json") == (tmp_path / "bundle" / "openapi.json").read_bytes()
        css = fetch("/docs/swagger-ui.css")
        assert css == (tmp_path / "bundle" / "swagger-ui.css").read_bytes()
    finally:
        envoy.terminate()
        envoy.wait(timeout=30)
