"""A real server process for the clients' tests: the tiny text model and the tiny ViT."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import grpc
import numpy as np
import pytest

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb
from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

from ..support.models import TextModelDir
from ..support.processes import ServerProcess


@pytest.fixture(scope="session")
def server(
    tiny_model: TextModelDir, vision_model: TextModelDir, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    folder = tmp_path_factory.mktemp("clients-server")
    env = {
        "TXT_MODEL": str(tiny_model.model),
        "IMG_MODEL": str(vision_model.model),
        "CACHE_MB": "0",  # every answer computed: compared calls never share a cached copy
    }
    process = ServerProcess([sys.executable, "-m", "nomic_serve"], folder, env)
    yield process
    process.stop()


def embed_list(address: str, texts: list[str], *, prefix: str = "", dim: int = 0) -> np.ndarray:
    """What the server's own EmbedList answers, through the generated stub (in lists of at
    most 1,000: MAX_LIST_INPUTS)."""
    rows = []
    with grpc.insecure_channel(address) as channel:
        stub = rpc.EmbeddingServiceStub(channel)
        for start in range(0, len(texts), 1000):
            request = pb.EmbedListRequest(
                inputs=texts[start : start + 1000], prefix=prefix, dim=dim
            )
            reply = stub.EmbedList(request, timeout=30)
            rows += [[v.number_value for v in row.values] for row in reply.embeddings]
    return np.array(rows, dtype=np.float32).reshape(len(texts), -1)


def corpus(n: int) -> list[str]:
    words = ["cat", "dog", "sat", "mat", "runs", "fast", "blue", "sky", "sea", "tree"]
    return [
        " ".join(words[(i * k) % len(words)] for k in range(1, 2 + i % 7)) + f" {i}"
        for i in range(n)
    ]
