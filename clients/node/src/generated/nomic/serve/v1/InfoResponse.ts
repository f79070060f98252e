// Original file: ../../proto/nomic/serve/v1/embedding_service.proto

import type { ModelInfo as _nomic_serve_v1_ModelInfo, ModelInfo__Output as _nomic_serve_v1_ModelInfo__Output } from '../../../nomic/serve/v1/ModelInfo';
import type { Limits as _nomic_serve_v1_Limits, Limits__Output as _nomic_serve_v1_Limits__Output } from '../../../nomic/serve/v1/Limits';
import type { CacheStats as _nomic_serve_v1_CacheStats, CacheStats__Output as _nomic_serve_v1_CacheStats__Output } from '../../../nomic/serve/v1/CacheStats';
import type { Quantization as _nomic_serve_v1_Quantization, Quantization__Output as _nomic_serve_v1_Quantization__Output } from '../../../nomic/serve/v1/Quantization';

/**
 * InfoResponse describes the configuration and models, in the original's
 * shape plus details of what is actually served.
 */
export interface InfoResponse {
  /**
   * Default colour averaging method for ImageStats.
   */
  'averaging'?: (string);
  /**
   * Whether the CUDA execution provider was requested (`USE_GPU`).
   */
  'load_cuda'?: (boolean);
  /**
   * Path of the text model file actually loaded.
   */
  'txt_model'?: (string);
  /**
   * Path of the tokenizer file actually loaded.
   */
  'tokenizer'?: (string);
  /**
   * Path of the vision model file (configured; see `vision` for its state).
   */
  'img_model'?: (string);
  /**
   * The text model actually served; absent when none is loaded.
   */
  'text'?: (_nomic_serve_v1_ModelInfo | null);
  /**
   * The vision model actually served; absent when none is loaded.
   */
  'vision'?: (_nomic_serve_v1_ModelInfo | null);
  /**
   * Default task prefix applied when a request names none.
   */
  'default_prefix'?: (string);
  /**
   * Server version.
   */
  'version'?: (string);
  /**
   * The limits requests are held to.
   */
  'limits'?: (_nomic_serve_v1_Limits | null);
  /**
   * Whether images are rotated by their EXIF orientation before embedding.
   */
  'exif_orientation'?: (boolean);
  /**
   * The text embedding cache; absent when no text model is loaded.
   */
  'cache'?: (_nomic_serve_v1_CacheStats | null);
  /**
   * The fixed ranges `int8` and `uint8` encodings use; absent when no text
   * model is loaded.
   */
  'quantization'?: (_nomic_serve_v1_Quantization | null);
}

/**
 * InfoResponse describes the configuration and models, in the original's
 * shape plus details of what is actually served.
 */
export interface InfoResponse__Output {
  /**
   * Default colour averaging method for ImageStats.
   */
  'averaging': (string);
  /**
   * Whether the CUDA execution provider was requested (`USE_GPU`).
   */
  'load_cuda': (boolean);
  /**
   * Path of the text model file actually loaded.
   */
  'txt_model': (string);
  /**
   * Path of the tokenizer file actually loaded.
   */
  'tokenizer': (string);
  /**
   * Path of the vision model file (configured; see `vision` for its state).
   */
  'img_model': (string);
  /**
   * The text model actually served; absent when none is loaded.
   */
  'text': (_nomic_serve_v1_ModelInfo__Output | null);
  /**
   * The vision model actually served; absent when none is loaded.
   */
  'vision': (_nomic_serve_v1_ModelInfo__Output | null);
  /**
   * Default task prefix applied when a request names none.
   */
  'default_prefix': (string);
  /**
   * Server version.
   */
  'version': (string);
  /**
   * The limits requests are held to.
   */
  'limits': (_nomic_serve_v1_Limits__Output | null);
  /**
   * Whether images are rotated by their EXIF orientation before embedding.
   */
  'exif_orientation': (boolean);
  /**
   * The text embedding cache; absent when no text model is loaded.
   */
  'cache': (_nomic_serve_v1_CacheStats__Output | null);
  /**
   * The fixed ranges `int8` and `uint8` encodings use; absent when no text
   * model is loaded.
   */
  'quantization': (_nomic_serve_v1_Quantization__Output | null);
}
