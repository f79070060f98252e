// Original file: ../../proto/nomic/serve/v1/embedding_service.proto

import type { PackedEmbedding as _nomic_serve_v1_PackedEmbedding, PackedEmbedding__Output as _nomic_serve_v1_PackedEmbedding__Output } from '../../../nomic/serve/v1/PackedEmbedding';

/**
 * Chunk is one piece of a long text, where it is, and its embedding.
 */
export interface Chunk {
  /**
   * The L2-normalized embedding (encoding `float`).
   */
  'embedding'?: (number | string)[];
  /**
   * The embedding in a compact encoding; unset for `float`.
   */
  'packed'?: (_nomic_serve_v1_PackedEmbedding | null);
  /**
   * First token of the chunk, counted in the text's own tokens (no special
   * tokens, no prefix) from 0.
   */
  'token_start'?: (number);
  /**
   * One past its last token: the chunk is [token_start, token_end).
   */
  'token_end'?: (number);
  /**
   * First character (Unicode code point) of the chunk in the text.
   */
  'char_start'?: (number);
  /**
   * One past its last character: text[char_start:char_end] is what the chunk
   * stands for, to store and cite.
   */
  'char_end'?: (number);
}

/**
 * Chunk is one piece of a long text, where it is, and its embedding.
 */
export interface Chunk__Output {
  /**
   * The L2-normalized embedding (encoding `float`).
   */
  'embedding': (number)[];
  /**
   * The embedding in a compact encoding; unset for `float`.
   */
  'packed': (_nomic_serve_v1_PackedEmbedding__Output | null);
  /**
   * First token of the chunk, counted in the text's own tokens (no special
   * tokens, no prefix) from 0.
   */
  'token_start': (number);
  /**
   * One past its last token: the chunk is [token_start, token_end).
   */
  'token_end': (number);
  /**
   * First character (Unicode code point) of the chunk in the text.
   */
  'char_start': (number);
  /**
   * One past its last character: text[char_start:char_end] is what the chunk
   * stands for, to store and cite.
   */
  'char_end': (number);
}
