// Original file: ../../proto/nomic/serve/v1/embedding_service.proto


/**
 * ImageStatsRequest asks for the metadata and colour statistics of one image.
 */
export interface ImageStatsRequest {
  /**
   * Image as an http(s) URL, a data URL or raw base64. JSON also accepts
   * the alias `input`.
   */
  'content'?: (string);
  /**
   * Image file bytes, without base64.
   */
  'data'?: (Buffer | Uint8Array | string);
  /**
   * Colour averaging method, `arithmetic` or `geometric`; empty means the
   * server default (`AVERAGING`, itself `geometric`).
   */
  'averaging_method'?: (string);
  /**
   * The image, exactly one of these.
   */
  'image'?: "content"|"data";
}

/**
 * ImageStatsRequest asks for the metadata and colour statistics of one image.
 */
export interface ImageStatsRequest__Output {
  /**
   * Image as an http(s) URL, a data URL or raw base64. JSON also accepts
   * the alias `input`.
   */
  'content'?: (string);
  /**
   * Image file bytes, without base64.
   */
  'data'?: (Buffer);
  /**
   * Colour averaging method, `arithmetic` or `geometric`; empty means the
   * server default (`AVERAGING`, itself `geometric`).
   */
  'averaging_method': (string);
  /**
   * The image, exactly one of these.
   */
  'image'?: "content"|"data";
}
