// The client: one channel to a nomic-serve server, typed methods over its gRPC contract.
import * as grpc from '@grpc/grpc-js';

import { NomicServeError, codeName } from './errors';
import type { ListValue__Output } from './generated/google/protobuf/ListValue';
import type { EmbedBatchRequest } from './generated/nomic/serve/v1/EmbedBatchRequest';
import type { EmbedBatchResponse__Output } from './generated/nomic/serve/v1/EmbedBatchResponse';
import type { EmbedListResponse__Output } from './generated/nomic/serve/v1/EmbedListResponse';
import type { EmbedResponse__Output } from './generated/nomic/serve/v1/EmbedResponse';
import type { EmbeddingServiceClient } from './generated/nomic/serve/v1/EmbeddingService';
import type { HealthResponse__Output } from './generated/nomic/serve/v1/HealthResponse';
import type { InfoResponse__Output } from './generated/nomic/serve/v1/InfoResponse';
import { contract } from './proto';

/** Deadline of every call unless `timeoutMs` says otherwise. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Largest message the client accepts (grpc-js' own default is 4 MiB, too small for long
 * EmbedList answers, whose numbers take about 11 bytes each on the wire). */
export const DEFAULT_MAX_RECEIVE_BYTES = 64 * 1024 * 1024;

/** The task prefix of nomic-embed-text (the proto's `prefix` field). */
export type Task = 'search_query' | 'search_document' | 'clustering' | 'classification' | 'none';

export type Health = HealthResponse__Output;
export type Info = InfoResponse__Output;

export interface TlsOptions {
  /** PEM CA bundle the server's certificate must chain to (default: the system roots). */
  ca?: Buffer | string;
  /** PEM client certificate and its key, for servers that require mTLS (TLS_CLIENT_CA). */
  cert?: Buffer | string;
  key?: Buffer | string;
}

export interface ClientOptions {
  /** Sent as `authorization: Bearer <key>` on every call. */
  apiKey?: string;
  /** TLS to the server; absent means plaintext. */
  tls?: TlsOptions;
  /** Deadline of each call, in milliseconds (default 30 s). */
  timeoutMs?: number;
  /** Extra grpc-js channel options, e.g. `grpc.max_receive_message_length`. */
  channelOptions?: grpc.ChannelOptions;
}

export interface EmbedOptions {
  /** Task prefix; unset means the server's `DEFAULT_PREFIX` (`search_query`). */
  task?: Task;
  /** Matryoshka dimension, 1..native; unset means native. Vectors have unit length at
   * every dimension. */
  dim?: number;
  /** Whether an over-long input is cut (the server's default) or refused. */
  truncate?: boolean;
  /** Deadline of this call in milliseconds (for embedBatch: of the whole stream). */
  timeoutMs?: number;
}

/** One item of embedBatch: a text with options of its own (they override the call's). */
export interface BatchItem {
  text: string;
  task?: Task;
  dim?: number;
  truncate?: boolean;
}

/** Why one embedBatch item failed: the status the unary Embed would have returned. */
export interface ItemError {
  code: number;
  codeName: string;
  message: string;
}

/** The answer to one embedBatch item, in input order. */
export interface BatchResult {
  /** Position of the item in the input, counting from 0. */
  index: number;
  /** The embedding; absent when `error` is set. */
  embedding?: Float32Array;
  tokens: number;
  truncated: boolean;
  error?: ItemError;
}

interface TextOptions {
  dim: number;
  prefix: string;
  truncate?: boolean;
}

/** Starts one unary call of the stub with these metadata, options and callback. */
type Unary<Response> = (
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: grpc.requestCallback<Response>,
) => grpc.ClientUnaryCall;

export class Client {
  readonly target: string;
  private readonly stub: EmbeddingServiceClient;
  private readonly apiKey: string | undefined;
  private readonly timeoutMs: number;

  constructor(target: string, options: ClientOptions = {}) {
    this.target = target;
    this.apiKey = options.apiKey;
    this.timeoutMs = checkedTimeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const { tls } = options;
    const credentials = tls
      ? grpc.credentials.createSsl(pem(tls.ca), pem(tls.key), pem(tls.cert))
      : grpc.credentials.createInsecure();
    const Service = contract().nomic.serve.v1.EmbeddingService;
    this.stub = new Service(target, credentials, {
      'grpc.max_receive_message_length': DEFAULT_MAX_RECEIVE_BYTES,
      ...options.channelOptions,
    });
  }

  /** The embedding of one text (the `Embed` RPC). */
  async embed(text: string, options: EmbedOptions = {}): Promise<Float32Array> {
    const request = { input: text, ...textOptions(options) };
    const response = await this.unary<EmbedResponse__Output>(
      (...call) => this.stub.Embed(request, ...call),
      options.timeoutMs,
    );
    return Float32Array.from(response.embedding);
  }

  /** The embeddings of several texts in one call (the `EmbedList` RPC), in input order. */
  async embedList(texts: readonly string[], options: EmbedOptions = {}): Promise<Float32Array[]> {
    const request = { inputs: [...texts], ...textOptions(options) };
    const response = await this.unary<EmbedListResponse__Output>(
      (...call) => this.stub.EmbedList(request, ...call),
      options.timeoutMs,
    );
    return response.embeddings.map(listVector);
  }

