// Original file: ../../proto/nomic/serve/v1/embedding_service.proto

import type { PackedEmbedding as _nomic_serve_v1_PackedEmbedding, PackedEmbedding__Output as _nomic_serve_v1_PackedEmbedding__Output } from '../../../nomic/serve/v1/PackedEmbedding';

/**
 * ImageEmbedResponse carries the embedding of one image.
 */
export interface ImageEmbedResponse {
  /**
   * The L2-normalized embedding, `dim` values long.
   */
  'embedding'?: (number | string)[];
  /**
   * Server-side processing time in milliseconds.
   */
  'time_ms'?: (number | string);
  /**
   * Name of the model that produced the embedding.
   */
  'model'?: (string);
  /**
   * The embedding in the requested compact encoding; unset for `float`.
   */
  'packed'?: (_nomic_serve_v1_PackedEmbedding | null);
}

/**
 * ImageEmbedResponse carries the embedding of one image.
 */
export interface ImageEmbedResponse__Output {
  /**
   * The L2-normalized embedding, `dim` values long.
   */
  'embedding': (number)[];
  /**
   * Server-side processing time in milliseconds.
   */
  'time_ms': (number);
  /**
   * Name of the model that produced the embedding.
   */
  'model': (string);
  /**
   * The embedding in the requested compact encoding; unset for `float`.
   */
  'packed': (_nomic_serve_v1_PackedEmbedding__Output | null);
}
