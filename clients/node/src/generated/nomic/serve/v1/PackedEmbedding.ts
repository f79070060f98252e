// Original file: ../../proto/nomic/serve/v1/embedding_service.proto


/**
 * PackedEmbedding is one embedding in a compact encoding: bytes in gRPC, base64
 * in JSON. Layouts, for `dim` values:
 * - `base64`: little-endian float32, 4 bytes per value (the OpenAI layout);
 * - `float16`: little-endian IEEE half precision, 2 bytes per value;
 * - `int8` / `uint8`: one byte per value, `(v - min) / ((max - min) / 255)`
 * truncated toward zero, minus 128 for `int8`, clipped to the type's range,
 * with per-dimension `min` and `max` from the model's fixed calibration
 * (`InfoResponse.quantization`), never from the request's own batch;
 * - `binary` / `ubinary`: one bit per value (1 when v > 0), packed 8 per byte,
 * most significant bit first; `binary` stores each byte minus 128 as int8.
 * `dim` must be divisible by 8.
 * These are the layouts of sentence-transformers' `quantize_embeddings`.
 */
export interface PackedEmbedding {
  /**
   * `base64`, `float16`, `int8`, `uint8`, `binary` or `ubinary`.
   */
  'encoding'?: (string);
  /**
   * Number of values the bytes encode (the Matryoshka dimension).
   */
  'dim'?: (number);
  /**
   * The encoded vector.
   */
  'data'?: (Buffer | Uint8Array | string);
}

/**
 * PackedEmbedding is one embedding in a compact encoding: bytes in gRPC, base64
 * in JSON. Layouts, for `dim` values:
 * - `base64`: little-endian float32, 4 bytes per value (the OpenAI layout);
 * - `float16`: little-endian IEEE half precision, 2 bytes per value;
 * - `int8` / `uint8`: one byte per value, `(v - min) / ((max - min) / 255)`
 * truncated toward zero, minus 128 for `int8`, clipped to the type's range,
 * with per-dimension `min` and `max` from the model's fixed calibration
 * (`InfoResponse.quantization`), never from the request's own batch;
 * - `binary` / `ubinary`: one bit per value (1 when v > 0), packed 8 per byte,
 * most significant bit first; `binary` stores each byte minus 128 as int8.
 * `dim` must be divisible by 8.
 * These are the layouts of sentence-transformers' `quantize_embeddings`.
 */
export interface PackedEmbedding__Output {
  /**
   * `base64`, `float16`, `int8`, `uint8`, `binary` or `ubinary`.
   */
  'encoding': (string);
  /**
   * Number of values the bytes encode (the Matryoshka dimension).
   */
  'dim': (number);
  /**
   * The encoded vector.
   */
  'data': (Buffer);
}
