// Original file: ../../proto/nomic/serve/v1/embedding_service.proto


/**
 * DominantColor is the representative colour of an image's dominant hue.
 */
export interface DominantColor {
  /**
   * Red, green and blue, each in [0, 1].
   */
  'rgb'?: (number | string)[];
  /**
   * The colour as `#rrggbb`.
   */
  'hex'?: (string);
}

/**
 * DominantColor is the representative colour of an image's dominant hue.
 */
export interface DominantColor__Output {
  /**
   * Red, green and blue, each in [0, 1].
   */
  'rgb': (number)[];
  /**
   * The colour as `#rrggbb`.
   */
  'hex': (string);
}
