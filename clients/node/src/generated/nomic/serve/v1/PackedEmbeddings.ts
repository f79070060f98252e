// Original file: ../../proto/nomic/serve/v1/embedding_service.proto


/**
 * PackedEmbeddings is several embeddings in one compact encoding.
 */
export interface PackedEmbeddings {
  /**
   * `base64`, `float16`, `int8`, `uint8`, `binary` or `ubinary`.
   */
  'encoding'?: (string);
  /**
   * Number of values each entry encodes.
   */
  'dim'?: (number);
  /**
   * One encoded vector per input, in input order (see PackedEmbedding).
   */
  'data'?: (Buffer | Uint8Array | string)[];
}

/**
 * PackedEmbeddings is several embeddings in one compact encoding.
 */
export interface PackedEmbeddings__Output {
  /**
   * `base64`, `float16`, `int8`, `uint8`, `binary` or `ubinary`.
   */
  'encoding': (string);
  /**
   * Number of values each entry encodes.
   */
  'dim': (number);
  /**
   * One encoded vector per input, in input order (see PackedEmbedding).
   */
  'data': (Buffer)[];
}
