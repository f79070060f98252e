'use strict';
// `npm run generate [-- OUT_DIR]`: the TypeScript types of the contract, made by
// @grpc/proto-loader's proto-loader-gen-types into src/generated/ (or OUT_DIR, which the
// staleness test uses), which is emptied first so a removed message leaves no file behind.
// The options must match LOADER_OPTIONS in src/proto.ts, which loads the same files at run
// time.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { PACKAGE_DIR, INCLUDE_DIRS, ENTRY } = require('./protos');

const outDir = path.resolve(process.argv[2] || path.join(PACKAGE_DIR, 'src', 'generated'));
const generator = require.resolve('@grpc/proto-loader/build/bin/proto-loader-gen-types.js');
fs.rmSync(outDir, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [
    generator,
    '--keepCase',
    '--longs=Number',
    '--enums=String',
    '--defaults',
    '--oneofs',
    '--includeComments',
    '--grpcLib=@grpc/grpc-js',
    ...INCLUDE_DIRS.flatMap((dir) => ['-I', dir]),
    '--outDir',
    outDir,
    ENTRY,
  ],
  { cwd: PACKAGE_DIR, stdio: 'inherit' },
);
