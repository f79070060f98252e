"""A LlamaIndex embedding model backed by a nomic-serve server (the `[llama-index]` extra).

    from llama_index.core import Settings
    from nomic_serve_client.llama_index import NomicServeEmbedding

    Settings.embed_model = NomicServeEmbedding(target="localhost:50051", dimensionality=256)

Texts (nodes) are embedded with the `search_document` task prefix and queries with
`search_query`; every async method awaits the server natively. A batch goes to the server as
one stream, so `embed_batch_size` only sets how many texts LlamaIndex hands over at once."""

from __future__ import annotations

from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding, Embedding
from pydantic import Field, PrivateAttr

from ._async_client import Task
from ._config import DEFAULT_RETRY, DEFAULT_TIMEOUT_S, TLS, RetryPolicy
from ._connections import Connections

__all__ = ["NomicServeEmbedding"]


class NomicServeEmbedding(BaseEmbedding):
    """`dimensionality` is the Matryoshka dimension (None: the model's); the connection
    arguments are `Client`'s."""

    model_name: str = Field(default="nomic-serve", description="Shown in LlamaIndex's logs.")
    embed_batch_size: int = Field(default=256, gt=0)
    target: str = Field(default="localhost:50051", description="host:port of the server.")
    dimensionality: int | None = Field(default=None, gt=0)
    document_task: Task = "search_document"
    query_task: Task = "search_query"
    timeout: float = Field(default=DEFAULT_TIMEOUT_S, gt=0)
    _connections: Connections = PrivateAttr()

    def __init__(
        self,
        *,
        api_key: str | None = None,
        tls: TLS | bool | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        **fields: Any,
    ) -> None:
        # The key, certificates and policy are not model fields: they would be serialized
        # (and printed) with the model.
        super().__init__(**fields)
        self._connections = Connections(self.target, api_key, tls, self.timeout, retry)

    @classmethod
    def class_name(cls) -> str:
        return "NomicServeEmbedding"

    def _get_query_embedding(self, query: str) -> Embedding:
        return self._connections.embed([query], self.query_task, self.dimensionality)[0]

    def _get_text_embedding(self, text: str) -> Embedding:
        return self._connections.embed([text], self.document_task, self.dimensionality)[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return self._connections.embed(texts, self.document_task, self.dimensionality)

    async def _aget_query_embedding(self, query: str) -> Embedding:
        rows = await self._connections.aembed([query], self.query_task, self.dimensionality)
        return rows[0]

    async def _aget_text_embedding(self, text: str) -> Embedding:
        rows = await self._connections.aembed([text], self.document_task, self.dimensionality)
        return rows[0]

    async def _aget_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return await self._connections.aembed(texts, self.document_task, self.dimensionality)

    def close(self) -> None:
        self._connections.close()

    async def aclose(self) -> None:
        await self._connections.aclose()
