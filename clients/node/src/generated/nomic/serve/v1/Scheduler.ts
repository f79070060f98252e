// Original file: ../../proto/nomic/serve/v1/embedding_service.proto


/**
 * Scheduler describes how one model's queued texts are cut into batches.
 */
export interface Scheduler {
  /**
   * Batches run at once (`INFERENCE_WORKERS`, by default 1 when batched and one
   * per core when isolated).
   */
  'workers'?: (number);
  /**
   * Texts per batch at most (`MAX_BATCH_SIZE`).
   */
  'max_batch_size'?: (number);
  /**
   * Padded tokens per batch at most, longest text x batch size (`MAX_BATCH_TOKENS`).
   */
  'max_batch_tokens'?: (number);
  /**
   * Pause letting a batch fill before it is cut (`BATCH_WAIT_MS`); 0 cuts at once.
   */
  'batch_wait_ms'?: (number | string);
  /**
   * Texts queued right now.
   */
  'queued'?: (number);
  /**
   * ONNX Runtime threads per inference (`INTRA_OP_THREADS`; 0: every core).
   */
  'intra_op_threads'?: (number);
  /**
   * Whether a text that runs alone uses a second session on every core
   * (`SOLO_SESSION`; isolated models on CPU only).
   */
  'solo_session'?: (boolean);
  /**
   * Padded tokens / real tokens a batch may reach (`MAX_PADDING_RATIO`).
   */
  'max_padding_ratio'?: (number | string);
}

/**
 * Scheduler describes how one model's queued texts are cut into batches.
 */
export interface Scheduler__Output {
  /**
   * Batches run at once (`INFERENCE_WORKERS`, by default 1 when batched and one
   * per core when isolated).
   */
  'workers': (number);
  /**
   * Texts per batch at most (`MAX_BATCH_SIZE`).
   */
  'max_batch_size': (number);
  /**
   * Padded tokens per batch at most, longest text x batch size (`MAX_BATCH_TOKENS`).
   */
  'max_batch_tokens': (number);
  /**
   * Pause letting a batch fill before it is cut (`BATCH_WAIT_MS`); 0 cuts at once.
   */
  'batch_wait_ms': (number);
  /**
   * Texts queued right now.
   */
  'queued': (number);
  /**
   * ONNX Runtime threads per inference (`INTRA_OP_THREADS`; 0: every core).
   */
  'intra_op_threads': (number);
  /**
   * Whether a text that runs alone uses a second session on every core
   * (`SOLO_SESSION`; isolated models on CPU only).
   */
  'solo_session': (boolean);
  /**
   * Padded tokens / real tokens a batch may reach (`MAX_PADDING_RATIO`).
   */
  'max_padding_ratio': (number);
}
