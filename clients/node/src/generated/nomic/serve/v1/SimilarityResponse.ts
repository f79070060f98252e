// Original file: ../../proto/nomic/serve/v1/embedding_service.proto


/**
 * SimilarityResponse scores the candidates against the query.
 */
export interface SimilarityResponse {
  /**
   * Cosine similarity of each candidate with the query, in candidate order.
   */
  'scores'?: (number | string)[];
  /**
   * Candidate indices from the most to the least similar (ties by index).
   */
  'ranking'?: (number)[];
  /**
   * Server-side processing time in milliseconds.
   */
  'time_ms'?: (number | string);
  /**
   * The dimension the vectors were compared at.
   */
  'dim'?: (number);
}

/**
 * SimilarityResponse scores the candidates against the query.
 */
export interface SimilarityResponse__Output {
  /**
   * Cosine similarity of each candidate with the query, in candidate order.
   */
  'scores': (number)[];
  /**
   * Candidate indices from the most to the least similar (ties by index).
   */
  'ranking': (number)[];
  /**
   * Server-side processing time in milliseconds.
   */
  'time_ms': (number);
  /**
   * The dimension the vectors were compared at.
   */
  'dim': (number);
}
