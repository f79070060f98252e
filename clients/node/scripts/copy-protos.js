'use strict';
// Part of `npm run build`: copies the contract's .proto files (the entry file and what it
// imports, found in the repository's proto/ tree) into dist/proto/, which the compiled
// client loads at run time, so the built package carries everything it needs.
const fs = require('node:fs');
const path = require('node:path');
const { PACKAGE_DIR, protoClosure } = require('./protos');

const target = path.join(PACKAGE_DIR, 'dist', 'proto');
fs.rmSync(target, { recursive: true, force: true });
for (const { name, file } of protoClosure()) {
  fs.mkdirSync(path.dirname(path.join(target, name)), { recursive: true });
  fs.copyFileSync(file, path.join(target, name));
}
