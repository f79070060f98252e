from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.rpc import status_pb2 as _status_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SimilarityInput(_message.Message):
    __slots__ = ("text", "image", "image_data", "prefix")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_DATA_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    text: str
    image: str
    image_data: bytes
    prefix: str
    def __init__(self, text: _Optional[str] = ..., image: _Optional[str] = ..., image_data: _Optional[bytes] = ..., prefix: _Optional[str] = ...) -> None: ...

class SimilarityRequest(_message.Message):
    __slots__ = ("query", "candidates", "dim", "truncate")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    DIM_FIELD_NUMBER: _ClassVar[int]
    TRUNCATE_FIELD_NUMBER: _ClassVar[int]
    query: SimilarityInput
    candidates: _containers.RepeatedCompositeFieldContainer[SimilarityInput]
    dim: int
    truncate: bool
    def __init__(self, query: _Optional[_Union[SimilarityInput, _Mapping]] = ..., candidates: _Optional[_Iterable[_Union[SimilarityInput, _Mapping]]] = ..., dim: _Optional[int] = ..., truncate: _Optional[bool] = ...) -> None: ...

class SimilarityResponse(_message.Message):
    __slots__ = ("scores", "ranking", "time_ms", "dim")
    SCORES_FIELD_NUMBER: _ClassVar[int]
    RANKING_FIELD_NUMBER: _ClassVar[int]
    TIME_MS_FIELD_NUMBER: _ClassVar[int]
    DIM_FIELD_NUMBER: _ClassVar[int]
    scores: _containers.RepeatedScalarFieldContainer[float]
    ranking: _containers.RepeatedScalarFieldContainer[int]
    time_ms: float
    dim: int
    def __init__(self, scores: _Optional[_Iterable[float]] = ..., ranking: _Optional[_Iterable[int]] = ..., time_ms: _Optional[float] = ..., dim: _Optional[int] = ...) -> None: ...

class CreateEmbeddingsRequest(_message.Message):
    __slots__ = ("input", "model", "dimensions", "encoding_format", "user", "prefix")
    INPUT_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    DIMENSIONS_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FORMAT_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    input: _struct_pb2.Value
    model: str
    dimensions: int
    encoding_format: str
    user: str
    prefix: str
    def __init__(self, input: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., model: _Optional[str] = ..., dimensions: _Optional[int] = ..., encoding_format: _Optional[str] = ..., user: _Optional[str] = ..., prefix: _Optional[str] = ...) -> None: ...

class CreateEmbeddingsResponse(_message.Message):
    __slots__ = ("object", "data", "model", "usage")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    object: str
    data: _containers.RepeatedCompositeFieldContainer[EmbeddingData]
    model: str
    usage: EmbeddingUsage
    def __init__(self, object: _Optional[str] = ..., data: _Optional[_Iterable[_Union[EmbeddingData, _Mapping]]] = ..., model: _Optional[str] = ..., usage: _Optional[_Union[EmbeddingUsage, _Mapping]] = ...) -> None: ...

