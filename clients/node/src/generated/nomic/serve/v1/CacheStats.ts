// Original file: ../../proto/nomic/serve/v1/embedding_service.proto

import type { Long } from '@grpc/proto-loader';

/**
 * CacheStats counts the embedding cache's work since start-up.
 */
export interface CacheStats {
  /**
   * Texts answered from the cache.
   */
  'hits'?: (number | string | Long);
  /**
   * Texts that had to be computed.
   */
  'misses'?: (number | string | Long);
  /**
   * Embeddings held.
   */
  'entries'?: (number);
  /**
   * Bytes held, estimated.
   */
  'bytes'?: (number | string | Long);
  /**
   * The bound (`CACHE_MB`); 0 means the cache is off.
   */
  'max_bytes'?: (number | string | Long);
  /**
   * Entries dropped to stay within the bound.
   */
  'evictions'?: (number | string | Long);
}

/**
 * CacheStats counts the embedding cache's work since start-up.
 */
export interface CacheStats__Output {
  /**
   * Texts answered from the cache.
   */
  'hits': (number);
  /**
   * Texts that had to be computed.
   */
  'misses': (number);
  /**
   * Embeddings held.
   */
  'entries': (number);
  /**
   * Bytes held, estimated.
   */
  'bytes': (number);
  /**
   * The bound (`CACHE_MB`); 0 means the cache is off.
   */
  'max_bytes': (number);
  /**
   * Entries dropped to stay within the bound.
   */
  'evictions': (number);
}
