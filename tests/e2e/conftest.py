"""Session fixtures of the end-to-end tests: the server as `make run` starts it, and Envoy."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from ..support.processes import EnvoyProcess, ServerProcess


@pytest.fixture(scope="session")
def stack_server(tmp_path_factory, embedded_cache, vision_model) -> Iterator[ServerProcess]:
    """The server as `make run` starts it (embedded text model) plus the test vision model."""
    process = ServerProcess(
        [sys.executable, "-m", "nomic_serve"],
        cwd=tmp_path_factory.mktemp("stack"),
        env={"CACHE_DIR": str(embedded_cache), "IMG_MODEL": str(vision_model.model)},
    )
    yield process
    process.stop()


@pytest.fixture(scope="session")
def rest(stack_server, tmp_path_factory) -> Iterator[EnvoyProcess]:
    """Envoy with the default configuration in front of `stack_server`."""
    envoy = EnvoyProcess(stack_server, tmp_path_factory.mktemp("envoy"), {})
    yield envoy
    envoy.stop()
