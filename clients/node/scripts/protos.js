'use strict';
// Where the contract's .proto files are, for the generator and the build: the repository's
// proto/ tree, two folders up, and its vendored Google protos. Shared by generate.js and
// copy-protos.js.
const fs = require('node:fs');
const path = require('node:path');

const PACKAGE_DIR = path.resolve(__dirname, '..');
// The include dirs, as paths relative to this package (they appear in generated comments,
// which must not depend on where the checkout is).
const INCLUDE_DIRS = ['../../proto', '../../proto/third_party/googleapis'];
const ENTRY = 'nomic/serve/v1/embedding_service.proto';

/** The entry file and every file it imports, transitively, that the include dirs hold:
 * [{name, file}] with `name` relative to its include dir. google/protobuf/* are not among
 * them: protobufjs ships the well-known types. */
function protoClosure() {
  const found = new Map();
  const pending = [ENTRY];
  while (pending.length) {
    const name = pending.pop();
    if (found.has(name)) continue;
    const file = INCLUDE_DIRS.map((dir) => path.resolve(PACKAGE_DIR, dir, name)).find((candidate) =>
      fs.existsSync(candidate),
    );
    if (!file) {
      if (name.startsWith('google/protobuf/')) continue;
      throw new Error(`${name} is in none of ${INCLUDE_DIRS.join(', ')}`);
    }
    found.set(name, file);
    for (const match of fs.readFileSync(file, 'utf8').matchAll(/^import\s+(?:public\s+)?"([^"]+)";/gm)) {
      pending.push(match[1]);
    }
  }
  return [...found].sort().map(([name, file]) => ({ name, file }));
}

module.exports = { PACKAGE_DIR, INCLUDE_DIRS, ENTRY, protoClosure };
