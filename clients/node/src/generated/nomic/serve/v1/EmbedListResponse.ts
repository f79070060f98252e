// Original file: ../../proto/nomic/serve/v1/embedding_service.proto

import type { ListValue as _google_protobuf_ListValue, ListValue__Output as _google_protobuf_ListValue__Output } from '../../../google/protobuf/ListValue';
import type { PackedEmbeddings as _nomic_serve_v1_PackedEmbeddings, PackedEmbeddings__Output as _nomic_serve_v1_PackedEmbeddings__Output } from '../../../nomic/serve/v1/PackedEmbeddings';

/**
 * EmbedListResponse carries one embedding per input, in input order.
 */
export interface EmbedListResponse {
  /**
   * One L2-normalized embedding per input. Each is a list of numbers, so that
   * the JSON form is the original's `[[...], [...]]`.
   */
  'embeddings'?: (_google_protobuf_ListValue)[];
  /**
   * Token count of each input, in input order.
   */
  'tokens'?: (number)[];
  /**
   * Server-side processing time in milliseconds for the whole list.
   */
  'time_ms'?: (number | string);
  /**
   * For each input, whether it was cut at the model's maximum token count.
   */
  'truncated'?: (boolean)[];
  /**
   * Name of the model that produced the embeddings.
   */
  'model'?: (string);
  /**
   * The embeddings in the requested compact encoding, in input order; unset
   * for `float`.
   */
  'packed'?: (_nomic_serve_v1_PackedEmbeddings | null);
}

/**
 * EmbedListResponse carries one embedding per input, in input order.
 */
export interface EmbedListResponse__Output {
  /**
   * One L2-normalized embedding per input. Each is a list of numbers, so that
   * the JSON form is the original's `[[...], [...]]`.
   */
  'embeddings': (_google_protobuf_ListValue__Output)[];
  /**
   * Token count of each input, in input order.
   */
  'tokens': (number)[];
  /**
   * Server-side processing time in milliseconds for the whole list.
   */
  'time_ms': (number);
  /**
   * For each input, whether it was cut at the model's maximum token count.
   */
  'truncated': (boolean)[];
  /**
   * Name of the model that produced the embeddings.
   */
  'model': (string);
  /**
   * The embeddings in the requested compact encoding, in input order; unset
   * for `float`.
   */
  'packed': (_nomic_serve_v1_PackedEmbeddings__Output | null);
}
