"""LangChain embeddings backed by a nomic-serve server (the `[langchain]` extra).

    from langchain_core.vectorstores import InMemoryVectorStore
    from nomic_serve_client.langchain import NomicServeEmbeddings

    embeddings = NomicServeEmbeddings(target="localhost:50051", dimensionality=256)
    store = InMemoryVectorStore.from_texts(["The cat sat.", "Dogs bark."], embeddings)

Documents are embedded with the `search_document` task prefix and queries with
`search_query`, as nomic-embed-text is trained; the async methods await the server natively
(LangChain's default runs the sync method in an executor thread)."""

from __future__ import annotations

from langchain_core.embeddings import Embeddings

from ._async_client import Task
from ._config import DEFAULT_RETRY, DEFAULT_TIMEOUT_S, TLS, RetryPolicy
from ._connections import Connections

__all__ = ["NomicServeEmbeddings"]


class NomicServeEmbeddings(Embeddings):
    """`dimensionality` is the Matryoshka dimension (None: the model's); the connection
    arguments are `Client`'s."""

    def __init__(
        self,
        target: str = "localhost:50051",
        *,
        dimensionality: int | None = None,
        document_task: Task = "search_document",
        query_task: Task = "search_query",
        api_key: str | None = None,
        tls: TLS | bool | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        self.dimensionality = dimensionality
        self.document_task: Task = document_task
        self.query_task: Task = query_task
        self._connections = Connections(target, api_key, tls, timeout, retry)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._connections.embed(texts, self.document_task, self.dimensionality)

    def embed_query(self, text: str) -> list[float]:
        return self._connections.embed([text], self.query_task, self.dimensionality)[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        return await self._connections.aembed(texts, self.document_task, self.dimensionality)

    async def aembed_query(self, text: str) -> list[float]:
        rows = await self._connections.aembed([text], self.query_task, self.dimensionality)
        return rows[0]

    def close(self) -> None:
        self._connections.close()

    async def aclose(self) -> None:
        await self._connections.aclose()
