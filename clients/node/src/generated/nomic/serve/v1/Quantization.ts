// Original file: ../../proto/nomic/serve/v1/embedding_service.proto

import type { QuantizationRange as _nomic_serve_v1_QuantizationRange, QuantizationRange__Output as _nomic_serve_v1_QuantizationRange__Output } from '../../../nomic/serve/v1/QuantizationRange';

/**
 * Quantization describes the calibration behind the int8 and uint8 encodings.
 */
export interface Quantization {
  /**
   * `builtin`: computed once per model from the built-in calibration corpus and
   * cached; `file`: read from `QUANT_RANGES`.
   */
  'source'?: (string);
  /**
   * The corpus (`calibration-v1`, its sentence count) or the file's path.
   */
  'detail'?: (string);
  /**
   * SHA-256 of what the ranges are computed from (the calibration vectors, or
   * the file), hex: equal hashes give equal bytes.
   */
  'sha256'?: (string);
  /**
   * Dimensions the ranges exist for when `source` is `file`; empty for
   * `builtin`, which has them for every dimension.
   */
  'dims'?: (number)[];
  /**
   * Per-dimension ranges for the native dimension and the requested ones.
   */
  'ranges'?: (_nomic_serve_v1_QuantizationRange)[];
}

/**
 * Quantization describes the calibration behind the int8 and uint8 encodings.
 */
export interface Quantization__Output {
  /**
   * `builtin`: computed once per model from the built-in calibration corpus and
   * cached; `file`: read from `QUANT_RANGES`.
   */
  'source': (string);
  /**
   * The corpus (`calibration-v1`, its sentence count) or the file's path.
   */
  'detail': (string);
  /**
   * SHA-256 of what the ranges are computed from (the calibration vectors, or
   * the file), hex: equal hashes give equal bytes.
   */
  'sha256': (string);
  /**
   * Dimensions the ranges exist for when `source` is `file`; empty for
   * `builtin`, which has them for every dimension.
   */
  'dims': (number)[];
  /**
   * Per-dimension ranges for the native dimension and the requested ones.
   */
  'ranges': (_nomic_serve_v1_QuantizationRange__Output)[];
}
