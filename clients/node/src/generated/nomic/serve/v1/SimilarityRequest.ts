// Original file: ../../proto/nomic/serve/v1/embedding_service.proto

import type { SimilarityInput as _nomic_serve_v1_SimilarityInput, SimilarityInput__Output as _nomic_serve_v1_SimilarityInput__Output } from '../../../nomic/serve/v1/SimilarityInput';

/**
 * SimilarityRequest asks how close each candidate is to the query.
 */
export interface SimilarityRequest {
  /**
   * The query: a text or an image. Required.
   */
  'query'?: (_nomic_serve_v1_SimilarityInput | null);
  /**
   * The candidates, at least one: at most `MAX_LIST_INPUTS`, of which at most
   * `IMAGE_MAX_PER_REQUEST` images (the query included).
   */
  'candidates'?: (_nomic_serve_v1_SimilarityInput)[];
  /**
   * Matryoshka dimension of the compared vectors, range [1, native] (of the
   * smaller model when texts and images are mixed); 0 or unset means native.
   */
  'dim'?: (number);
  /**
   * Whether over-long texts are truncated (the default) or refused.
   */
  'truncate'?: (boolean);
  '_truncate'?: "truncate";
}

/**
 * SimilarityRequest asks how close each candidate is to the query.
 */
export interface SimilarityRequest__Output {
  /**
   * The query: a text or an image. Required.
   */
  'query': (_nomic_serve_v1_SimilarityInput__Output | null);
  /**
   * The candidates, at least one: at most `MAX_LIST_INPUTS`, of which at most
   * `IMAGE_MAX_PER_REQUEST` images (the query included).
   */
  'candidates': (_nomic_serve_v1_SimilarityInput__Output)[];
  /**
   * Matryoshka dimension of the compared vectors, range [1, native] (of the
   * smaller model when texts and images are mixed); 0 or unset means native.
   */
  'dim': (number);
  /**
   * Whether over-long texts are truncated (the default) or refused.
   */
  'truncate'?: (boolean);
  '_truncate'?: "truncate";
}
