// Original file: ../../proto/nomic/serve/v1/embedding_service.proto


/**
 * EmbedQueryRequest asks for the embedding of one search query.
 */
export interface EmbedQueryRequest {
  /**
   * Query text to embed. Required; empty or whitespace-only is INVALID_ARGUMENT.
   */
  'input'?: (string);
  /**
   * Embedding dimension, range [1, native dimension]; 0 or unset means native.
   */
  'dim'?: (number);
  /**
   * Whether an over-long input is truncated (the default) or refused.
   */
  'truncate'?: (boolean);
  /**
   * How the embedding is returned: `float` (the default: `embedding` as numbers),
   * or a compact encoding in `packed` (see PackedEmbedding): `base64`, `float16`,
   * `int8`, `uint8`, `binary` or `ubinary`.
   */
  'encoding'?: (string);
  '_truncate'?: "truncate";
}

/**
 * EmbedQueryRequest asks for the embedding of one search query.
 */
export interface EmbedQueryRequest__Output {
  /**
   * Query text to embed. Required; empty or whitespace-only is INVALID_ARGUMENT.
   */
  'input': (string);
  /**
   * Embedding dimension, range [1, native dimension]; 0 or unset means native.
   */
  'dim': (number);
  /**
   * Whether an over-long input is truncated (the default) or refused.
   */
  'truncate'?: (boolean);
  /**
   * How the embedding is returned: `float` (the default: `embedding` as numbers),
   * or a compact encoding in `packed` (see PackedEmbedding): `base64`, `float16`,
   * `int8`, `uint8`, `binary` or `ubinary`.
   */
  'encoding': (string);
  '_truncate'?: "truncate";
}
