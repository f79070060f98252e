"""Schemathesis against the REST API through Envoy: the generated OpenAPI document must be
honest about what the server answers (statuses, content types, bodies) and no input is a 5xx.

Deterministic for CI: fixed seed, no example database, one worker, a bounded number of
examples per operation. The schema declares no `format: uri`, so generated image `content`
strings are never URLs of real hosts; had one been, the SSRF guard refuses loopback/private
addresses (403) and an unresolvable host fails fast (400), so nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from ..support.processes import BIN, EnvoyProcess, ServerProcess

pytestmark = pytest.mark.e2e

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
SEED = 20240601
MAX_EXAMPLES = 25
RUN_TIMEOUT_S = 120  # a run takes about 3 s; this only turns a hang into a failure


def server_errors(server: ServerProcess, offset: int) -> list[str]:
    """Distinct error-level records (tracebacks included) the server logged after `offset`."""
    found = []
    for line in server.log[offset:].splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            if line.strip():
                found.append(line)  # not a log record: a raw traceback or a crash message
            continue
        if isinstance(record, dict) and record.get("level") in ("error", "critical"):
            found.append(f"{record.get('msg')}\n{record.get('exc', '')}".rstrip())
    return list(dict.fromkeys(found))


def _without_proxies() -> dict[str, str]:
    """requests honours *_PROXY: a CI proxy must never see calls meant for 127.0.0.1."""
    proxies = {"http_proxy", "https_proxy", "all_proxy"}
    env = {k: v for k, v in os.environ.items() if k.lower() not in proxies}
    return {**env, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


def run_schemathesis(
    rest: EnvoyProcess, server: ServerProcess, workdir: Path, *selection: str
) -> None:
    """One bounded, reproducible schemathesis run; fails with its report and the server's
    error log when any check fails or any request errors."""
    command = [
        str(BIN / "schemathesis"),
        "run",
        f"{rest.url}/openapi.json",
        "--url",
        rest.url,
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--generation-database",
        "none",
        "--workers",
        "1",
        "--request-timeout",
        "20",  # over FETCH_TIMEOUT_S (10 s): a slow fetch is reported, not cut short
        "--continue-on-failure",
        "--no-color",
        *selection,
    ]
    mark = len(server.log)
    # cwd: schemathesis writes .hypothesis/ and .schemathesis/ there, never into the repo.
    try:
        done = subprocess.run(
            command,
            cwd=workdir,
            env=_without_proxies(),
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as timeout:
        partial = timeout.stdout or b""  # bytes even with text=True
        output = partial.decode(errors="replace") if isinstance(partial, bytes) else partial
        pytest.fail(f"schemathesis ran over {RUN_TIMEOUT_S} s:\n{output}")
    errors = "\n".join(server_errors(server, mark)) or "(none)"
    assert done.returncode == 0, (
        f"schemathesis failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}\n"
        f"server errors logged during the run:\n{errors}"
    )
    assert "Operations:" in done.stdout, done.stdout  # it really loaded and tested something


def test_text_and_service_routes_conform(
    rest: EnvoyProcess, stack_server: ServerProcess, tmp_path: Path
) -> None:
    run_schemathesis(rest, stack_server, tmp_path, "--exclude-tag", "image")


def test_image_routes_conform(
    rest: EnvoyProcess, stack_server: ServerProcess, tmp_path: Path
) -> None:
    """Decoding and intake of arbitrary strings must give 4xx, never 500 (schemathesis found
    two such 500s: 1-3 byte images and lists whose every item failed intake)."""
    run_schemathesis(rest, stack_server, tmp_path, "--include-tag", "image")