class EmbeddingData(_message.Message):
    __slots__ = ("object", "index", "embedding")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    object: str
    index: int
    embedding: _struct_pb2.Value
    def __init__(self, object: _Optional[str] = ..., index: _Optional[int] = ..., embedding: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class EmbeddingUsage(_message.Message):
    __slots__ = ("prompt_tokens", "total_tokens")
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TOKENS_FIELD_NUMBER: _ClassVar[int]
    prompt_tokens: int
    total_tokens: int
    def __init__(self, prompt_tokens: _Optional[int] = ..., total_tokens: _Optional[int] = ...) -> None: ...

class EmbedRequest(_message.Message):
    __slots__ = ("input", "dim", "prefix", "truncate", "encoding", "long_input", "chunk_tokens", "chunk_overlap")
    INPUT_FIELD_NUMBER: _ClassVar[int]
    DIM_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    TRUNCATE_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    LONG_INPUT_FIELD_NUMBER: _ClassVar[int]
    CHUNK_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CHUNK_OVERLAP_FIELD_NUMBER: _ClassVar[int]
    input: str
    dim: int
    prefix: str
    truncate: bool
    encoding: str
    long_input: str
    chunk_tokens: int
    chunk_overlap: int
    def __init__(self, input: _Optional[str] = ..., dim: _Optional[int] = ..., prefix: _Optional[str] = ..., truncate: _Optional[bool] = ..., encoding: _Optional[str] = ..., long_input: _Optional[str] = ..., chunk_tokens: _Optional[int] = ..., chunk_overlap: _Optional[int] = ...) -> None: ...

class EmbedResponse(_message.Message):
    __slots__ = ("embedding", "tokens", "time_ms", "truncated", "model", "packed", "chunks")
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    TIME_MS_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PACKED_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_FIELD_NUMBER: _ClassVar[int]
    embedding: _containers.RepeatedScalarFieldContainer[float]
    tokens: int
    time_ms: float
    truncated: bool
    model: str
    packed: PackedEmbedding
    chunks: Chunks
    def __init__(self, embedding: _Optional[_Iterable[float]] = ..., tokens: _Optional[int] = ..., time_ms: _Optional[float] = ..., truncated: _Optional[bool] = ..., model: _Optional[str] = ..., packed: _Optional[_Union[PackedEmbedding, _Mapping]] = ..., chunks: _Optional[_Union[Chunks, _Mapping]] = ...) -> None: ...

class EmbedQueryRequest(_message.Message):
    __slots__ = ("input", "dim", "truncate", "encoding")
    INPUT_FIELD_NUMBER: _ClassVar[int]
    DIM_FIELD_NUMBER: _ClassVar[int]
    TRUNCATE_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    input: str
    dim: int
    truncate: bool
    encoding: str
    def __init__(self, input: _Optional[str] = ..., dim: _Optional[int] = ..., truncate: _Optional[bool] = ..., encoding: _Optional[str] = ...) -> None: ...

class EmbedQueryResponse(_message.Message):
    __slots__ = ("embedding", "tokens", "time_ms", "truncated", "model", "packed")
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    TIME_MS_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PACKED_FIELD_NUMBER: _ClassVar[int]
    embedding: _containers.RepeatedScalarFieldContainer[float]
    tokens: int
    time_ms: float
    truncated: bool
    model: str
    packed: PackedEmbedding
    def __init__(self, embedding: _Optional[_Iterable[float]] = ..., tokens: _Optional[int] = ..., time_ms: _Optional[float] = ..., truncated: _Optional[bool] = ..., model: _Optional[str] = ..., packed: _Optional[_Union[PackedEmbedding, _Mapping]] = ...) -> None: ...

class EmbedListRequest(_message.Message):
    __slots__ = ("inputs", "dim", "prefix", "truncate", "encoding")
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    DIM_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    TRUNCATE_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    inputs: _containers.RepeatedScalarFieldContainer[str]
    dim: int
    prefix: str
    truncate: bool
    encoding: str
    def __init__(self, inputs: _Optional[_Iterable[str]] = ..., dim: _Optional[int] = ..., prefix: _Optional[str] = ..., truncate: _Optional[bool] = ..., encoding: _Optional[str] = ...) -> None: ...

class EmbedListResponse(_message.Message):
    __slots__ = ("embeddings", "tokens", "time_ms", "truncated", "model", "packed")
    EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    TIME_MS_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PACKED_FIELD_NUMBER: _ClassVar[int]
    embeddings: _containers.RepeatedCompositeFieldContainer[_struct_pb2.ListValue]
    tokens: _containers.RepeatedScalarFieldContainer[int]
    time_ms: float
    truncated: _containers.RepeatedScalarFieldContainer[bool]
    model: str
    packed: PackedEmbeddings
    def __init__(self, embeddings: _Optional[_Iterable[_Union[_struct_pb2.ListValue, _Mapping]]] = ..., tokens: _Optional[_Iterable[int]] = ..., time_ms: _Optional[float] = ..., truncated: _Optional[_Iterable[bool]] = ..., model: _Optional[str] = ..., packed: _Optional[_Union[PackedEmbeddings, _Mapping]] = ...) -> None: ...

class EmbedBatchRequest(_message.Message):
    __slots__ = ("input", "dim", "prefix", "truncate", "encoding", "long_input", "chunk_tokens", "chunk_overlap")
    INPUT_FIELD_NUMBER: _ClassVar[int]
    DIM_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    TRUNCATE_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    LONG_INPUT_FIELD_NUMBER: _ClassVar[int]
    CHUNK_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CHUNK_OVERLAP_FIELD_NUMBER: _ClassVar[int]
    input: str
    dim: int
    prefix: str
    truncate: bool
    encoding: str
    long_input: str
    chunk_tokens: int
    chunk_overlap: int
    def __init__(self, input: _Optional[str] = ..., dim: _Optional[int] = ..., prefix: _Optional[str] = ..., truncate: _Optional[bool] = ..., encoding: _Optional[str] = ..., long_input: _Optional[str] = ..., chunk_tokens: _Optional[int] = ..., chunk_overlap: _Optional[int] = ...) -> None: ...

class EmbedBatchResponse(_message.Message):
    __slots__ = ("index", "embedding", "tokens", "truncated", "error", "packed", "chunks")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    PACKED_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_FIELD_NUMBER: _ClassVar[int]
    index: int
    embedding: _containers.RepeatedScalarFieldContainer[float]
    tokens: int
    truncated: bool
    error: _status_pb2.Status
    packed: PackedEmbedding
    chunks: Chunks
    def __init__(self, index: _Optional[int] = ..., embedding: _Optional[_Iterable[float]] = ..., tokens: _Optional[int] = ..., truncated: _Optional[bool] = ..., error: _Optional[_Union[_status_pb2.Status, _Mapping]] = ..., packed: _Optional[_Union[PackedEmbedding, _Mapping]] = ..., chunks: _Optional[_Union[Chunks, _Mapping]] = ...) -> None: ...

class ImageEmbedRequest(_message.Message):
    __slots__ = ("content", "data", "dim", "encoding")
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    DIM_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    content: str
    data: bytes
    dim: int
    encoding: str
    def __init__(self, content: _Optional[str] = ..., data: _Optional[bytes] = ..., dim: _Optional[int] = ..., encoding: _Optional[str] = ...) -> None: ...

class ImageEmbedResponse(_message.Message):
    __slots__ = ("embedding", "time_ms", "model", "packed")
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    TIME_MS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PACKED_FIELD_NUMBER: _ClassVar[int]
    embedding: _containers.RepeatedScalarFieldContainer[float]
    time_ms: float
    model: str
    packed: PackedEmbedding
    def __init__(self, embedding: _Optional[_Iterable[float]] = ..., time_ms: _Optional[float] = ..., model: _Optional[str] = ..., packed: _Optional[_Union[PackedEmbedding, _Mapping]] = ...) -> None: ...

class ImageEmbedListRequest(_message.Message):
    __slots__ = ("contents", "dim", "data", "encoding")
    CONTENTS_FIELD_NUMBER: _ClassVar[int]
    DIM_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    contents: _containers.RepeatedScalarFieldContainer[str]
    dim: int
    data: _containers.RepeatedScalarFieldContainer[bytes]
    encoding: str
    def __init__(self, contents: _Optional[_Iterable[str]] = ..., dim: _Optional[int] = ..., data: _Optional[_Iterable[bytes]] = ..., encoding: _Optional[str] = ...) -> None: ...

class ImageEmbedListResponse(_message.Message):
    __slots__ = ("embeddings", "time_ms", "model", "errors", "packed")
    EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    TIME_MS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    PACKED_FIELD_NUMBER: _ClassVar[int]
    embeddings: _containers.RepeatedCompositeFieldContainer[_struct_pb2.ListValue]
    time_ms: float
    model: str
    errors: _containers.RepeatedCompositeFieldContainer[ItemError]
    packed: PackedEmbeddings
    def __init__(self, embeddings: _Optional[_Iterable[_Union[_struct_pb2.ListValue, _Mapping]]] = ..., time_ms: _Optional[float] = ..., model: _Optional[str] = ..., errors: _Optional[_Iterable[_Union[ItemError, _Mapping]]] = ..., packed: _Optional[_Union[PackedEmbeddings, _Mapping]] = ...) -> None: ...

class PackedEmbedding(_message.Message):
    __slots__ = ("encoding", "dim", "data")
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    DIM_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    encoding: str
    dim: int
    data: bytes
    def __init__(self, encoding: _Optional[str] = ..., dim: _Optional[int] = ..., data: _Optional[bytes] = ...) -> None: ...

class Chunks(_message.Message):
    __slots__ = ("mode", "chunks")
    MODE_FIELD_NUMBER: _ClassVar[int]
    CHUNKS_FIELD_NUMBER: _ClassVar[int]
    mode: str
    chunks: _containers.RepeatedCompositeFieldContainer[Chunk]
    def __init__(self, mode: _Optional[str] = ..., chunks: _Optional[_Iterable[_Union[Chunk, _Mapping]]] = ...) -> None: ...

class Chunk(_message.Message):
    __slots__ = ("embedding", "packed", "token_start", "token_end", "char_start", "char_end")
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    PACKED_FIELD_NUMBER: _ClassVar[int]
    TOKEN_START_FIELD_NUMBER: _ClassVar[int]
    TOKEN_END_FIELD_NUMBER: _ClassVar[int]
    CHAR_START_FIELD_NUMBER: _ClassVar[int]
    CHAR_END_FIELD_NUMBER: _ClassVar[int]
    embedding: _containers.RepeatedScalarFieldContainer[float]
    packed: PackedEmbedding
    token_start: int
    token_end: int
    char_start: int
    char_end: int
    def __init__(self, embedding: _Optional[_Iterable[float]] = ..., packed: _Optional[_Union[PackedEmbedding, _Mapping]] = ..., token_start: _Optional[int] = ..., token_end: _Optional[int] = ..., char_start: _Optional[int] = ..., char_end: _Optional[int] = ...) -> None: ...

class PackedEmbeddings(_message.Message):
    __slots__ = ("encoding", "dim", "data")
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    DIM_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    encoding: str
    dim: int
    data: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, encoding: _Optional[str] = ..., dim: _Optional[int] = ..., data: _Optional[_Iterable[bytes]] = ...) -> None: ...

