// Original file: ../../proto/nomic/serve/v1/embedding_service.proto


/**
 * ImageEmbedListRequest asks for the embeddings of several images. Items of
 * `contents` come first, then items of `data`; at most `IMAGE_MAX_PER_REQUEST`
 * in all.
 */
export interface ImageEmbedListRequest {
  /**
   * Images as URLs, data URLs or raw base64. JSON also accepts `inputs`.
   */
  'contents'?: (string)[];
  /**
   * Embedding dimension applied to every image; 0 or unset means native.
   */
  'dim'?: (number);
  /**
   * Image file bytes, without base64 (gRPC callers).
   */
  'data'?: (Buffer | Uint8Array | string)[];
  /**
   * Encoding of every embedding (see ImageEmbedRequest.encoding).
   */
  'encoding'?: (string);
}

/**
 * ImageEmbedListRequest asks for the embeddings of several images. Items of
 * `contents` come first, then items of `data`; at most `IMAGE_MAX_PER_REQUEST`
 * in all.
 */
export interface ImageEmbedListRequest__Output {
  /**
   * Images as URLs, data URLs or raw base64. JSON also accepts `inputs`.
   */
  'contents': (string)[];
  /**
   * Embedding dimension applied to every image; 0 or unset means native.
   */
  'dim': (number);
  /**
   * Image file bytes, without base64 (gRPC callers).
   */
  'data': (Buffer)[];
  /**
   * Encoding of every embedding (see ImageEmbedRequest.encoding).
   */
  'encoding': (string);
}
