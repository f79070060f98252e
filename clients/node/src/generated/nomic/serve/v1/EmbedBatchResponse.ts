// Original file: ../../proto/nomic/serve/v1/embedding_service.proto

import type { Status as _google_rpc_Status, Status__Output as _google_rpc_Status__Output } from '../../../google/rpc/Status';
import type { PackedEmbedding as _nomic_serve_v1_PackedEmbedding, PackedEmbedding__Output as _nomic_serve_v1_PackedEmbedding__Output } from '../../../nomic/serve/v1/PackedEmbedding';
import type { Chunks as _nomic_serve_v1_Chunks, Chunks__Output as _nomic_serve_v1_Chunks__Output } from '../../../nomic/serve/v1/Chunks';
import type { Long } from '@grpc/proto-loader';

/**
 * EmbedBatchResponse answers one EmbedBatchRequest, in request order.
 */
export interface EmbedBatchResponse {
  /**
   * Position of the answered request in the stream, counting from 0.
   */
  'index'?: (number | string | Long);
  /**
   * The L2-normalized embedding; empty when `error` is set.
   */
  'embedding'?: (number | string)[];
  /**
   * Number of tokens the model saw for this item.
   */
  'tokens'?: (number);
  /**
   * True when the input was cut at the model's maximum token count.
   */
  'truncated'?: (boolean);
  /**
   * Set when this item failed; the code is what the unary Embed would return.
   */
  'error'?: (_google_rpc_Status | null);
  /**
   * The embedding in the requested compact encoding; unset for `float`.
   */
  'packed'?: (_nomic_serve_v1_PackedEmbedding | null);
  /**
   * The chunks of a `chunk` or `late_chunk` item (see EmbedResponse.chunks).
   */
  'chunks'?: (_nomic_serve_v1_Chunks | null);
}

/**
 * EmbedBatchResponse answers one EmbedBatchRequest, in request order.
 */
export interface EmbedBatchResponse__Output {
  /**
   * Position of the answered request in the stream, counting from 0.
   */
  'index': (number);
  /**
   * The L2-normalized embedding; empty when `error` is set.
   */
  'embedding': (number)[];
  /**
   * Number of tokens the model saw for this item.
   */
  'tokens': (number);
  /**
   * True when the input was cut at the model's maximum token count.
   */
  'truncated': (boolean);
  /**
   * Set when this item failed; the code is what the unary Embed would return.
   */
  'error': (_google_rpc_Status__Output | null);
  /**
   * The embedding in the requested compact encoding; unset for `float`.
   */
  'packed': (_nomic_serve_v1_PackedEmbedding__Output | null);
  /**
   * The chunks of a `chunk` or `late_chunk` item (see EmbedResponse.chunks).
   */
  'chunks': (_nomic_serve_v1_Chunks__Output | null);
}
