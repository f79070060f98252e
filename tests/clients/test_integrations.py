"""LangChain and LlamaIndex over a real server running the embedded MiniLM (a real sentence
model, so retrieval has a right answer): the vectors are the server's prefixed embeddings,
the async methods never fall back to the blocking client, and each framework's own vector
store retrieves the expected document. No network: nothing here needs a tokenizer download."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from langchain_core.vectorstores import InMemoryVectorStore
from llama_index.core import VectorStoreIndex
from llama_index.core.schema import TextNode

from nomic_serve_client import Client
from nomic_serve_client.langchain import NomicServeEmbeddings
from nomic_serve_client.llama_index import NomicServeEmbedding

from ..support.processes import ServerProcess
from .conftest import embed_list

pytestmark = pytest.mark.e2e

DOCUMENTS = {
    "cat": "The cat sat on the mat and purred in the afternoon sun.",
    "rust": "Rust is a systems programming language with a borrow checker.",
    "bread": "Knead the dough for ten minutes, let it rise, then bake the loaf at 220 C.",
    "football": "The striker scored twice in the second half and the home team won the match.",
}
QUERIES = {
    "cat": "Where is the kitten sleeping?",
    "rust": "Which language checks memory safety at compile time?",
    "bread": "How do I bake bread at home?",
    "football": "Who won the soccer game?",
}


@pytest.fixture(scope="module")
def minilm(tmp_path_factory: pytest.TempPathFactory, embedded_cache: Path) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("integrations-server")
    env = {"CACHE_DIR": str(embedded_cache), "CACHE_MB": "0"}
    process = ServerProcess([sys.executable, "-m", "nomic_serve"], folder, env)
    yield process.address
    process.stop()


def no_blocking_client(connections: object) -> None:
    """Makes the integration's blocking client unusable: an async method that fell back to
    it (LangChain's default runs the sync method in an executor) fails."""

    def refuse() -> Client:
        raise AssertionError("an async method used the blocking client")

    connections.blocking = refuse  # type: ignore[attr-defined]


def test_langchain_vectors_are_the_servers_prefixed_embeddings(minilm: str) -> None:
    texts = list(DOCUMENTS.values())
    embeddings = NomicServeEmbeddings(minilm, dimensionality=128)
    try:
        documents = embeddings.embed_documents(texts)
        query = embeddings.embed_query(QUERIES["cat"])
    finally:
        embeddings.close()
    assert isinstance(documents, list) and all(isinstance(v, float) for v in documents[0])
    np.testing.assert_allclose(
        documents, embed_list(minilm, texts, prefix="search_document", dim=128), atol=1e-6
    )
    np.testing.assert_allclose(
        query, embed_list(minilm, [QUERIES["cat"]], prefix="search_query", dim=128)[0], atol=1e-6
    )


async def test_langchain_async_is_native_and_equal(minilm: str) -> None:
    texts = list(DOCUMENTS.values())
    embeddings = NomicServeEmbeddings(minilm)
    no_blocking_client(embeddings._connections)
    try:
        documents, query = await asyncio.gather(
            embeddings.aembed_documents(texts), embeddings.aembed_query(QUERIES["rust"])
        )
    finally:
        await embeddings.aclose()
    np.testing.assert_allclose(
        documents, embed_list(minilm, texts, prefix="search_document"), atol=1e-6
    )
    np.testing.assert_allclose(
        query, embed_list(minilm, [QUERIES["rust"]], prefix="search_query")[0], atol=1e-6
    )


def test_langchain_in_memory_vector_store_round_trip(minilm: str) -> None:
    embeddings = NomicServeEmbeddings(minilm)
    try:
        store = InMemoryVectorStore.from_texts(
            list(DOCUMENTS.values()), embeddings, metadatas=[{"key": k} for k in DOCUMENTS]
        )
        for key, query in QUERIES.items():
            [hit] = store.similarity_search(query, k=1)
            assert hit.metadata["key"] == key, (query, hit.page_content)
    finally:
        embeddings.close()


async def test_langchain_async_vector_store_round_trip(minilm: str) -> None:
    embeddings = NomicServeEmbeddings(minilm)
    no_blocking_client(embeddings._connections)
    try:
        store = await InMemoryVectorStore.afrom_texts(
            list(DOCUMENTS.values()), embeddings, metadatas=[{"key": k} for k in DOCUMENTS]
        )
        [hit] = await store.asimilarity_search(QUERIES["bread"], k=1)
        assert hit.metadata["key"] == "bread"
    finally:
        await embeddings.aclose()


def test_each_event_loop_gets_its_own_channel(minilm: str) -> None:
    """Frameworks await from whatever loop the application runs; a grpc.aio channel only
    works on the loop it was made on."""
    embeddings = NomicServeEmbeddings(minilm, dimensionality=32)

    async def once() -> list[float]:
        try:
            return await embeddings.aembed_query("hello")
        finally:
            await embeddings.aclose()

    first, second = asyncio.run(once()), asyncio.run(once())
    assert first == second and len(first) == 32


def nodes() -> list[TextNode]:
    return [TextNode(text=text, id_=key) for key, text in DOCUMENTS.items()]


def test_llama_index_vectors_are_the_servers_prefixed_embeddings(minilm: str) -> None:
    texts = list(DOCUMENTS.values())
    model = NomicServeEmbedding(target=minilm, dimensionality=64, embed_batch_size=3)
    try:
        documents = model.get_text_embedding_batch(texts)  # two batches: 3 + 1
        one = model.get_text_embedding(texts[0])
        query = model.get_query_embedding(QUERIES["cat"])
    finally:
        model.close()
    expected = embed_list(minilm, texts, prefix="search_document", dim=64)
    np.testing.assert_allclose(documents, expected, atol=1e-6)
    np.testing.assert_allclose(one, expected[0], atol=1e-6)
    np.testing.assert_allclose(
        query, embed_list(minilm, [QUERIES["cat"]], prefix="search_query", dim=64)[0], atol=1e-6
    )


async def test_llama_index_async_is_native_and_equal(minilm: str) -> None:
    texts = list(DOCUMENTS.values())
    model = NomicServeEmbedding(target=minilm)
    no_blocking_client(model._connections)
    try:
        documents = await model.aget_text_embedding_batch(texts)
        one = await model.aget_text_embedding(texts[1])
        query = await model.aget_query_embedding(QUERIES["football"])
    finally:
        await model.aclose()
    expected = embed_list(minilm, texts, prefix="search_document")
    np.testing.assert_allclose(documents, expected, atol=1e-6)
    np.testing.assert_allclose(one, expected[1], atol=1e-6)
    np.testing.assert_allclose(
        query, embed_list(minilm, [QUERIES["football"]], prefix="search_query")[0], atol=1e-6
    )


def test_llama_index_vector_store_index_retrieves_the_expected_node(minilm: str) -> None:
    model = NomicServeEmbedding(target=minilm)
    try:
        index = VectorStoreIndex(nodes(), embed_model=model)
        retriever = index.as_retriever(similarity_top_k=1)
        for key, query in QUERIES.items():
            [hit] = retriever.retrieve(query)
            assert hit.node.node_id == key, (query, hit.node.get_content())
    finally:
        model.close()


async def test_llama_index_async_retrieval(minilm: str) -> None:
    model = NomicServeEmbedding(target=minilm)
    no_blocking_client(model._connections)
    try:
        index = VectorStoreIndex(nodes(), embed_model=model, use_async=True)
        [hit] = await index.as_retriever(similarity_top_k=1).aretrieve(QUERIES["rust"])
        assert hit.node.node_id == "rust"
    finally:
        await model.aclose()


def test_the_api_key_is_not_a_serialized_field() -> None:
    model = NomicServeEmbedding(target="localhost:1", api_key="sk-secret")
    assert "sk-secret" not in model.to_json() and "sk-secret" not in repr(model)
