// Original file: ../../proto/nomic/serve/v1/embedding_service.proto

import type { Chunk as _nomic_serve_v1_Chunk, Chunk__Output as _nomic_serve_v1_Chunk__Output } from '../../../nomic/serve/v1/Chunk';

/**
 * Chunks are the pieces of one long text, in text order.
 */
export interface Chunks {
  /**
   * `chunk` or `late_chunk`.
   */
  'mode'?: (string);
  /**
   * The chunks. Consecutive ones share about `chunk_overlap` tokens: the shared
   * part starts on a word, so it is a few tokens more (or less, where one word
   * is longer than the overlap).
   */
  'chunks'?: (_nomic_serve_v1_Chunk)[];
}

/**
 * Chunks are the pieces of one long text, in text order.
 */
export interface Chunks__Output {
  /**
   * `chunk` or `late_chunk`.
   */
  'mode': (string);
  /**
   * The chunks. Consecutive ones share about `chunk_overlap` tokens: the shared
   * part starts on a word, so it is a few tokens more (or less, where one word
   * is longer than the overlap).
   */
  'chunks': (_nomic_serve_v1_Chunk__Output)[];
}
