// Original file: ../../proto/nomic/serve/v1/embedding_service.proto


/**
 * SimilarityInput is one text or one image of a Similarity request.
 */
export interface SimilarityInput {
  /**
   * A text.
   */
  'text'?: (string);
  /**
   * An image as an http(s) URL, a data URL or raw base64.
   */
  'image'?: (string);
  /**
   * Image file bytes, without base64 (gRPC callers).
   */
  'image_data'?: (Buffer | Uint8Array | string);
  /**
   * Task prefix of a text (see EmbedRequest.prefix). Empty means `search_query`
   * for the query and `search_document` for candidates.
   */
  'prefix'?: (string);
  /**
   * Exactly one of these.
   */
  'input'?: "text"|"image"|"image_data";
}

/**
 * SimilarityInput is one text or one image of a Similarity request.
 */
export interface SimilarityInput__Output {
  /**
   * A text.
   */
  'text'?: (string);
  /**
   * An image as an http(s) URL, a data URL or raw base64.
   */
  'image'?: (string);
  /**
   * Image file bytes, without base64 (gRPC callers).
   */
  'image_data'?: (Buffer);
  /**
   * Task prefix of a text (see EmbedRequest.prefix). Empty means `search_query`
   * for the query and `search_document` for candidates.
   */
  'prefix': (string);
  /**
   * Exactly one of these.
   */
  'input'?: "text"|"image"|"image_data";
}