  /**
   * Streams texts through the bidirectional `EmbedBatch` RPC: one result per item, in input
   * order, as they come. A bad item (an empty text, say) gets its own `error` and the stream
   * goes on; a failure of the whole stream throws NomicServeError. Items are sent as the
   * server takes them (flow control), so a job of any size runs in constant memory; the
   * deadline (`timeoutMs`) covers the whole stream.
   */
  async *embedBatch(
    items: AsyncIterable<string | BatchItem> | Iterable<string | BatchItem>,
    options: EmbedOptions = {},
  ): AsyncGenerator<BatchResult, void, undefined> {
    const call = this.stub.EmbedBatch(this.metadata(), this.callOptions(options.timeoutMs));
    let finished = false;
    call.once('status', () => {
      finished = true;
    });
    let inputFailure: { error: unknown } | undefined;
    const pump = (async () => {
      try {
        for await (const item of items) {
          if (finished) return;
          const message: EmbedBatchRequest =
            typeof item === 'string'
              ? { input: item, ...textOptions(options) }
              : { input: item.text, ...textOptions({ ...options, ...item }) };
          if (!call.write(message)) await writable(call);
        }
        if (!finished) call.end();
      } catch (error) {
        inputFailure = { error };
        call.cancel();
      }
    })();
    try {
      for await (const response of call as AsyncIterable<EmbedBatchResponse__Output>) {
        yield batchResult(response);
      }
    } catch (error) {
      if (inputFailure) throw inputFailure.error;
      throw NomicServeError.from(error);
    } finally {
      // The caller stopped reading early. The pump is not awaited: it may be stuck on an
      // input that never yields again; it stops at its next item once the call has ended.
      if (!finished) call.cancel();
      void pump;
    }
    if (inputFailure) throw inputFailure.error;
  }

  /** The server's health (the `Health` RPC): `status`, `text_model`, `vision_model`, ... */
  async health(options: { timeoutMs?: number } = {}): Promise<Health> {
    return this.unary<Health>((...call) => this.stub.Health({}, ...call), options.timeoutMs);
  }

  /** The running configuration and models (the `Info` RPC), with the proto's field names. */
  async info(options: { timeoutMs?: number } = {}): Promise<Info> {
    return this.unary<Info>((...call) => this.stub.Info({}, ...call), options.timeoutMs);
  }

  /** Closes the channel; calls in flight are cancelled. */
  close(): void {
    this.stub.close();
  }

  private unary<Response>(start: Unary<Response>, timeoutMs: number | undefined): Promise<Response> {
    return new Promise((resolve, reject) => {
      start(this.metadata(), this.callOptions(timeoutMs), (error, response) => {
        if (error) reject(NomicServeError.from(error));
        else if (response === undefined) {
          reject(new NomicServeError(grpc.status.INTERNAL, 'the server sent no response'));
        } else resolve(response);
      });
    });
  }

  private metadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    if (this.apiKey !== undefined) metadata.set('authorization', `Bearer ${this.apiKey}`);
    return metadata;
  }

  private callOptions(timeoutMs: number | undefined): grpc.CallOptions {
    return { deadline: Date.now() + checkedTimeout(timeoutMs ?? this.timeoutMs) };
  }
}

function textOptions(options: EmbedOptions | BatchItem): TextOptions {
  const fields: TextOptions = { dim: options.dim ?? 0, prefix: options.task ?? '' };
  if (options.truncate !== undefined) fields.truncate = options.truncate; // presence matters
  return fields;
}

/** An EmbedList vector: a google.protobuf.ListValue of numbers. */
function listVector(list: ListValue__Output): Float32Array {
  return Float32Array.from(list.values, (value) => {
    if (value.kind !== 'numberValue' || value.numberValue === undefined) {
      throw new NomicServeError(grpc.status.INTERNAL, `expected a number, got ${value.kind}`);
    }
    return value.numberValue;
  });
}

function batchResult(response: EmbedBatchResponse__Output): BatchResult {
  const { index, tokens, truncated, error } = response;
  if (error && error.code !== grpc.status.OK) {
    const itemError = { code: error.code, codeName: codeName(error.code), message: error.message };
    return { index, tokens, truncated, error: itemError };
  }
  return { index, tokens, truncated, embedding: Float32Array.from(response.embedding) };
}

/** Resolves when the stream takes writes again, or has ended. */
function writable(
  call: grpc.ClientDuplexStream<EmbedBatchRequest, EmbedBatchResponse__Output>,
): Promise<void> {
  return new Promise((resolve) => {
    const events = ['drain', 'status', 'error', 'close'];
    const done = () => {
      for (const event of events) call.off(event, done);
      resolve();
    };
    for (const event of events) call.on(event, done);
  });
}

function pem(value: Buffer | string | undefined): Buffer | null {
  if (value === undefined) return null;
  return typeof value === 'string' ? Buffer.from(value) : value;
}

function checkedTimeout(timeoutMs: number): number {
  if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
    throw new RangeError(`timeoutMs must be a positive number of milliseconds, got ${timeoutMs}`);
  }
  return timeoutMs;
}
