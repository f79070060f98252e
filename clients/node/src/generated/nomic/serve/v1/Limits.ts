// Original file: ../../proto/nomic/serve/v1/embedding_service.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Limits lists every configured request limit and what exceeding it returns.
 */
export interface Limits {
  /**
   * Largest compressed image, in bytes (`IMAGE_MAX_MB`); INVALID_ARGUMENT.
   */
  'image_max_bytes'?: (number);
  /**
   * Largest decoded image, in pixels (`IMAGE_MAX_PIXELS`); INVALID_ARGUMENT.
   */
  'image_max_pixels'?: (number);
  /**
   * Most images in one request (`IMAGE_MAX_PER_REQUEST`); INVALID_ARGUMENT.
   */
  'image_max_per_request'?: (number);
  /**
   * Seconds allowed to decode one request's images (`IMAGE_DECODE_TIMEOUT_S`).
   */
  'image_decode_timeout_s'?: (number | string);
  /**
   * Seconds allowed to fetch one image URL (`FETCH_TIMEOUT_S`).
   */
  'fetch_timeout_s'?: (number | string);
  /**
   * Redirects followed when fetching an image URL (`FETCH_MAX_REDIRECTS`).
   */
  'fetch_max_redirects'?: (number);
  /**
   * Private networks image URLs may reach (`FETCH_ALLOW_NETWORKS`).
   */
  'fetch_allow_networks'?: (string)[];
  /**
   * Most texts in one EmbedList (`MAX_LIST_INPUTS`); INVALID_ARGUMENT.
   */
  'max_list_inputs'?: (number);
  /**
   * Texts admitted at once (`MAX_PENDING_ITEMS`); RESOURCE_EXHAUSTED beyond.
   */
  'max_pending_items'?: (number);
  /**
   * EmbedBatch items read ahead per stream (`STREAM_WINDOW`).
   */
  'stream_window'?: (number);
  /**
   * Largest gRPC message, in bytes (`GRPC_MAX_MESSAGE_MB`).
   */
  'grpc_max_message_bytes'?: (number);
  /**
   * Images in flight at once, server-wide, before new ones are refused
   * (`IMAGE_MAX_PENDING`).
   */
  'image_max_pending'?: (number);
  /**
   * Compressed image bytes in flight at once (`IMAGE_MAX_PENDING_MB`).
   */
  'image_max_pending_bytes'?: (number | string | Long);
  /**
   * Memory all images being decoded at once may take, in bytes
   * (`IMAGE_DECODE_MB`).
   */
  'image_decode_bytes'?: (number | string | Long);
  /**
   * Image URL downloads at once, server-wide (`FETCH_CONNECTIONS`).
   */
  'fetch_connections'?: (number);
  /**
   * Image URL downloads at once for one request
   * (`FETCH_CONNECTIONS_PER_REQUEST`).
   */
  'fetch_connections_per_request'?: (number);
}

/**
 * Limits lists every configured request limit and what exceeding it returns.
 */
export interface Limits__Output {
  /**
   * Largest compressed image, in bytes (`IMAGE_MAX_MB`); INVALID_ARGUMENT.
   */
  'image_max_bytes': (number);
  /**
   * Largest decoded image, in pixels (`IMAGE_MAX_PIXELS`); INVALID_ARGUMENT.
   */
  'image_max_pixels': (number);
  /**
   * Most images in one request (`IMAGE_MAX_PER_REQUEST`); INVALID_ARGUMENT.
   */
  'image_max_per_request': (number);
  /**
   * Seconds allowed to decode one request's images (`IMAGE_DECODE_TIMEOUT_S`).
   */
  'image_decode_timeout_s': (number);
  /**
   * Seconds allowed to fetch one image URL (`FETCH_TIMEOUT_S`).
   */
  'fetch_timeout_s': (number);
  /**
   * Redirects followed when fetching an image URL (`FETCH_MAX_REDIRECTS`).
   */
  'fetch_max_redirects': (number);
  /**
   * Private networks image URLs may reach (`FETCH_ALLOW_NETWORKS`).
   */
  'fetch_allow_networks': (string)[];
  /**
   * Most texts in one EmbedList (`MAX_LIST_INPUTS`); INVALID_ARGUMENT.
   */
  'max_list_inputs': (number);
  /**
   * Texts admitted at once (`MAX_PENDING_ITEMS`); RESOURCE_EXHAUSTED beyond.
   */
  'max_pending_items': (number);
  /**
   * EmbedBatch items read ahead per stream (`STREAM_WINDOW`).
   */
  'stream_window': (number);
  /**
   * Largest gRPC message, in bytes (`GRPC_MAX_MESSAGE_MB`).
   */
  'grpc_max_message_bytes': (number);
  /**
   * Images in flight at once, server-wide, before new ones are refused
   * (`IMAGE_MAX_PENDING`).
   */
  'image_max_pending': (number);
  /**
   * Compressed image bytes in flight at once (`IMAGE_MAX_PENDING_MB`).
   */
  'image_max_pending_bytes': (number);
  /**
   * Memory all images being decoded at once may take, in bytes
   * (`IMAGE_DECODE_MB`).
   */
  'image_decode_bytes': (number);
  /**
   * Image URL downloads at once, server-wide (`FETCH_CONNECTIONS`).
   */
  'fetch_connections': (number);
  /**
   * Image URL downloads at once for one request
   * (`FETCH_CONNECTIONS_PER_REQUEST`).
   */
  'fetch_connections_per_request': (number);
}
