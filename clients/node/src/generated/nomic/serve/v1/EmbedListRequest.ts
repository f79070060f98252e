// Original file: ../../proto/nomic/serve/v1/embedding_service.proto


/**
 * EmbedListRequest asks for the embeddings of several texts.
 */
export interface EmbedListRequest {
  /**
   * Texts to embed, at least one; each must be non-empty.
   */
  'inputs'?: (string)[];
  /**
   * Embedding dimension applied to every text, range [1, native dimension];
   * 0 or unset means native.
   */
  'dim'?: (number);
  /**
   * Task prefix applied to every text (see EmbedRequest.prefix).
   */
  'prefix'?: (string);
  /**
   * Whether over-long inputs are truncated (the default) or refused.
   */
  'truncate'?: (boolean);
  /**
   * Encoding of every embedding (see EmbedRequest.encoding); compact ones are
   * returned in `packed`.
   */
  'encoding'?: (string);
  '_truncate'?: "truncate";
}

/**
 * EmbedListRequest asks for the embeddings of several texts.
 */
export interface EmbedListRequest__Output {
  /**
   * Texts to embed, at least one; each must be non-empty.
   */
  'inputs': (string)[];
  /**
   * Embedding dimension applied to every text, range [1, native dimension];
   * 0 or unset means native.
   */
  'dim': (number);
  /**
   * Task prefix applied to every text (see EmbedRequest.prefix).
   */
  'prefix': (string);
  /**
   * Whether over-long inputs are truncated (the default) or refused.
   */
  'truncate'?: (boolean);
  /**
   * Encoding of every embedding (see EmbedRequest.encoding); compact ones are
   * returned in `packed`.
   */
  'encoding': (string);
  '_truncate'?: "truncate";
}