class ItemError(_message.Message):
    __slots__ = ("index", "status")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    index: int
    status: _status_pb2.Status
    def __init__(self, index: _Optional[int] = ..., status: _Optional[_Union[_status_pb2.Status, _Mapping]] = ...) -> None: ...

class ImageStatsRequest(_message.Message):
    __slots__ = ("content", "data", "averaging_method")
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    AVERAGING_METHOD_FIELD_NUMBER: _ClassVar[int]
    content: str
    data: bytes
    averaging_method: str
    def __init__(self, content: _Optional[str] = ..., data: _Optional[bytes] = ..., averaging_method: _Optional[str] = ...) -> None: ...

class ImageStatsResponse(_message.Message):
    __slots__ = ("exif_data", "color_data", "time_ms", "exif_omitted")
    EXIF_DATA_FIELD_NUMBER: _ClassVar[int]
    COLOR_DATA_FIELD_NUMBER: _ClassVar[int]
    TIME_MS_FIELD_NUMBER: _ClassVar[int]
    EXIF_OMITTED_FIELD_NUMBER: _ClassVar[int]
    exif_data: _struct_pb2.Struct
    color_data: ColorData
    time_ms: float
    exif_omitted: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, exif_data: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., color_data: _Optional[_Union[ColorData, _Mapping]] = ..., time_ms: _Optional[float] = ..., exif_omitted: _Optional[_Iterable[str]] = ...) -> None: ...

