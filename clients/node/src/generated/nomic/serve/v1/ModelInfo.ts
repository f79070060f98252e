// Original file: ../../proto/nomic/serve/v1/embedding_service.proto

import type { Scheduler as _nomic_serve_v1_Scheduler, Scheduler__Output as _nomic_serve_v1_Scheduler__Output } from '../../../nomic/serve/v1/Scheduler';

/**
 * ModelInfo describes one loaded model and how it is run.
 */
export interface ModelInfo {
  /**
   * Model name, e.g. `nomic-embed-text-v1.5`.
   */
  'name'?: (string);
  /**
   * The ONNX file as configured (`TXT_MODEL`, `IMG_MODEL`), or the package of
   * the embedded model; the resolved path only with `INFO_SHOW_PATHS`.
   */
  'path'?: (string);
  /**
   * Native embedding dimension, the largest allowed `dim`.
   */
  'dimension'?: (number);
  /**
   * Maximum input length in tokens (texts) before truncation.
   */
  'max_tokens'?: (number);
  /**
   * Pooling: `mean` or `cls`.
   */
  'pooling'?: (string);
  /**
   * Whether the Matryoshka layer norm is applied before truncation.
   */
  'matryoshka_layer_norm'?: (boolean);
  /**
   * Task prefixes the model understands; empty when it uses none.
   */
  'prefixes'?: (string)[];
  /**
   * Execution providers actually in use, in priority order.
   */
  'providers'?: (string)[];
  /**
   * `batched` when inputs may share one inference, `isolated` when each input
   * runs alone because batching would change results.
   */
  'batching'?: (string);
  /**
   * Why `batching` was chosen, read from the model graph.
   */
  'batching_reason'?: (string);
  /**
   * Where the model came from: `file` or `embedded` (the default model that
   * installs from PyPI).
   */
  'source'?: (string);
  /**
   * How the model's scheduler cuts batches; absent for the vision model.
   */
  'scheduler'?: (_nomic_serve_v1_Scheduler | null);
  /**
   * Longest text accepted, in characters (`MAX_INPUT_CHARS`): longer ones are
   * cut there when truncation is allowed, refused otherwise. Text models only.
   */
  'max_input_chars'?: (number);
}

/**
 * ModelInfo describes one loaded model and how it is run.
 */
export interface ModelInfo__Output {
  /**
   * Model name, e.g. `nomic-embed-text-v1.5`.
   */
  'name': (string);
  /**
   * The ONNX file as configured (`TXT_MODEL`, `IMG_MODEL`), or the package of
   * the embedded model; the resolved path only with `INFO_SHOW_PATHS`.
   */
  'path': (string);
  /**
   * Native embedding dimension, the largest allowed `dim`.
   */
  'dimension': (number);
  /**
   * Maximum input length in tokens (texts) before truncation.
   */
  'max_tokens': (number);
  /**
   * Pooling: `mean` or `cls`.
   */
  'pooling': (string);
  /**
   * Whether the Matryoshka layer norm is applied before truncation.
   */
  'matryoshka_layer_norm': (boolean);
  /**
   * Task prefixes the model understands; empty when it uses none.
   */
  'prefixes': (string)[];
  /**
   * Execution providers actually in use, in priority order.
   */
  'providers': (string)[];
  /**
   * `batched` when inputs may share one inference, `isolated` when each input
   * runs alone because batching would change results.
   */
  'batching': (string);
  /**
   * Why `batching` was chosen, read from the model graph.
   */
  'batching_reason': (string);
  /**
   * Where the model came from: `file` or `embedded` (the default model that
   * installs from PyPI).
   */
  'source': (string);
  /**
   * How the model's scheduler cuts batches; absent for the vision model.
   */
  'scheduler': (_nomic_serve_v1_Scheduler__Output | null);
  /**
   * Longest text accepted, in characters (`MAX_INPUT_CHARS`): longer ones are
   * cut there when truncation is allowed, refused otherwise. Text models only.
   */
  'max_input_chars': (number);
}
