// Original file: ../../proto/nomic/serve/v1/embedding_service.proto

import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from '../../../google/protobuf/Value';

/**
 * CreateEmbeddingsRequest is OpenAI's embeddings request, plus the nomic prefix.
 */
export interface CreateEmbeddingsRequest {
  /**
   * A text or a list of texts (OpenAI `input`); token-id arrays are refused.
   */
  'input'?: (_google_protobuf_Value | null);
  /**
   * Model name. Any value is accepted; the response names the model served.
   */
  'model'?: (string);
  /**
   * Embedding dimension (Matryoshka), range [1, native]; 0 or unset means native.
   */
  'dimensions'?: (number);
  /**
   * `float` (the default) or `base64`: little-endian float32 bytes, base64-encoded.
   * Also `float16`, `int8`, `uint8`, `binary` and `ubinary` (an extension): the
   * bytes of PackedEmbedding, base64-encoded.
   */
  'encoding_format'?: (string);
  /**
   * OpenAI's end-user identifier; accepted and ignored.
   */
  'user'?: (string);
  /**
   * nomic task prefix (an extension; OpenAI clients send it with `extra_body`):
   * `search_query`, `search_document`, `clustering`, `classification` or `none`.
   * Empty means the server default (`DEFAULT_PREFIX`).
   */
  'prefix'?: (string);
}

/**
 * CreateEmbeddingsRequest is OpenAI's embeddings request, plus the nomic prefix.
 */
export interface CreateEmbeddingsRequest__Output {
  /**
   * A text or a list of texts (OpenAI `input`); token-id arrays are refused.
   */
  'input': (_google_protobuf_Value__Output | null);
  /**
   * Model name. Any value is accepted; the response names the model served.
   */
  'model': (string);
  /**
   * Embedding dimension (Matryoshka), range [1, native]; 0 or unset means native.
   */
  'dimensions': (number);
  /**
   * `float` (the default) or `base64`: little-endian float32 bytes, base64-encoded.
   * Also `float16`, `int8`, `uint8`, `binary` and `ubinary` (an extension): the
   * bytes of PackedEmbedding, base64-encoded.
   */
  'encoding_format': (string);
  /**
   * OpenAI's end-user identifier; accepted and ignored.
   */
  'user': (string);
  /**
   * nomic task prefix (an extension; OpenAI clients send it with `extra_body`):
   * `search_query`, `search_document`, `clustering`, `classification` or `none`.
   * Empty means the server default (`DEFAULT_PREFIX`).
   */
  'prefix': (string);
}
