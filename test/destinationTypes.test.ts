// The destination type registry (known types, mode and option checks) and the memory destination's
// test hooks (seeding, inspection, injected failures) that engine and fault tests rely on.
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { describe, expect, it } from 'vitest';
import type { Command } from '../domain/command.js';
import type { DestinationConfig } from '../domain/destination.js';
import {
  createMemoryRecords,
  memoryDestinationTypeOver,
  openMemoryDestination,
} from '../adapters/destinations/memory.js';
import { describeTypes, resolveDestination } from '../adapters/destinations/registry.js';
import type { DestinationType } from '../engine/ports.js';

const config = (over: Partial<DestinationConfig> = {}): DestinationConfig => ({
  destinationId: 'crm',
  type: 'sqlite',
  collection: { kind: 'all' },
  keyField: 'email',
  mapping: { email: 'email' },
  options: { path: 'crm.db', table: 'contacts' },
  ...over,
});

/** The refusal of destination crm, with these problems. */
const invalid = (problems: string[]) => ({ _tag: 'DestinationInvalid', destinationId: 'crm', problems });

describe('resolveDestination', () => {
  it('fills in the type default when syncMode is absent', () => {
    const resolved = resolveDestination(config());
    expect(E.isRight(resolved) && resolved.right.config.syncMode).toBe('sync');
    expect(E.isRight(resolved) && resolved.right.type.description.type).toBe('sqlite');
  });

  it('rejects an unknown type, listing the known ones', () => {
    expect(resolveDestination(config({ type: 'x' }))).toStrictEqual(
      E.left(
        invalid([
          'destination crm: type "x" is not a known destination type (http, memory, mysql, postgres, sqlite)',
        ]),
      ),
    );
  });

  it('rejects a mode the type does not support, naming the supported ones', () => {
    const x: DestinationType = {
      description: {
        type: 'x',
        description: '',
        modes: ['sync', 'additive'],
        defaultMode: 'sync',
        options: [],
      },
      open: () => TE.left({ _tag: 'OpenFailed', message: 'not opened in this test' }),
    };
    expect(
      resolveDestination(config({ type: 'x', syncMode: 'enrich', options: {} }), new Map([['x', x]])),
    ).toStrictEqual(
      E.left(
        invalid([
          'destination crm: syncMode "enrich" is not supported by type x (supported: sync, additive)',
        ]),
      ),
    );
  });

  it('names missing required options and unknown ones, all at once', () => {
    expect(
      resolveDestination(config({ options: { path: { env: 'CRM_DB' }, tabel: 'contacts' } })),
    ).toStrictEqual(
      E.left(
        invalid([
          'destination crm: options.tabel: is not known to type sqlite (its options: path, table, groupsTable)',
          'destination crm: options.table: is required by type sqlite',
        ]),
      ),
    );
  });

  it('describes every type with its modes and default', () => {
    expect(describeTypes().map((d) => [d.type, d.modes, d.defaultMode])).toStrictEqual([
      ['http', ['sync', 'additive', 'enrich'], 'sync'],
      ['memory', ['sync', 'additive', 'enrich'], 'sync'],
      ['mysql', ['sync', 'additive', 'enrich'], 'sync'],
      ['postgres', ['sync', 'additive', 'enrich'], 'sync'],
      ['sqlite', ['sync', 'additive', 'enrich'], 'sync'],
    ]);
  });
});

describe('memory destination hooks', () => {
  const create = (key: string, id = `c-${key}`): Command => ({
    commandId: id,
    profileId: `p-${key}`,
    operation: 'create',
    key,
    fields: { set: { email: key }, unset: [] },
    groups: { add: [], remove: [] },
  });

  it('seeds records and shows them sorted by key', async () => {
    const m = openMemoryDestination(config({ type: 'memory' }), [
      { key: 'b', fields: { email: 'b' }, groups: ['Z', 'A'] },
    ]);
    await m.destination.apply([create('a')])();
    expect(m.records()).toStrictEqual([
      { key: 'a', fields: { email: 'a' }, groups: [] },
      { key: 'b', fields: { email: 'b' }, groups: ['A', 'Z'] },
    ]);
    expect(m.applied().map((c) => c.key)).toStrictEqual(['a']);
  });

  it('fails the next applies for a key with the given fault, then recovers', async () => {
    const m = openMemoryDestination(config({ type: 'memory' }));
    m.failNextApplies('a', 2, { retryable: true, retryAfterMs: 500, message: 'rate limited' });
    const failed = {
      commandId: 'c-a',
      status: 'error',
      retryable: true,
      message: 'rate limited',
      retryAfterMs: 500,
    };
    expect(await m.destination.apply([create('a'), create('b')])()).toStrictEqual(
      E.right([failed, { commandId: 'c-b', status: 'ok' }]),
    );
    expect(await m.destination.apply([create('a')])()).toStrictEqual(E.right([failed]));
    expect(await m.destination.apply([create('a')])()).toStrictEqual(
      E.right([{ commandId: 'c-a', status: 'ok' }]),
    );
  });

  it('fails whole calls, and a task does its work each time it runs', async () => {
    const m = openMemoryDestination(config({ type: 'memory' }));
    const unavailable = { _tag: 'DestinationUnavailable' as const, message: 'down', retryable: true };
    m.failNextCalls('lookup', 1, unavailable);
    const task = m.destination.lookup(['a']);
    expect(await task()).toStrictEqual(E.left(unavailable));
    expect(await task()).toStrictEqual(E.right([]));
  });

  it('shares one store between every open of a type made over it', async () => {
    const store = createMemoryRecords();
    const type = memoryDestinationTypeOver(store);
    const first = await type.open(config({ type: 'memory', options: {} }), {})();
    if (E.isLeft(first)) throw new Error('open failed');
    await first.right.apply([create('a')])();
    const second = await type.open(config({ type: 'memory', options: {} }), {})();
    expect(E.isRight(second) && (await second.right.lookup(['a'])())).toStrictEqual(
      E.right([{ key: 'a', fields: { email: 'a' }, groups: [] }]),
    );
  });
});
