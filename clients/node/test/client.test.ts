// The client against a real server: NOMIC_SERVE_TARGET (host:port, plaintext), and for the
// API key test NOMIC_SERVE_KEYED_TARGET with NOMIC_SERVE_API_KEY (a server with API_KEYS).
// tests/e2e/test_node_client.py starts both and runs this file with `node --test`.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { Client, NomicServeError, type BatchItem, type BatchResult } from '../src';

const TARGET = process.env.NOMIC_SERVE_TARGET;
const KEYED_TARGET = process.env.NOMIC_SERVE_KEYED_TARGET;
const API_KEY = process.env.NOMIC_SERVE_API_KEY;
const PACKAGE = JSON.parse(
  fs.readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8'),
) as { version: string };

function norm(vector: Float32Array): number {
  return Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
}

function assertClose(actual: Float32Array, expected: Float32Array, tolerance = 1e-6): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tolerance,
      `component ${i}: ${actual[i]} vs ${expected[i]}`,
    );
  }
}

async function rejection(promise: Promise<unknown>): Promise<NomicServeError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof NomicServeError, `not a NomicServeError: ${String(error)}`);
    return error;
  }
  assert.fail('the call succeeded');
}

async function collect(results: AsyncIterable<BatchResult>): Promise<BatchResult[]> {
  const all = [];
  for await (const result of results) all.push(result);
  return all;
}

