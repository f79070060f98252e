// The contract, loaded at run time by @grpc/proto-loader from the .proto files that
// `npm run build` copies into dist/proto/. LOADER_OPTIONS must match the flags of
// scripts/generate.js, which made the types in ./generated from the same files.
import * as path from 'node:path';

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

import type { ProtoGrpcType } from './generated/embedding_service';

export const PROTO_DIR = path.resolve(__dirname, '..', 'proto');
export const SERVICE_PROTO = 'nomic/serve/v1/embedding_service.proto';

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true, // field names as in the proto (and the REST JSON): `time_ms`, `text_model`
  longs: Number, // EmbedBatchResponse.index is int64; a stream never gets near 2^53 items
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
};

let loaded: ProtoGrpcType | undefined;

/** The package definition of the contract, loaded once. */
export function contract(): ProtoGrpcType {
  if (!loaded) {
    const definition = protoLoader.loadSync(SERVICE_PROTO, LOADER_OPTIONS);
    loaded = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
  }
  return loaded;
}
