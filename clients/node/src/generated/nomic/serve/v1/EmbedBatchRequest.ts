// Original file: ../../proto/nomic/serve/v1/embedding_service.proto


/**
 * EmbedBatchRequest is one item of a streamed embedding job.
 */
export interface EmbedBatchRequest {
  /**
   * Text to embed. An empty one is answered with a per-item error.
   */
  'input'?: (string);
  /**
   * Embedding dimension for this item; 0 or unset means native.
   */
  'dim'?: (number);
  /**
   * Task prefix for this item (see EmbedRequest.prefix).
   */
  'prefix'?: (string);
  /**
   * Whether an over-long input is truncated (the default) or refused.
   */
  'truncate'?: (boolean);
  /**
   * Encoding of this item's embedding (see EmbedRequest.encoding).
   */
  'encoding'?: (string);
  /**
   * Long documents, for this item (see EmbedRequest.long_input).
   */
  'long_input'?: (string);
  /**
   * See EmbedRequest.chunk_tokens.
   */
  'chunk_tokens'?: (number);
  /**
   * See EmbedRequest.chunk_overlap.
   */
  'chunk_overlap'?: (number);
  '_truncate'?: "truncate";
}

/**
 * EmbedBatchRequest is one item of a streamed embedding job.
 */
export interface EmbedBatchRequest__Output {
  /**
   * Text to embed. An empty one is answered with a per-item error.
   */
  'input': (string);
  /**
   * Embedding dimension for this item; 0 or unset means native.
   */
  'dim': (number);
  /**
   * Task prefix for this item (see EmbedRequest.prefix).
   */
  'prefix': (string);
  /**
   * Whether an over-long input is truncated (the default) or refused.
   */
  'truncate'?: (boolean);
  /**
   * Encoding of this item's embedding (see EmbedRequest.encoding).
   */
  'encoding': (string);
  /**
   * Long documents, for this item (see EmbedRequest.long_input).
   */
  'long_input': (string);
  /**
   * See EmbedRequest.chunk_tokens.
   */
  'chunk_tokens': (number);
  /**
   * See EmbedRequest.chunk_overlap.
   */
  'chunk_overlap': (number);
  '_truncate'?: "truncate";
}
