// Original file: ../../proto/nomic/serve/v1/embedding_service.proto


/**
 * AverageColor is the mean colour of an image.
 */
export interface AverageColor {
  /**
   * Red, green and blue, each in [0, 1].
   */
  'rgb'?: (number | string)[];
  /**
   * The colour as `#rrggbb`.
   */
  'hex'?: (string);
  /**
   * Averaging method used: `arithmetic` or `geometric`.
   */
  'method'?: (string);
}

/**
 * AverageColor is the mean colour of an image.
 */
export interface AverageColor__Output {
  /**
   * Red, green and blue, each in [0, 1].
   */
  'rgb': (number)[];
  /**
   * The colour as `#rrggbb`.
   */
  'hex': (string);
  /**
   * Averaging method used: `arithmetic` or `geometric`.
   */
  'method': (string);
}
