// The one error type of the client: a failed call, with the gRPC status it ended with.
import * as grpc from '@grpc/grpc-js';

/** The name of a gRPC status code, e.g. 3 -> `INVALID_ARGUMENT`. */
export function codeName(code: number): string {
  return grpc.status[code] ?? `CODE_${code}`;
}

/** A call that ended with a status other than OK. `code` is the gRPC status number (e.g. 3),
 * `codeName` its name (`INVALID_ARGUMENT`), `details` the server's message. */
export class NomicServeError extends Error {
  readonly code: number;
  readonly codeName: string;
  readonly details: string;
  readonly metadata: grpc.Metadata | undefined;

  constructor(code: number, details: string, metadata?: grpc.Metadata) {
    super(`${codeName(code)}: ${details}`);
    this.name = 'NomicServeError';
    this.code = code;
    this.codeName = codeName(code);
    this.details = details;
    this.metadata = metadata;
  }

  /** The client's error for what grpc-js raised; anything else is returned unchanged. */
  static from(error: unknown): unknown {
    if (error instanceof NomicServeError) return error;
    if (isServiceError(error)) {
      return new NomicServeError(error.code, error.details, error.metadata);
    }
    return error;
  }
}

function isServiceError(error: unknown): error is grpc.ServiceError {
  return (
    error instanceof Error &&
    typeof (error as Partial<grpc.ServiceError>).code === 'number' &&
    typeof (error as Partial<grpc.ServiceError>).details === 'string'
  );
}
