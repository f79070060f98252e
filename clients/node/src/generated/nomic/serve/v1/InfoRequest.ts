// Original file: ../../proto/nomic/serve/v1/embedding_service.proto


/**
 * InfoRequest asks for the server's configuration.
 */
export interface InfoRequest {
  /**
   * Matryoshka dimensions whose int8/uint8 ranges `quantization` should list,
   * beside the native one; each in [1, native].
   */
  'quantization_dims'?: (number)[];
}

/**
 * InfoRequest asks for the server's configuration.
 */
export interface InfoRequest__Output {
  /**
   * Matryoshka dimensions whose int8/uint8 ranges `quantization` should list,
   * beside the native one; each in [1, native].
   */
  'quantization_dims': (number)[];
}
