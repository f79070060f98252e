"""The Python SDK against a real server process: values, shapes, streams, errors, images."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
from pathlib import Path

import grpc
import numpy as np
import pytest
from PIL import Image

import nomic_serve_client as sdk
from nomic_serve_client import AsyncClient, Client, InvalidArgument, ItemError

from ..support.processes import ServerProcess
from .conftest import corpus, embed_list

pytestmark = pytest.mark.e2e


def test_embed_equals_what_embed_list_returns(server: ServerProcess) -> None:
    texts = corpus(40)
    with Client(server.address) as client:
        vectors = client.embed(texts)
        query = client.embed_query(texts[:3], dim=16)
        one = client.embed(texts[0])
    assert vectors.dtype == np.float32 and vectors.shape == (40, 32)
    np.testing.assert_allclose(
        vectors, embed_list(server.address, texts, prefix="search_document"), atol=1e-6
    )
    np.testing.assert_allclose(
        query, embed_list(server.address, texts[:3], prefix="search_query", dim=16), atol=1e-6
    )
    assert one.shape == (32,)
    np.testing.assert_allclose(one, vectors[0], atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(query, axis=1), 1.0, atol=1e-5)


async def test_the_async_client_has_the_same_surface_and_values(server: ServerProcess) -> None:
    texts = corpus(12)
    async with AsyncClient(server.address) as client:
        vectors, query, health, info = await asyncio.gather(
            client.embed(texts, task="clustering", dim=8),
            client.embed_query("a cat"),
            client.health(),
            client.info(),
        )
        streamed = [v async for v in client.embed_stream(iter(texts), task="clustering", dim=8)]
    np.testing.assert_allclose(
        vectors, embed_list(server.address, texts, prefix="clustering", dim=8), atol=1e-6
    )
    np.testing.assert_allclose(np.stack(streamed), vectors, atol=1e-6)
    np.testing.assert_allclose(
        query, embed_list(server.address, ["a cat"], prefix="search_query")[0], atol=1e-6
    )
    assert health.status == "OK" and health.text_model
    assert info.version == sdk.__version__ and info.text.dimension == 32
    public = {name for name in dir(Client) if not name.startswith("_")} - {"close"}
    assert public <= {name for name in dir(AsyncClient) if not name.startswith("_")}


def test_a_stream_keeps_a_bounded_window_and_yields_in_order(server: ServerProcess) -> None:
    """2,000 texts from a generator with a window of 32: the generator is never more than 32
    texts ahead of what the caller has received, and every vector is in its place."""
    texts = corpus(2000)
    pulled = 0
    ahead = []

    def source():
        nonlocal pulled
        for text in texts:
            pulled += 1
            yield text

    with Client(server.address) as client:
        received = []
        for vector in client.embed_stream(source(), window=32):
            received.append(vector)
            ahead.append(pulled - len(received))
        sample = client.embed([texts[i] for i in (0, 999, 1999)])
    assert len(received) == 2000 and max(ahead) <= 32
    np.testing.assert_allclose(
        np.stack([received[0], received[999], received[1999]]), sample, atol=1e-6
    )


def test_per_item_errors_are_exceptions_or_none_by_choice(server: ServerProcess) -> None:
    texts = ["a cat", "", "a dog", "   ", "a bird"]
    with Client(server.address) as client:
        vectors = list(client.embed_stream(texts, on_error="none"))
        results = list(client.embed_stream_results(texts))
        with pytest.raises(ItemError) as caught:
            list(client.embed_stream(texts))
        with pytest.raises(ItemError):
            client.embed(texts)
    assert [v is None for v in vectors] == [False, True, False, True, False]
    assert caught.value.index == 1 and caught.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [r.index for r in results] == [0, 1, 2, 3, 4]
    assert (
        results[3].error is not None and results[3].error.code == grpc.StatusCode.INVALID_ARGUMENT
    )
    assert results[2].tokens > 0 and results[2].embedding is not None


def test_errors_are_typed_with_the_code_and_the_servers_message(server: ServerProcess) -> None:
    with Client(server.address) as client:
        with pytest.raises(InvalidArgument) as caught:
            client.embed("a cat", dim=33)
        with pytest.raises(sdk.InvalidArgument):
            client.embed("x " * 500, truncate=False)
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "dim" in caught.value.message and isinstance(caught.value, sdk.NomicServeError)


def test_no_server_is_unavailable_after_the_retries(server: ServerProcess) -> None:
    policy = sdk.RetryPolicy(attempts=3, initial_backoff_s=0.01)
    with Client("127.0.0.1:1", timeout=5, retry=policy) as client, pytest.raises(sdk.Unavailable):
        client.health()


def test_images_in_every_form_and_their_stats(server: ServerProcess, tmp_path) -> None:
    red = Image.new("RGB", (64, 48), (200, 30, 30))
    path = tmp_path / "red.png"
    red.save(path)
    png = path.read_bytes()
    data_url = "data:image/png;base64," + base64.b64encode(png).decode()
    with Client(server.address) as client:
        rows = client.embed_images([path, str(path), png, red, data_url], dim=16)
        one = client.embed_images(png)
        stats = client.image_stats(path, averaging="arithmetic")
        with pytest.raises(ItemError) as caught:
            client.embed_images([png, b"not an image"])
        with pytest.raises(FileNotFoundError):
            client.embed_images(tmp_path / "missing.png")
    assert rows.shape == (5, 16) and one.shape == (32,)
    np.testing.assert_allclose(rows, np.tile(rows[0], (5, 1)), atol=1e-5)  # one image, five forms
    assert caught.value.index == 1
    assert stats.color_data.avg_color.hex.lower() == "#c81e1e"
    assert stats.color_data.avg_color.method == "arithmetic"


def test_a_mismatched_server_is_reported(server: ServerProcess, monkeypatch) -> None:
    from nomic_serve_client import _async_client

    monkeypatch.setattr(_async_client, "__version__", "9.1.0")
    with Client(server.address) as client, pytest.warns(sdk.VersionMismatchWarning, match="9.1.0"):
        client.embed(["a cat"])


def test_the_sdk_imports_without_onnx_runtime_or_the_server() -> None:
    probe = (
        "import sys; sys.modules['onnxruntime'] = None; sys.modules['nomic_serve'] = None\n"
        "import nomic_serve_client\n"
        "print(nomic_serve_client.Client.__name__)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "Client", done.stderr


def test_a_stream_goes_on_across_a_server_restart(tiny_model, tmp_path) -> None:
    """The server is killed while a 1,500-text stream is halfway and started again on its
    port: the stream reopens, sends again what was unanswered, and every vector is right."""
    env = {"TXT_MODEL": str(tiny_model.model), "IMG_MODEL": "none", "CACHE_MB": "0"}
    first = ServerProcess([sys.executable, "-m", "nomic_serve"], tmp_path, env)
    texts = corpus(1500)
    patient = sdk.RetryPolicy(attempts=40, initial_backoff_s=0.05, max_backoff_s=0.5)
    replacement: ServerProcess | None = None
    try:
        with Client(first.address, retry=patient) as client:
            received = []
            for vector in client.embed_stream(texts, window=64):
                received.append(vector)
                if len(received) == 700:
                    first.kill()
                    replacement = ServerProcess(
                        [sys.executable, "-m", "nomic_serve"], tmp_path, env, port=first.port
                    )
        expected = embed_list(first.address, texts, prefix="search_document")
    finally:
        if replacement is not None:
            replacement.stop()
        first.stop()
    assert replacement is not None and len(received) == 1500
    np.testing.assert_allclose(np.stack(received), expected, atol=1e-6)


def test_the_sdk_installs_into_a_fresh_virtualenv_without_onnx_runtime(
    server: ServerProcess, tmp_path
) -> None:
    """What a user does: a new venv, the stubs and the client with the CLI extra, from this
    checkout; no ONNX Runtime, no server package; the CLI's vector is EmbedList's."""
    repo = Path(__file__).resolve().parents[2]
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    packages = [str(repo / "clients" / "stubs"), f"{repo / 'clients' / 'python'}[cli]"]
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *packages],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    names = {package["name"].lower() for package in json.loads(listed.stdout)}
    assert {"nomic-serve-client", "nomic-serve-stubs", "grpcio", "numpy", "tqdm"} <= names
    assert not names & {"onnxruntime", "onnxruntime-gpu", "nomic-serve", "onnx"}, names
    command = ["embed", "a cat sat", "--task", "search_document", "--dim", "16"]
    done = subprocess.run(
        [str(venv / "bin" / "nomic-embed"), "--target", server.address, *command],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    vector = np.array(json.loads(done.stdout), dtype=np.float32)
    expected = embed_list(server.address, ["a cat sat"], prefix="search_document", dim=16)[0]
    np.testing.assert_allclose(vector, expected, atol=1e-6)
