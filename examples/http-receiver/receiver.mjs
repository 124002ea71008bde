// An example receiver for syncline's `http` destination: it checks each request's signature, then
// applies the commands to records in SQLite (store.mjs) and answers lookups. Copy it and adapt.
import { Buffer } from 'node:buffer';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { createServer } from 'node:http';
import process from 'node:process';
import { URL, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { openStore } from './store.mjs';

/** @typedef {import('./store.mjs').Command} Command */
/** @typedef {import('./store.mjs').Value} Value */

/** Larger bodies are refused (413) before they fill the memory: 10,000 commands fit well within. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

const say = (/** @type {string} */ line) => process.stderr.write(`${line}\n`);

/** An answer to send: a status and a JSON body. */
class Answer extends Error {
  /** @param {number} status @param {unknown} body */
  constructor(status, body) {
    super(`HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}
const refuse = (/** @type {number} */ status, /** @type {string} */ error) => new Answer(status, { error });

/**
 * Checks `Syncline-Signature: t=<unix seconds>,v1=<hex>` against the raw body, before anything reads it.
 * The MAC covers the time, so an old request cannot be replayed with a fresh one.
 * @param {string | string[] | undefined} header @param {Buffer} body @param {string} secret
 * @param {number} toleranceSeconds
 */
export const verifySignature = (header, body, secret, toleranceSeconds, nowSeconds = Date.now() / 1000) => {
  if (typeof header !== 'string') throw refuse(401, 'missing Syncline-Signature header');
  /** @type {string | undefined} */
  let t;
  /** @type {Buffer[]} */
  const macs = [];
  for (const part of header.split(',')) {
    const at = part.indexOf('=');
    const [name, value] = at < 0 ? [part, undefined] : [part.slice(0, at), part.slice(at + 1)];
    if (name === 't' && t === undefined && /^\d{1,15}$/.test(value ?? '')) t = value;
    else if (name === 'v1' && /^[0-9a-f]{64}$/.test(value ?? '')) macs.push(Buffer.from(value ?? '', 'hex'));
    // Other schemes (a future v2 beside v1) are skipped, as long as they are `name=value`.
    else if (name === 't' || name === 'v1' || value === undefined)
      throw refuse(401, 'malformed Syncline-Signature header: expected t=<unix seconds>,v1=<64 hex digits>');
  }
  if (t === undefined || macs.length === 0)
    throw refuse(401, 'malformed Syncline-Signature header: expected t=<unix seconds>,v1=<64 hex digits>');
  const expected = createHmac('sha256', secret).update(`${t}.`).update(body).digest();
  // Several v1 entries while a secret is being rotated: any one that matches will do.
  if (!macs.some((mac) => timingSafeEqual(mac, expected)))
    throw refuse(401, 'signature does not match (wrong secret, or the body was changed)');
  if (Math.abs(nowSeconds - Number(t)) > toleranceSeconds)
    throw refuse(401, `signature timestamp is more than ${toleranceSeconds} s from this receiver's clock`);
};

// Checking the body's shape, each complaint naming the place: commands[3].operation must be ...
const bad = (/** @type {string} */ message) => refuse(400, message);
const isObject = (/** @type {unknown} */ u) => typeof u === 'object' && u !== null && !Array.isArray(u);
/** @param {unknown} u @param {string} at @returns {Record<string, unknown>} */
const object = (u, at) => {
  if (!isObject(u)) throw bad(`${at} must be an object`);
  return /** @type {Record<string, unknown>} */ (u);
};
/** @param {unknown} u @param {string} at */
const string = (u, at, nonEmpty = false) => {
  if (typeof u !== 'string' || (nonEmpty && u === ''))
    throw bad(`${at} must be a ${nonEmpty ? 'non-empty ' : ''}string`);
  return u;
};
/** @param {unknown} u @param {string} at @returns {unknown[]} */
const array = (u, at) => {
  if (!Array.isArray(u)) throw bad(`${at} must be an array`);
  return u;
};
const strings = (/** @type {unknown} */ u, /** @type {string} */ at) =>
  array(u, at).map((s, i) => string(s, `${at}[${i}]`));
const isScalar = (/** @type {unknown} */ u) =>
  u === null || ['string', 'boolean'].includes(typeof u) || (typeof u === 'number' && Number.isFinite(u));
/** What syncline can read back in a lookup: a scalar, or an array of scalars. */
const value = (/** @type {unknown} */ u, /** @type {string} */ at) => {
  if (!isScalar(u) && !(Array.isArray(u) && u.every(isScalar)))
    throw bad(`${at} must be a string, number, boolean, null, or an array of those`);
  return /** @type {Value} */ (u);
};
const OPERATIONS = ['create', 'update', 'delete'];

/** @param {unknown} u @param {string} at @returns {Command} */
const command = (u, at) => {
  const c = object(u, at);
  const commandId = string(c.commandId, `${at}.commandId`, true);
  if (!OPERATIONS.includes(/** @type {string} */ (c.operation)))
    throw bad(`${at}.operation must be create, update or delete`);
  const operation = /** @type {Command['operation']} */ (c.operation);
  const key = string(c.key, `${at}.key`, true);
  const fields = object(c.fields, `${at}.fields`);
  const set = object(fields.set, `${at}.fields.set`);
  for (const [name, v] of Object.entries(set)) value(v, `${at}.fields.set[${JSON.stringify(name)}]`);
  const unset = strings(fields.unset, `${at}.fields.unset`);
  const groups = object(c.groups, `${at}.groups`);
  const add = strings(groups.add, `${at}.groups.add`);
  const remove = strings(groups.remove, `${at}.groups.remove`);
  return {
    commandId,
    operation,
    key,
    fields: { set: /** @type {Record<string, Value>} */ (set), unset },
    groups: { add, remove },
  };
};

/** @param {Buffer} raw */
const json = (raw) => {
  try {
    return /** @type {unknown} */ (JSON.parse(raw.toString('utf8')));
  } catch (e) {
    throw bad(`body is not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
};

/** @param {import('node:http').IncomingMessage} req @returns {Promise<Buffer>} */
const readBody = async (req) => {
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) throw refuse(413, 'body too large');
  /** @type {Buffer[]} */
  const chunks = [];
  let size = 0;
  for await (const chunk of /** @type {AsyncIterable<Buffer>} */ (req)) {
    size += chunk.length;
    // Leaving the loop stops reading; the 413 still reaches the sender.
    if (size > MAX_BODY_BYTES) throw refuse(413, `body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
};

/**
 * Starts a receiver. Without `secret` it accepts unsigned requests: only for trying it out.
 * @param {{ port?: number, host?: string, database: string, secret?: string, toleranceSeconds?: number }} options
 * @returns {Promise<{ url: string, close: () => Promise<void>, db: import('better-sqlite3').Database }>}
 */
export const startReceiver = async ({
  port = 0,
  host = '127.0.0.1',
  database,
  secret,
  toleranceSeconds = 300,
}) => {
  if (secret === '')
    throw new TypeError('secret must not be empty (leave it out to accept unsigned requests)');
  const store = openStore(database);

  /** @param {import('node:http').IncomingMessage} req @returns {Promise<unknown>} */
  const handle = async (req) => {
    const path = new URL(req.url ?? '/', 'http://receiver').pathname;
    if (path !== '/apply' && path !== '/lookup') throw refuse(404, `no such path: ${path}`);
    if (req.method !== 'POST') throw refuse(405, `${path} takes POST, not ${req.method ?? '?'}`);
    const raw = await readBody(req);
    if (secret !== undefined)
      verifySignature(req.headers['syncline-signature'], raw, secret, toleranceSeconds);
    const body = object(json(raw), 'body');
    if (path === '/lookup') return { records: store.lookup(strings(body.keys, 'keys')) };
    // One receiver serves one destination: the id is checked, but records are not kept apart by it.
    string(body.destinationId, 'destinationId');
    const keyField = string(body.keyField, 'keyField', true);
    const commands = array(body.commands, 'commands').map((c, i) => command(c, `commands[${i}]`));
    return { results: store.apply(keyField, commands) };
  };

  const server = createServer((req, res) => {
    /** @param {number} status @param {unknown} body */
    const send = (status, body) => {
      res.writeHead(status, {
        'content-type': 'application/json',
        ...(status === 405 ? { allow: 'POST' } : {}),
        // Answered for a failure that may pass (see below): syncline retries the whole request later.
        ...(status === 503 ? { 'retry-after': '1' } : {}),
        // The rest of a body refused unread is not worth reading: close the connection after answering.
        ...(status === 413 ? { connection: 'close' } : {}),
      });
      res.end(JSON.stringify(body));
    };
    handle(req).then(
      (body) => send(200, body),
      (e) => {
        if (e instanceof Answer) return send(e.status, e.body);
        // SQLite busy or failing (the transaction rolled back, nothing was applied): the sender retries.
        say(e instanceof Error && e.stack !== undefined ? e.stack : String(e));
        send(503, { error: `could not answer: ${e instanceof Error ? e.message : String(e)}` });
      },
    );
  });

  try {
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve(undefined));
    });
  } catch (e) {
    store.db.close();
    throw e;
  }
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    db: store.db,
    close: async () => {
      // Requests under way are answered; idle keep-alive connections would otherwise hold close() open.
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeIdleConnections();
      await closed;
      store.db.close();
    },
  };
};

