// Original file: ../../proto/nomic/serve/v1/embedding_service.proto

import type { ListValue as _google_protobuf_ListValue, ListValue__Output as _google_protobuf_ListValue__Output } from '../../../google/protobuf/ListValue';
import type { ItemError as _nomic_serve_v1_ItemError, ItemError__Output as _nomic_serve_v1_ItemError__Output } from '../../../nomic/serve/v1/ItemError';
import type { PackedEmbeddings as _nomic_serve_v1_PackedEmbeddings, PackedEmbeddings__Output as _nomic_serve_v1_PackedEmbeddings__Output } from '../../../nomic/serve/v1/PackedEmbeddings';

/**
 * ImageEmbedListResponse carries one embedding per image, in input order. One
 * bad image fails only its own item: its embedding is empty and `errors` says
 * why. When every item fails, the whole call fails with the first error.
 */
export interface ImageEmbedListResponse {
  /**
   * One L2-normalized embedding per image, as lists of numbers; empty for an
   * item listed in `errors`.
   */
  'embeddings'?: (_google_protobuf_ListValue)[];
  /**
   * Server-side processing time in milliseconds for the whole list.
   */
  'time_ms'?: (number | string);
  /**
   * Name of the model that produced the embeddings.
   */
  'model'?: (string);
  /**
   * The items that failed, in input order.
   */
  'errors'?: (_nomic_serve_v1_ItemError)[];
  /**
   * The embeddings in the requested compact encoding, in input order (empty
   * bytes for a failed item); unset for `float`.
   */
  'packed'?: (_nomic_serve_v1_PackedEmbeddings | null);
}

/**
 * ImageEmbedListResponse carries one embedding per image, in input order. One
 * bad image fails only its own item: its embedding is empty and `errors` says
 * why. When every item fails, the whole call fails with the first error.
 */
export interface ImageEmbedListResponse__Output {
  /**
   * One L2-normalized embedding per image, as lists of numbers; empty for an
   * item listed in `errors`.
   */
  'embeddings': (_google_protobuf_ListValue__Output)[];
  /**
   * Server-side processing time in milliseconds for the whole list.
   */
  'time_ms': (number);
  /**
   * Name of the model that produced the embeddings.
   */
  'model': (string);
  /**
   * The items that failed, in input order.
   */
  'errors': (_nomic_serve_v1_ItemError__Output)[];
  /**
   * The embeddings in the requested compact encoding, in input order (empty
   * bytes for a failed item); unset for `float`.
   */
  'packed': (_nomic_serve_v1_PackedEmbeddings__Output | null);
}
