// @nomic-serve/client: a typed Node.js client for nomic-serve's gRPC contract.
export {
  Client,
  DEFAULT_MAX_RECEIVE_BYTES,
  DEFAULT_TIMEOUT_MS,
  type BatchItem,
  type BatchResult,
  type ClientOptions,
  type EmbedOptions,
  type Health,
  type Info,
  type ItemError,
  type Task,
  type TlsOptions,
} from './client';
export { NomicServeError, codeName } from './errors';
