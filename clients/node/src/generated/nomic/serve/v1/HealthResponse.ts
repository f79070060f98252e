// Original file: ../../proto/nomic/serve/v1/embedding_service.proto


/**
 * HealthResponse reports the server's health in the original's shape.
 */
export interface HealthResponse {
  /**
   * `OK` while serving, `SHUTTING_DOWN` during graceful shutdown.
   */
  'status'?: (string);
  /**
   * Whether a text model is loaded and serving.
   */
  'text_model'?: (boolean);
  /**
   * Whether a vision model is loaded and serving.
   */
  'vision_model'?: (boolean);
  /**
   * Name of the text model actually served, empty when none.
   */
  'text_model_name'?: (string);
  /**
   * ONNX Runtime execution provider actually in use, e.g. `CPUExecutionProvider`.
   */
  'provider'?: (string);
  /**
   * Name of the vision model actually served, empty when none.
   */
  'vision_model_name'?: (string);
}

/**
 * HealthResponse reports the server's health in the original's shape.
 */
export interface HealthResponse__Output {
  /**
   * `OK` while serving, `SHUTTING_DOWN` during graceful shutdown.
   */
  'status': (string);
  /**
   * Whether a text model is loaded and serving.
   */
  'text_model': (boolean);
  /**
   * Whether a vision model is loaded and serving.
   */
  'vision_model': (boolean);
  /**
   * Name of the text model actually served, empty when none.
   */
  'text_model_name': (string);
  /**
   * ONNX Runtime execution provider actually in use, e.g. `CPUExecutionProvider`.
   */
  'provider': (string);
  /**
   * Name of the vision model actually served, empty when none.
   */
  'vision_model_name': (string);
}
