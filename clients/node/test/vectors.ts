// `node dist/test/vectors.js IN.json OUT.json`: the vectors this client gets for the texts
// of IN.json ({"texts": [...], "dim": n}) from NOMIC_SERVE_TARGET, by each of embed,
// embedList and embedBatch, written to OUT.json for tests/e2e/test_node_client.py to
// compare with what Python's EmbedList returns.
import * as fs from 'node:fs';

import { Client } from '../src';

async function main(): Promise<void> {
  const [input, output] = process.argv.slice(2);
  const target = process.env.NOMIC_SERVE_TARGET;
  if (!input || !output || !target) {
    throw new Error('usage: NOMIC_SERVE_TARGET=host:port node vectors.js IN.json OUT.json');
  }
  const { texts, dim } = JSON.parse(fs.readFileSync(input, 'utf8')) as {
    texts: string[];
    dim?: number;
  };
  const client = new Client(target);
  try {
    const embed = [];
    for (const text of texts) embed.push(Array.from(await client.embed(text, { dim })));
    const embedList = (await client.embedList(texts, { dim })).map((vector) => Array.from(vector));
    const embedBatch = [];
    for await (const result of client.embedBatch(texts, { dim })) {
      if (result.error) throw new Error(`item ${result.index}: ${result.error.message}`);
      embedBatch.push(Array.from(result.embedding!));
    }
    fs.writeFileSync(output, JSON.stringify({ embed, embedList, embedBatch }));
  } finally {
    client.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
