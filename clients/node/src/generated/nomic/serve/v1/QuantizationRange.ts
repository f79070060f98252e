// Original file: ../../proto/nomic/serve/v1/embedding_service.proto


/**
 * QuantizationRange is the per-value calibration range at one dimension.
 */
export interface QuantizationRange {
  /**
   * The Matryoshka dimension these ranges apply to.
   */
  'dim'?: (number);
  /**
   * Smallest calibration value of each of the `dim` positions.
   */
  'min'?: (number | string)[];
  /**
   * Largest calibration value of each of the `dim` positions.
   */
  'max'?: (number | string)[];
}

/**
 * QuantizationRange is the per-value calibration range at one dimension.
 */
export interface QuantizationRange__Output {
  /**
   * The Matryoshka dimension these ranges apply to.
   */
  'dim': (number);
  /**
   * Smallest calibration value of each of the `dim` positions.
   */
  'min': (number)[];
  /**
   * Largest calibration value of each of the `dim` positions.
   */
  'max': (number)[];
}
