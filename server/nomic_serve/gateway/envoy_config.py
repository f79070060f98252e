"""Renders the Envoy config from the template and the settings: environment in, YAML out."""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from string import Template

from ..config import Settings
from ..errors import ConfigError
from .cors import cors_policy

__all__ = ["SWAGGER_UI_PACKAGE", "render", "swagger_ui_dir"]

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "envoy.yaml.in"
SWAGGER_UI_PACKAGE = "flask-swagger-ui==5.34.0"
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


def swagger_ui_dir() -> Path:
    """Swagger UI's static files, from the flask-swagger-ui wheel (installed without Flask)."""
    spec = importlib.util.find_spec("flask_swagger_ui")
    folder = Path(spec.origin).parent / "dist" if spec and spec.origin else None
    if folder is None or not (folder / "swagger-ui-bundle.js").is_file():
        raise ConfigError(
            f"Swagger UI assets are missing: pip install --no-deps {SWAGGER_UI_PACKAGE}"
        )
    return folder


def render(settings: Settings) -> str:
    """The complete Envoy config for these settings, as YAML."""
    policy = cors_policy(settings.cors_origins, settings.disable_cors)
    matchers = (
        [{"safe_regex": {"regex": ".*"}}]
        if policy.allow_all
        else [{"exact": origin} for origin in policy.origins]
    )
    values = {
        "ADMIN_PORT": settings.envoy_admin_port,
        "REST_HOST": settings.rest_host,
        "PORT": settings.port,
        "GRPC_ADDRESS": "127.0.0.1",
        "GRPC_PORT": settings.grpc_port,
        "CORS_ORIGIN_MATCHERS": json.dumps(matchers),
        "NO_TRANSCODING": json.dumps(_NO_TRANSCODING),
        "LOCAL_REPLY_MAPPERS": json.dumps(_local_reply_mappers()),
        "OPENAPI": HERE / "openapi.json",
        "DOCS_HTML": HERE / "docs.html",
        "SWAGGER_DIR": swagger_ui_dir(),
        "DESCRIPTOR": HERE / "descriptor.binpb",
        "MAX_BODY_BYTES": settings.rest_max_body_bytes,
        "TEXT_TIMEOUT": f"{settings.rest_timeout_s:g}s",
        "IMAGE_TIMEOUT": f"{settings.rest_image_timeout_s:g}s",
    }
    return Template(TEMPLATE.read_text()).substitute({k: str(v) for k, v in values.items()})


def main(argv: list[str] | None = None) -> int:
    """`nomic-serve-envoy-config [-o FILE]`: prints (or writes) the rendered config."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    args = parser.parse_args(argv)
    try:
        config = render(Settings.from_env())
    except ConfigError as exc:
        print(f"nomic-serve-envoy-config: {exc}", file=sys.stderr)
        return 1
    if args.output:
        args.output.write_text(config)
    else:
        sys.stdout.write(config)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