/** `node receiver.mjs --port 8787 --database receiver.db`, the secret from RECEIVER_SECRET. */
const main = async () => {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8787' },
      host: { type: 'string', default: '127.0.0.1' },
      database: { type: 'string', default: 'receiver.db' },
      insecure: { type: 'boolean', default: false },
    },
  });
  const port = Number(values.port);
  if (!/^\d{1,5}$/.test(values.port) || port > 65535) throw new Error(`--port ${values.port} is not a port`);
  const secret = process.env.RECEIVER_SECRET || undefined;
  if (secret === undefined && !values.insecure)
    throw new Error(
      'RECEIVER_SECRET is not set: set it to the destination secret, or pass --insecure to accept unsigned requests',
    );
  if (secret === undefined)
    say('warning: --insecure: accepting unsigned requests from anyone who can connect');
  const receiver = await startReceiver({ port, host: values.host, database: values.database, secret });
  process.stdout.write(`receiver listening on ${receiver.url}\n`);
  // Once the server and the database are closed nothing is left to run, and the process ends by itself.
  const stop = () => {
    receiver.close().catch((/** @type {unknown} */ e) => {
      say(`receiver: ${e instanceof Error ? e.message : String(e)}`);
      process.exitCode = 1;
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
};

/** Whether this file is the program node was asked to run (and not a module someone imported). */
const runAsProgram = () => {
  try {
    return (
      process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href
    );
  } catch {
    return false; // argv[1] is not a file: some other program imported this one
  }
};

// Run as a program: start, or say why not and exit non-zero.
if (runAsProgram()) {
  main().catch((/** @type {unknown} */ e) => {
    say(`receiver: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  });
}
