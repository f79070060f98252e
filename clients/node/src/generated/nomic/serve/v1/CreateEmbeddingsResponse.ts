// Original file: ../../proto/nomic/serve/v1/embedding_service.proto

import type { EmbeddingData as _nomic_serve_v1_EmbeddingData, EmbeddingData__Output as _nomic_serve_v1_EmbeddingData__Output } from '../../../nomic/serve/v1/EmbeddingData';
import type { EmbeddingUsage as _nomic_serve_v1_EmbeddingUsage, EmbeddingUsage__Output as _nomic_serve_v1_EmbeddingUsage__Output } from '../../../nomic/serve/v1/EmbeddingUsage';

/**
 * CreateEmbeddingsResponse is OpenAI's embeddings response.
 */
export interface CreateEmbeddingsResponse {
  /**
   * Always `list`.
   */
  'object'?: (string);
  /**
   * One entry per input text, in input order.
   */
  'data'?: (_nomic_serve_v1_EmbeddingData)[];
  /**
   * Name of the model that produced the embeddings.
   */
  'model'?: (string);
  /**
   * Token counts of the request.
   */
  'usage'?: (_nomic_serve_v1_EmbeddingUsage | null);
}

/**
 * CreateEmbeddingsResponse is OpenAI's embeddings response.
 */
export interface CreateEmbeddingsResponse__Output {
  /**
   * Always `list`.
   */
  'object': (string);
  /**
   * One entry per input text, in input order.
   */
  'data': (_nomic_serve_v1_EmbeddingData__Output)[];
  /**
   * Name of the model that produced the embeddings.
   */
  'model': (string);
  /**
   * Token counts of the request.
   */
  'usage': (_nomic_serve_v1_EmbeddingUsage__Output | null);
}
