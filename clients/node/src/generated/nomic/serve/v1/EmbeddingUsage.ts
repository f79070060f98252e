// Original file: ../../proto/nomic/serve/v1/embedding_service.proto


/**
 * EmbeddingUsage counts the tokens of an OpenAI-style request.
 */
export interface EmbeddingUsage {
  /**
   * Tokens in all inputs, special tokens included.
   */
  'prompt_tokens'?: (number);
  /**
   * Same as `prompt_tokens`: embeddings have no completion tokens.
   */
  'total_tokens'?: (number);
}

/**
 * EmbeddingUsage counts the tokens of an OpenAI-style request.
 */
export interface EmbeddingUsage__Output {
  /**
   * Tokens in all inputs, special tokens included.
   */
  'prompt_tokens': (number);
  /**
   * Same as `prompt_tokens`: embeddings have no completion tokens.
   */
  'total_tokens': (number);
}