class ColorData(_message.Message):
    __slots__ = ("avg_color", "dominant_color")
    AVG_COLOR_FIELD_NUMBER: _ClassVar[int]
    DOMINANT_COLOR_FIELD_NUMBER: _ClassVar[int]
    avg_color: AverageColor
    dominant_color: DominantColor
    def __init__(self, avg_color: _Optional[_Union[AverageColor, _Mapping]] = ..., dominant_color: _Optional[_Union[DominantColor, _Mapping]] = ...) -> None: ...

class AverageColor(_message.Message):
    __slots__ = ("rgb", "hex", "method")
    RGB_FIELD_NUMBER: _ClassVar[int]
    HEX_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    rgb: _containers.RepeatedScalarFieldContainer[float]
    hex: str
    method: str
    def __init__(self, rgb: _Optional[_Iterable[float]] = ..., hex: _Optional[str] = ..., method: _Optional[str] = ...) -> None: ...

class DominantColor(_message.Message):
    __slots__ = ("rgb", "hex")
    RGB_FIELD_NUMBER: _ClassVar[int]
    HEX_FIELD_NUMBER: _ClassVar[int]
    rgb: _containers.RepeatedScalarFieldContainer[float]
    hex: str
    def __init__(self, rgb: _Optional[_Iterable[float]] = ..., hex: _Optional[str] = ...) -> None: ...

class HealthRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class HealthResponse(_message.Message):
    __slots__ = ("status", "text_model", "vision_model", "text_model_name", "provider", "vision_model_name")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TEXT_MODEL_FIELD_NUMBER: _ClassVar[int]
    VISION_MODEL_FIELD_NUMBER: _ClassVar[int]
    TEXT_MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    VISION_MODEL_NAME_FIELD_NUMBER: _ClassVar[int]
    status: str
    text_model: bool
    vision_model: bool
    text_model_name: str
    provider: str
    vision_model_name: str
    def __init__(self, status: _Optional[str] = ..., text_model: _Optional[bool] = ..., vision_model: _Optional[bool] = ..., text_model_name: _Optional[str] = ..., provider: _Optional[str] = ..., vision_model_name: _Optional[str] = ...) -> None: ...

class InfoRequest(_message.Message):
    __slots__ = ("quantization_dims",)
    QUANTIZATION_DIMS_FIELD_NUMBER: _ClassVar[int]
    quantization_dims: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, quantization_dims: _Optional[_Iterable[int]] = ...) -> None: ...

class InfoResponse(_message.Message):
    __slots__ = ("averaging", "load_cuda", "txt_model", "tokenizer", "img_model", "text", "vision", "default_prefix", "version", "limits", "exif_orientation", "cache", "quantization")
    AVERAGING_FIELD_NUMBER: _ClassVar[int]
    LOAD_CUDA_FIELD_NUMBER: _ClassVar[int]
    TXT_MODEL_FIELD_NUMBER: _ClassVar[int]
    TOKENIZER_FIELD_NUMBER: _ClassVar[int]
    IMG_MODEL_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    VISION_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_PREFIX_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    EXIF_ORIENTATION_FIELD_NUMBER: _ClassVar[int]
    CACHE_FIELD_NUMBER: _ClassVar[int]
    QUANTIZATION_FIELD_NUMBER: _ClassVar[int]
    averaging: str
    load_cuda: bool
    txt_model: str
    tokenizer: str
    img_model: str
    text: ModelInfo
    vision: ModelInfo
    default_prefix: str
    version: str
    limits: Limits
    exif_orientation: bool
    cache: CacheStats
    quantization: Quantization
    def __init__(self, averaging: _Optional[str] = ..., load_cuda: _Optional[bool] = ..., txt_model: _Optional[str] = ..., tokenizer: _Optional[str] = ..., img_model: _Optional[str] = ..., text: _Optional[_Union[ModelInfo, _Mapping]] = ..., vision: _Optional[_Union[ModelInfo, _Mapping]] = ..., default_prefix: _Optional[str] = ..., version: _Optional[str] = ..., limits: _Optional[_Union[Limits, _Mapping]] = ..., exif_orientation: _Optional[bool] = ..., cache: _Optional[_Union[CacheStats, _Mapping]] = ..., quantization: _Optional[_Union[Quantization, _Mapping]] = ...) -> None: ...

