// Original file: ../../proto/nomic/serve/v1/embedding_service.proto

import type { Status as _google_rpc_Status, Status__Output as _google_rpc_Status__Output } from '../../../google/rpc/Status';

/**
 * ItemError is the failure of one item of a list request.
 */
export interface ItemError {
  /**
   * Position of the item in the request, counting from 0.
   */
  'index'?: (number);
  /**
   * What went wrong, with the code the single-item RPC would return.
   */
  'status'?: (_google_rpc_Status | null);
}

/**
 * ItemError is the failure of one item of a list request.
 */
export interface ItemError__Output {
  /**
   * Position of the item in the request, counting from 0.
   */
  'index': (number);
  /**
   * What went wrong, with the code the single-item RPC would return.
   */
  'status': (_google_rpc_Status__Output | null);
}
