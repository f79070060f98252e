// Original file: ../../proto/nomic/serve/v1/embedding_service.proto


/**
 * HealthRequest asks for the server's health; it has no fields.
 */
export interface HealthRequest {
}

/**
 * HealthRequest asks for the server's health; it has no fields.
 */
export interface HealthRequest__Output {
}