class Quantization(_message.Message):
    __slots__ = ("source", "detail", "sha256", "dims", "ranges")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    DIMS_FIELD_NUMBER: _ClassVar[int]
    RANGES_FIELD_NUMBER: _ClassVar[int]
    source: str
    detail: str
    sha256: str
    dims: _containers.RepeatedScalarFieldContainer[int]
    ranges: _containers.RepeatedCompositeFieldContainer[QuantizationRange]
    def __init__(self, source: _Optional[str] = ..., detail: _Optional[str] = ..., sha256: _Optional[str] = ..., dims: _Optional[_Iterable[int]] = ..., ranges: _Optional[_Iterable[_Union[QuantizationRange, _Mapping]]] = ...) -> None: ...

class QuantizationRange(_message.Message):
    __slots__ = ("dim", "min", "max")
    DIM_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    dim: int
    min: _containers.RepeatedScalarFieldContainer[float]
    max: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, dim: _Optional[int] = ..., min: _Optional[_Iterable[float]] = ..., max: _Optional[_Iterable[float]] = ...) -> None: ...

class Limits(_message.Message):
    __slots__ = ("image_max_bytes", "image_max_pixels", "image_max_per_request", "image_decode_timeout_s", "fetch_timeout_s", "fetch_max_redirects", "fetch_allow_networks", "max_list_inputs", "max_pending_items", "stream_window", "grpc_max_message_bytes", "image_max_pending", "image_max_pending_bytes", "image_decode_bytes", "fetch_connections", "fetch_connections_per_request")
    IMAGE_MAX_BYTES_FIELD_NUMBER: _ClassVar[int]
    IMAGE_MAX_PIXELS_FIELD_NUMBER: _ClassVar[int]
    IMAGE_MAX_PER_REQUEST_FIELD_NUMBER: _ClassVar[int]
    IMAGE_DECODE_TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    FETCH_TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    FETCH_MAX_REDIRECTS_FIELD_NUMBER: _ClassVar[int]
    FETCH_ALLOW_NETWORKS_FIELD_NUMBER: _ClassVar[int]
    MAX_LIST_INPUTS_FIELD_NUMBER: _ClassVar[int]
    MAX_PENDING_ITEMS_FIELD_NUMBER: _ClassVar[int]
    STREAM_WINDOW_FIELD_NUMBER: _ClassVar[int]
    GRPC_MAX_MESSAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    IMAGE_MAX_PENDING_FIELD_NUMBER: _ClassVar[int]
    IMAGE_MAX_PENDING_BYTES_FIELD_NUMBER: _ClassVar[int]
    IMAGE_DECODE_BYTES_FIELD_NUMBER: _ClassVar[int]
    FETCH_CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    FETCH_CONNECTIONS_PER_REQUEST_FIELD_NUMBER: _ClassVar[int]
    image_max_bytes: int
    image_max_pixels: int
    image_max_per_request: int
    image_decode_timeout_s: float
    fetch_timeout_s: float
    fetch_max_redirects: int
    fetch_allow_networks: _containers.RepeatedScalarFieldContainer[str]
    max_list_inputs: int
    max_pending_items: int
    stream_window: int
    grpc_max_message_bytes: int
    image_max_pending: int
    image_max_pending_bytes: int
    image_decode_bytes: int
    fetch_connections: int
    fetch_connections_per_request: int
    def __init__(self, image_max_bytes: _Optional[int] = ..., image_max_pixels: _Optional[int] = ..., image_max_per_request: _Optional[int] = ..., image_decode_timeout_s: _Optional[float] = ..., fetch_timeout_s: _Optional[float] = ..., fetch_max_redirects: _Optional[int] = ..., fetch_allow_networks: _Optional[_Iterable[str]] = ..., max_list_inputs: _Optional[int] = ..., max_pending_items: _Optional[int] = ..., stream_window: _Optional[int] = ..., grpc_max_message_bytes: _Optional[int] = ..., image_max_pending: _Optional[int] = ..., image_max_pending_bytes: _Optional[int] = ..., image_decode_bytes: _Optional[int] = ..., fetch_connections: _Optional[int] = ..., fetch_connections_per_request: _Optional[int] = ...) -> None: ...

