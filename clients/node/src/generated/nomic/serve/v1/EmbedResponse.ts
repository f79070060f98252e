// Original file: ../../proto/nomic/serve/v1/embedding_service.proto

import type { PackedEmbedding as _nomic_serve_v1_PackedEmbedding, PackedEmbedding__Output as _nomic_serve_v1_PackedEmbedding__Output } from '../../../nomic/serve/v1/PackedEmbedding';
import type { Chunks as _nomic_serve_v1_Chunks, Chunks__Output as _nomic_serve_v1_Chunks__Output } from '../../../nomic/serve/v1/Chunks';

/**
 * EmbedResponse carries the embedding of one text.
 */
export interface EmbedResponse {
  /**
   * The L2-normalized embedding, `dim` values long.
   */
  'embedding'?: (number | string)[];
  /**
   * Number of tokens the model saw, special tokens included (after truncation).
   */
  'tokens'?: (number);
  /**
   * Server-side processing time in milliseconds.
   */
  'time_ms'?: (number | string);
  /**
   * True when the input was cut at the model's maximum token count.
   */
  'truncated'?: (boolean);
  /**
   * Name of the model that produced the embedding.
   */
  'model'?: (string);
  /**
   * The embedding in the requested compact encoding; unset for `float`.
   */
  'packed'?: (_nomic_serve_v1_PackedEmbedding | null);
  /**
   * The chunks of a `chunk` or `late_chunk` request; then `embedding` and
   * `packed` are empty and `tokens` counts the whole text.
   */
  'chunks'?: (_nomic_serve_v1_Chunks | null);
}

/**
 * EmbedResponse carries the embedding of one text.
 */
export interface EmbedResponse__Output {
  /**
   * The L2-normalized embedding, `dim` values long.
   */
  'embedding': (number)[];
  /**
   * Number of tokens the model saw, special tokens included (after truncation).
   */
  'tokens': (number);
  /**
   * Server-side processing time in milliseconds.
   */
  'time_ms': (number);
  /**
   * True when the input was cut at the model's maximum token count.
   */
  'truncated': (boolean);
  /**
   * Name of the model that produced the embedding.
   */
  'model': (string);
  /**
   * The embedding in the requested compact encoding; unset for `float`.
   */
  'packed': (_nomic_serve_v1_PackedEmbedding__Output | null);
  /**
   * The chunks of a `chunk` or `late_chunk` request; then `embedding` and
   * `packed` are empty and `tokens` counts the whole text.
   */
  'chunks': (_nomic_serve_v1_Chunks__Output | null);
}