describe('Client', () => {
  let client: Client;
  let native: number;

  before(async () => {
    assert.ok(TARGET, 'set NOMIC_SERVE_TARGET to the host:port of a running nomic-serve');
    client = new Client(TARGET);
    const info = await client.info();
    assert.ok(info.text, 'the server has no text model');
    native = info.text.dimension;
  });

  after(() => client?.close());

  test('health', async () => {
    const health = await client.health();
    assert.equal(health.status, 'OK');
    assert.equal(health.text_model, true);
    assert.ok(health.text_model_name.length > 0);
  });

  test('info: the proto field names, and the version of this package', async () => {
    const info = await client.info();
    assert.equal(info.version, PACKAGE.version);
    assert.ok(info.text && info.text.dimension > 0 && info.text.max_tokens > 0);
    assert.ok(info.limits && info.limits.max_list_inputs > 0);
  });

  test('embed: a unit vector of the native dimension', async () => {
    const vector = await client.embed('Hello world');
    assert.ok(vector instanceof Float32Array);
    assert.equal(vector.length, native);
    assert.ok(Math.abs(norm(vector) - 1) < 1e-5, `norm ${norm(vector)}`);
  });

  test('embed: dim truncates, re-normalized (the normalized prefix of the full vector)', async () => {
    const full = await client.embed('Hello world');
    const short = await client.embed('Hello world', { dim: 8 });
    assert.equal(short.length, 8);
    assert.ok(Math.abs(norm(short) - 1) < 1e-5);
    const prefix = full.slice(0, 8);
    const scale = norm(prefix);
    assertClose(short, prefix.map((value) => value / scale), 1e-5);
  });

  test('embed: the task is the prefix the model sees', async () => {
    const query = await client.embed('Hello world', { task: 'search_query' });
    const document = await client.embed('Hello world', { task: 'search_document' });
    const plain = await client.embed('Hello world');
    assertClose(plain, query); // the server's default prefix is search_query
    assert.notDeepEqual(Array.from(query), Array.from(document));
  });

  test('embedList: one vector per text, in order, equal to embed', async () => {
    const texts = ['Hello world', 'Goodbye world', 'a third text'];
    const vectors = await client.embedList(texts, { dim: 16 });
    assert.equal(vectors.length, texts.length);
    for (const [i, text] of texts.entries()) {
      assert.ok(vectors[i] instanceof Float32Array);
      assert.equal(vectors[i].length, 16);
      assert.ok(Math.abs(norm(vectors[i]) - 1) < 1e-5);
      assertClose(vectors[i], await client.embed(text, { dim: 16 }));
    }
  });

  test('embedBatch: results in order, a per-item error for an empty text', async () => {
    async function* texts() {
      yield 'Hello world';
      yield '';
      yield { text: 'Goodbye world', dim: 8 } satisfies BatchItem;
    }
    const results = await collect(client.embedBatch(texts(), { task: 'search_document' }));
    assert.deepEqual(
      results.map((result) => result.index),
      [0, 1, 2],
    );
    const [first, empty, last] = results;
    assert.equal(first.error, undefined);
    assertClose(first.embedding!, await client.embed('Hello world', { task: 'search_document' }));
    assert.ok(first.tokens > 0);
    assert.equal(first.truncated, false);
    assert.equal(empty.embedding, undefined);
    assert.equal(empty.error?.code, 3);
    assert.equal(empty.error?.codeName, 'INVALID_ARGUMENT');
    assert.ok(empty.error!.message.length > 0);
    assert.equal(last.embedding?.length, 8);
    assertClose(
      last.embedding!,
      await client.embed('Goodbye world', { task: 'search_document', dim: 8 }),
    );
  });

  test('embedBatch: a plain array, more items than the stream window', async () => {
    const texts = Array.from({ length: 300 }, (_, i) => `text number ${i}`);
    const results = await collect(client.embedBatch(texts, { dim: 4 }));
    assert.equal(results.length, texts.length);
    results.forEach((result, i) => {
      assert.equal(result.index, i);
      assert.equal(result.embedding?.length, 4);
    });
  });

  test('embedBatch: stopping early cancels the stream', async () => {
    let sent = 0;
    function* endless() {
      for (;;) {
        sent++;
        yield 'again';
      }
    }
    for await (const result of client.embedBatch(endless())) {
      assert.equal(result.index, 0);
      break;
    }
    assert.ok(sent >= 1);
    assert.equal((await client.health()).status, 'OK');
  });

  test('embedBatch: the deadline covers the whole stream', async () => {
    async function* stalled() {
      yield 'Hello world';
      await new Promise(() => {}); // never sends another item nor ends
    }
    const results: BatchResult[] = [];
    const error = await rejection(
      (async () => {
        for await (const result of client.embedBatch(stalled(), { timeoutMs: 500 })) {
          results.push(result);
        }
      })(),
    );
    assert.equal(error.codeName, 'DEADLINE_EXCEEDED');
    assert.equal(error.code, 4);
  });

  test('embedBatch: an error of the input iterable is thrown as it is', async () => {
    function* broken() {
      yield 'Hello world';
      throw new TypeError('no more texts');
    }
    await assert.rejects(collect(client.embedBatch(broken())), TypeError);
  });

  test('an invalid argument is a NomicServeError with the code and the message', async () => {
    const empty = await rejection(client.embed(''));
    assert.equal(empty.code, 3);
    assert.equal(empty.codeName, 'INVALID_ARGUMENT');
    assert.ok(empty.details.length > 0);
    assert.equal(empty.message, `INVALID_ARGUMENT: ${empty.details}`);
    const tooWide = await rejection(client.embed('Hello world', { dim: native + 1 }));
    assert.equal(tooWide.codeName, 'INVALID_ARGUMENT');
    assert.match(tooWide.details, new RegExp(String(native)));
    const listed = await rejection(client.embedList(['fine', ' ']));
    assert.equal(listed.codeName, 'INVALID_ARGUMENT');
  });

  test('an unknown task is INVALID_ARGUMENT naming the allowed ones', async () => {
    const error = await rejection(client.embed('x', { task: 'searching' as never }));
    assert.equal(error.codeName, 'INVALID_ARGUMENT');
    assert.match(error.details, /search_document/);
  });

  test('an unreachable server is UNAVAILABLE within the deadline', async () => {
    const nowhere = new Client('127.0.0.1:1', { timeoutMs: 2000 });
    try {
      const error = await rejection(nowhere.health());
      assert.ok(['UNAVAILABLE', 'DEADLINE_EXCEEDED'].includes(error.codeName), error.codeName);
    } finally {
      nowhere.close();
    }
  });
});

describe('API key', () => {
  test('sent as authorization: Bearer', async () => {
    assert.ok(KEYED_TARGET && API_KEY, 'set NOMIC_SERVE_KEYED_TARGET and NOMIC_SERVE_API_KEY');
    const keyed = new Client(KEYED_TARGET, { apiKey: API_KEY });
    const wrong = new Client(KEYED_TARGET, { apiKey: 'sk-wrong' });
    const none = new Client(KEYED_TARGET);
    try {
      assert.equal((await keyed.embed('Hello world')).length > 0, true);
      assert.equal((await rejection(wrong.embed('Hello world'))).codeName, 'UNAUTHENTICATED');
      assert.equal((await rejection(none.embed('Hello world'))).codeName, 'UNAUTHENTICATED');
    } finally {
      for (const client of [keyed, wrong, none]) client.close();
    }
  });
});
