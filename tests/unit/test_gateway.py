"""The REST gateway's configuration: CORS rules and the rendered Envoy config."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from nomic_serve.config import Settings
from nomic_serve.gateway.cors import DEFAULT_ORIGINS, CorsPolicy, cors_policy
from nomic_serve.gateway.envoy_config import render

ENVOY = Path(sys.executable).parent / "envoy"


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
    ],
)
def test_rendered_config_is_valid_for_envoy(tmp_path: Path, env: dict[str, str]) -> None:
    config = tmp_path / "envoy.yaml"
    config.write_text(render(Settings.from_env(env)))
    checked = subprocess.run(
        [str(ENVOY), "--mode", "validate", "-c", str(config), "--use-dynamic-base-id"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


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
    assert "port_value: 9000" in rendered and "port_value: 6000" in rendered
    assert json.dumps([{"exact": "https://a.example"}]) in rendered
    assert "max_request_bytes: 2097152" in rendered and "timeout: 90s" in rendered
    assert "${" not in rendered
    permissive = render(Settings.from_env({"DISABLE_CORS": "1"}))
    assert '"regex": ".*"' in permissive and '"regex": ".*"' not in rendered
