// Names that come from users (properties, destination fields, record keys) are data, whatever they
// spell: `__proto__` is a field like any other, written, read back, and claimed like any other key.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sqliteDestinationType } from '../adapters/destinations/sqlite/destination.js';
import { MESSAGES } from '../domain/decision.js';
import { foldWorld, initialWorld } from '../projections/world.js';
import { givenEngine } from './support/engine.js';
import { changed, created, destination, given, record } from './support/given.js';

/** JSON as a file holds it: `__proto__` there is an own key, as JSON.parse makes it. */
const parsed = <A>(json: string): A => JSON.parse(json) as A;

const protoMapped = destination({
  mode: 'sync',
  mapping: parsed<Record<string, string>>('{"email": "email", "__proto__": "tier"}'),
});

describe('a destination field called __proto__', () => {
  it('given a profile with the mapped property, when decided, then the create sets the field', () => {
    const d = given(protoMapped)
      .events(created('p1', parsed('{"email": "a@x.io", "tier": "gold"}')))
      .decisions();
    expect(d).toHaveLength(1);
    expect(Object.hasOwn(d[0]?.fields.set ?? {}, '__proto__')).toBe(true);
    expect(JSON.stringify(d[0]?.fields.set)).toBe('{"__proto__":"gold","email":"a@x.io"}');
  });

  it('given a record holding another value in the field, when decided, then the update sets it', () => {
    const d = given(protoMapped)
      .events(created('p1', parsed('{"email": "a@x.io", "tier": "gold"}')))
      .observed(record('a@x.io', parsed('{"email": "a@x.io", "__proto__": "silver"}')))
      .decisions();
    expect(JSON.stringify(d[0]?.fields.set)).toBe('{"__proto__":"gold"}');
  });

  it('given the engine and a memory destination, when synced twice, then the record holds the field and the second sync does nothing', async () => {
    const w = await givenEngine(protoMapped);
    await w.happen(created('p1', parsed('{"email": "a@x.io", "tier": "gold"}')));
    await w.synced();
    expect(JSON.stringify(w.records()[0]?.fields)).toBe('{"__proto__":"gold","email":"a@x.io"}');
    const again = await w.synced({ full: true });
    expect(again.totals).toMatchObject({ created: 0, updated: 0, unchanged: 1 });
  });

  it('given a SQLite destination, when a create sets the field, then lookup reads it back as written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'syncline-names-'));
    try {
      const opened = await sqliteDestinationType.open(
        { ...protoMapped, type: 'sqlite', options: { path: join(dir, 'crm.db'), table: 'contacts' } },
        {},
      )();
      if (opened._tag === 'Left') throw new Error(opened.left.message);
      const d = opened.right;
      const set = parsed<Record<string, string>>('{"email": "a@x.io", "__proto__": "gold"}');
      const applied = await d.apply([
        {
          commandId: 'c1',
          profileId: 'p1',
          operation: 'create',
          key: 'a@x.io',
          fields: { set, unset: [] },
          groups: { add: [], remove: [] },
        },
      ])();
      expect(applied).toStrictEqual({ _tag: 'Right', right: [{ commandId: 'c1', status: 'ok' }] });
      const found = await d.lookup(['a@x.io'])();
      if (found._tag === 'Left') throw new Error(found.left.message);
      expect(Object.hasOwn(found.right[0]?.fields ?? {}, '__proto__')).toBe(true);
      expect(found.right[0]?.fields['__proto__']).toBe('gold');
      await d.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a property called __proto__', () => {
  it('given a ProfilePropertiesChanged setting it, when folded, then the profile holds it as a property', () => {
    const w = initialWorld();
    foldWorld(w, created('p1', { email: 'a@x.io' }));
    foldWorld(w, changed('p1', parsed('{"__proto__": "gold"}')));
    expect(JSON.stringify(w.profiles.get('p1')?.properties)).toBe('{"email":"a@x.io","__proto__":"gold"}');
  });
});

describe('a record key spelt __proto__', () => {
  it('given two in-scope profiles whose key is "__proto__", when decided, then the second is skipped as a rival claimant', () => {
    const d = given(destination({ mode: 'sync' }))
      .events(created('p1', { email: '__proto__' }), created('p2', { email: '__proto__' }))
      .decisions();
    expect(d.map((x) => [x.profileId, x.operation, x.message])).toStrictEqual([
      ['p1', 'create', undefined],
      ['p2', 'skip', MESSAGES.claimed('__proto__', 'p1')],
    ]);
  });
});