class ModelInfo(_message.Message):
    __slots__ = ("name", "path", "dimension", "max_tokens", "pooling", "matryoshka_layer_norm", "prefixes", "providers", "batching", "batching_reason", "source", "scheduler", "max_input_chars")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    POOLING_FIELD_NUMBER: _ClassVar[int]
    MATRYOSHKA_LAYER_NORM_FIELD_NUMBER: _ClassVar[int]
    PREFIXES_FIELD_NUMBER: _ClassVar[int]
    PROVIDERS_FIELD_NUMBER: _ClassVar[int]
    BATCHING_FIELD_NUMBER: _ClassVar[int]
    BATCHING_REASON_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SCHEDULER_FIELD_NUMBER: _ClassVar[int]
    MAX_INPUT_CHARS_FIELD_NUMBER: _ClassVar[int]
    name: str
    path: str
    dimension: int
    max_tokens: int
    pooling: str
    matryoshka_layer_norm: bool
    prefixes: _containers.RepeatedScalarFieldContainer[str]
    providers: _containers.RepeatedScalarFieldContainer[str]
    batching: str
    batching_reason: str
    source: str
    scheduler: Scheduler
    max_input_chars: int
    def __init__(self, name: _Optional[str] = ..., path: _Optional[str] = ..., dimension: _Optional[int] = ..., max_tokens: _Optional[int] = ..., pooling: _Optional[str] = ..., matryoshka_layer_norm: _Optional[bool] = ..., prefixes: _Optional[_Iterable[str]] = ..., providers: _Optional[_Iterable[str]] = ..., batching: _Optional[str] = ..., batching_reason: _Optional[str] = ..., source: _Optional[str] = ..., scheduler: _Optional[_Union[Scheduler, _Mapping]] = ..., max_input_chars: _Optional[int] = ...) -> None: ...

class Scheduler(_message.Message):
    __slots__ = ("workers", "max_batch_size", "max_batch_tokens", "batch_wait_ms", "queued", "intra_op_threads", "solo_session", "max_padding_ratio")
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_TOKENS_FIELD_NUMBER: _ClassVar[int]
    BATCH_WAIT_MS_FIELD_NUMBER: _ClassVar[int]
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    INTRA_OP_THREADS_FIELD_NUMBER: _ClassVar[int]
    SOLO_SESSION_FIELD_NUMBER: _ClassVar[int]
    MAX_PADDING_RATIO_FIELD_NUMBER: _ClassVar[int]
    workers: int
    max_batch_size: int
    max_batch_tokens: int
    batch_wait_ms: float
    queued: int
    intra_op_threads: int
    solo_session: bool
    max_padding_ratio: float
    def __init__(self, workers: _Optional[int] = ..., max_batch_size: _Optional[int] = ..., max_batch_tokens: _Optional[int] = ..., batch_wait_ms: _Optional[float] = ..., queued: _Optional[int] = ..., intra_op_threads: _Optional[int] = ..., solo_session: _Optional[bool] = ..., max_padding_ratio: _Optional[float] = ...) -> None: ...

class CacheStats(_message.Message):
    __slots__ = ("hits", "misses", "entries", "bytes", "max_bytes", "evictions")
    HITS_FIELD_NUMBER: _ClassVar[int]
    MISSES_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_BYTES_FIELD_NUMBER: _ClassVar[int]
    EVICTIONS_FIELD_NUMBER: _ClassVar[int]
    hits: int
    misses: int
    entries: int
    bytes: int
    max_bytes: int
    evictions: int
    def __init__(self, hits: _Optional[int] = ..., misses: _Optional[int] = ..., entries: _Optional[int] = ..., bytes: _Optional[int] = ..., max_bytes: _Optional[int] = ..., evictions: _Optional[int] = ...) -> None: ...
