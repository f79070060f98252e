// Original file: ../../proto/nomic/serve/v1/embedding_service.proto

import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from '../../../google/protobuf/Value';

/**
 * EmbeddingData is one embedding of an OpenAI-style response.
 */
export interface EmbeddingData {
  /**
   * Always `embedding`.
   */
  'object'?: (string);
  /**
   * Position of the input text, counting from 0.
   */
  'index'?: (number);
  /**
   * The L2-normalized vector: a list of numbers, or a base64 string when
   * `encoding_format` is `base64`.
   */
  'embedding'?: (_google_protobuf_Value | null);
}

/**
 * EmbeddingData is one embedding of an OpenAI-style response.
 */
export interface EmbeddingData__Output {
  /**
   * Always `embedding`.
   */
  'object': (string);
  /**
   * Position of the input text, counting from 0.
   */
  'index': (number);
  /**
   * The L2-normalized vector: a list of numbers, or a base64 string when
   * `encoding_format` is `base64`.
   */
  'embedding': (_google_protobuf_Value__Output | null);
}
