"""The named hand-offs between the stages of the text path."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "TextEmbedding",
    "TextItem",
    "TextProfile",
    "Timings",
    "TokenizedText",
    "VisionProfile",
]


@dataclass(frozen=True)
class TextProfile:
    """How a text model is used: what its config files and output shape say, plus overrides."""

    name: str
    dimension: int
    max_tokens: int
    pooling: str  # "mean" or "cls"
    layer_norm: bool  # Matryoshka layer norm before truncation (nomic-embed-text-v1.5)
    prefixes: tuple[str, ...]  # task prefixes the model was trained with; () for none


@dataclass(frozen=True)
class VisionProfile:
    """How a vision model is used: CLS pooling, then the same Matryoshka cut as text."""

    name: str
    dimension: int


@dataclass(frozen=True)
class TextItem:
    """One validated text, ready for tokenization."""

    text: str  # at most MAX_INPUT_CHARS characters
    prefix: str  # a PREFIX_NAMES value, already resolved against the server default
    dim: int  # already resolved: 1..profile.dimension
    truncate: bool
    cut: bool = False  # the caller's text was longer than MAX_INPUT_CHARS and was cut there


@dataclass(frozen=True)
class TokenizedText:
    """Token ids of one text as the model will see them (after truncation)."""

    ids: np.ndarray  # int64 [tokens]
    type_ids: np.ndarray  # int64 [tokens]
    untruncated_tokens: int  # before truncation: what a refusal reports
    # Late chunking: token ranges [start, end) mean-pooled each, instead of the whole text.
    spans: tuple[tuple[int, int], ...] = ()

    @property
    def truncated(self) -> bool:
        return self.untruncated_tokens > self.tokens

    @property
    def tokens(self) -> int:
        return int(self.ids.shape[0])


@dataclass(frozen=True)
class TextEmbedding:
    """One finished embedding: unit length at its requested dimension."""

    vector: np.ndarray  # float32 [dim]
    tokens: int
    truncated: bool


@dataclass
class Timings:
    """Milliseconds spent per stage of one request, for the request log line."""

    fetch_ms: float = 0.0
    preprocess_ms: float = 0.0  # image decode, resize, normalize
    tokenize_ms: float = 0.0
    queue_ms: float = 0.0  # waiting for a batch to start
    inference_ms: float = 0.0
    postprocess_ms: float = 0.0

    def add(self, other: Timings) -> None:
        self.fetch_ms += other.fetch_ms
        self.preprocess_ms += other.preprocess_ms
        self.tokenize_ms += other.tokenize_ms
        self.queue_ms += other.queue_ms
        self.inference_ms += other.inference_ms
        self.postprocess_ms += other.postprocess_ms
