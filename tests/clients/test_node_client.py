"""The TypeScript client (clients/node) against real server processes: its own `node --test`
suite (health, info, embed, embedList, embedBatch, errors, deadlines, API keys), and the
vectors it gets by each method compared with what Python's EmbedList returns."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from ..support.models import TextModelDir
from ..support.node import NODE_DIR, node_modules, run, tool
from ..support.processes import ServerProcess
from .conftest import corpus, embed_list

pytestmark = pytest.mark.e2e

API_KEY = "sk-node-test"


@pytest.fixture(scope="module")
def built() -> Path:
    """`npm run build`: the client and its tests compiled into dist/, the protos copied."""
    node_modules()
    run([tool("npm"), "run", "--silent", "build"], timeout=300)
    return NODE_DIR / "dist"


@pytest.fixture(scope="module")
def keyed_server(
    tiny_model: TextModelDir, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    folder = tmp_path_factory.mktemp("node-keyed-server")
    env = {"TXT_MODEL": str(tiny_model.model), "API_KEYS": API_KEY}
    process = ServerProcess([sys.executable, "-m", "nomic_serve"], folder, env)
    yield process
    process.stop()


def test_the_node_suite_passes_against_a_real_server(
    built: Path, server: ServerProcess, keyed_server: ServerProcess
) -> None:
    env = {
        "NOMIC_SERVE_TARGET": server.address,
        "NOMIC_SERVE_KEYED_TARGET": keyed_server.address,
        "NOMIC_SERVE_API_KEY": API_KEY,
    }
    result = run(
        [tool("node"), "--test", "--test-reporter=tap", str(built / "test" / "client.test.js")],
        timeout=300,
        env=env,
    )
    # Every test ran (none skipped) and passed.
    assert "# fail 0" in result.stdout and "# skipped 0" in result.stdout, result.stdout
    assert int(result.stdout.split("# pass ")[1].split()[0]) >= 15, result.stdout


@pytest.mark.parametrize("dim", [0, 16])
def test_node_vectors_equal_embed_list(
    built: Path, server: ServerProcess, tmp_path: Path, dim: int
) -> None:
    texts = [*corpus(20), "Ünïcödé — 日本語のテキスト 🐈", "a " * 40]
    source, answer = tmp_path / "in.json", tmp_path / "out.json"
    source.write_text(json.dumps({"texts": texts, "dim": dim or None}))
    run(
        [tool("node"), str(built / "test" / "vectors.js"), str(source), str(answer)],
        timeout=120,
        env={"NOMIC_SERVE_TARGET": server.address},
    )
    expected = embed_list(server.address, texts, dim=dim)
    got = json.loads(answer.read_text())
    for method in ("embed", "embedList", "embedBatch"):
        vectors = np.array(got[method], dtype=np.float32)
        assert vectors.shape == expected.shape, method
        np.testing.assert_allclose(vectors, expected, atol=1e-6, err_msg=method)
