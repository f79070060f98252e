// Original file: ../../proto/nomic/serve/v1/embedding_service.proto


/**
 * EmbedRequest asks for the embedding of one text.
 */
export interface EmbedRequest {
  /**
   * Text to embed. Required; empty or whitespace-only text is INVALID_ARGUMENT.
   */
  'input'?: (string);
  /**
   * Embedding dimension (Matryoshka), range [1, native dimension]; 0 or unset
   * means the native dimension (768 for nomic-embed-text-v1.5). The vector is
   * re-normalized after truncation, so it has unit length at every dimension.
   */
  'dim'?: (number);
  /**
   * Task prefix: one of `search_query`, `search_document`, `clustering`,
   * `classification`, or `none` for callers who add their own. Empty means the
   * server default (`DEFAULT_PREFIX`, itself `search_query`). Ignored by models
   * whose profile has no prefixes.
   */
  'prefix'?: (string);
  /**
   * Whether an input longer than the model's maximum token count is truncated
   * (the default) or refused with INVALID_ARGUMENT naming its token count.
   */
  'truncate'?: (boolean);
  /**
   * How the embedding is returned: `float` (the default: `embedding` as numbers),
   * or a compact encoding in `packed` (see PackedEmbedding): `base64`, `float16`,
   * `int8`, `uint8`, `binary` or `ubinary`.
   */
  'encoding'?: (string);
  /**
   * What to do with a text longer than the model's maximum: `truncate` (the
   * default: cut it there), `chunk` (split it into windows of at most
   * `chunk_tokens`, each embedded as its own input with the prefix) or
   * `late_chunk` (encode it once with the model's whole context and mean-pool
   * each window's span of the same hidden states). With `chunk` and
   * `late_chunk` the answer is in `chunks`, whatever the text's length.
   */
  'long_input'?: (string);
  /**
   * Tokens per chunk at most; 0 means as many as fit in the model's maximum.
   */
  'chunk_tokens'?: (number);
  /**
   * Tokens shared by consecutive chunks, at most half of `chunk_tokens`.
   */
  'chunk_overlap'?: (number);
  '_truncate'?: "truncate";
}

/**
 * EmbedRequest asks for the embedding of one text.
 */
export interface EmbedRequest__Output {
  /**
   * Text to embed. Required; empty or whitespace-only text is INVALID_ARGUMENT.
   */
  'input': (string);
  /**
   * Embedding dimension (Matryoshka), range [1, native dimension]; 0 or unset
   * means the native dimension (768 for nomic-embed-text-v1.5). The vector is
   * re-normalized after truncation, so it has unit length at every dimension.
   */
  'dim': (number);
  /**
   * Task prefix: one of `search_query`, `search_document`, `clustering`,
   * `classification`, or `none` for callers who add their own. Empty means the
   * server default (`DEFAULT_PREFIX`, itself `search_query`). Ignored by models
   * whose profile has no prefixes.
   */
  'prefix': (string);
  /**
   * Whether an input longer than the model's maximum token count is truncated
   * (the default) or refused with INVALID_ARGUMENT naming its token count.
   */
  'truncate'?: (boolean);
  /**
   * How the embedding is returned: `float` (the default: `embedding` as numbers),
   * or a compact encoding in `packed` (see PackedEmbedding): `base64`, `float16`,
   * `int8`, `uint8`, `binary` or `ubinary`.
   */
  'encoding': (string);
  /**
   * What to do with a text longer than the model's maximum: `truncate` (the
   * default: cut it there), `chunk` (split it into windows of at most
   * `chunk_tokens`, each embedded as its own input with the prefix) or
   * `late_chunk` (encode it once with the model's whole context and mean-pool
   * each window's span of the same hidden states). With `chunk` and
   * `late_chunk` the answer is in `chunks`, whatever the text's length.
   */
  'long_input': (string);
  /**
   * Tokens per chunk at most; 0 means as many as fit in the model's maximum.
   */
  'chunk_tokens': (number);
  /**
   * Tokens shared by consecutive chunks, at most half of `chunk_tokens`.
   */
  'chunk_overlap': (number);
  '_truncate'?: "truncate";
}
