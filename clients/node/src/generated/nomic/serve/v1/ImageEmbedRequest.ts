// Original file: ../../proto/nomic/serve/v1/embedding_service.proto


/**
 * ImageEmbedRequest asks for the embedding of one image.
 */
export interface ImageEmbedRequest {
  /**
   * Image as an http(s) URL, a data URL (`data:image/png;base64,...`) or raw
   * base64. JSON also accepts the alias `input`.
   */
  'content'?: (string);
  /**
   * Image file bytes (JPEG, PNG, GIF, WebP, BMP or TIFF), without base64.
   */
  'data'?: (Buffer | Uint8Array | string);
  /**
   * Embedding dimension, range [1, native dimension]; 0 or unset means native.
   */
  'dim'?: (number);
  /**
   * Encoding of the embedding (see EmbedRequest.encoding). `int8` and `uint8`
   * use the text model's calibration: images share its space.
   */
  'encoding'?: (string);
  /**
   * The image, exactly one of these.
   */
  'image'?: "content"|"data";
}

/**
 * ImageEmbedRequest asks for the embedding of one image.
 */
export interface ImageEmbedRequest__Output {
  /**
   * Image as an http(s) URL, a data URL (`data:image/png;base64,...`) or raw
   * base64. JSON also accepts the alias `input`.
   */
  'content'?: (string);
  /**
   * Image file bytes (JPEG, PNG, GIF, WebP, BMP or TIFF), without base64.
   */
  'data'?: (Buffer);
  /**
   * Embedding dimension, range [1, native dimension]; 0 or unset means native.
   */
  'dim': (number);
  /**
   * Encoding of the embedding (see EmbedRequest.encoding). `int8` and `uint8`
   * use the text model's calibration: images share its space.
   */
  'encoding': (string);
  /**
   * The image, exactly one of these.
   */
  'image'?: "content"|"data";
}
