// The Destination contract (docs/architecture.md, "Architecture") as a vitest suite: what every adapter
// must do. Exported as `syncline/testing`, so that people who write their own can hold it to the same.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Command, CommandOutcome } from '../../domain/command.js';
import type { ObservedRecord } from '../../domain/decision.js';
import type { DestinationConfig } from '../../domain/destination.js';
import { SYNC_MODES } from '../../domain/modes.js';
import type { Value } from '../../domain/values.js';
import type { Destination } from '../../engine/ports.js';
import { contractConfig, create, expected, holding, remove, update } from './destinationHelpers.js';

export { contractConfig } from './destinationHelpers.js';

export type DestinationUnderTest = {
  readonly destination: Destination;
  /** closes the destination and removes whatever it stored */
  readonly cleanup: () => Promise<void>;
};

/**
 * Opens a fresh, empty destination for `config`. The suite chooses the fields, key and groups; the
 * factory supplies its own `type` and `options` (e.g. `{...config, type: 'mine', options: {...}}`).
 */
export type OpenDestinationForTest = (config: DestinationConfig) => Promise<DestinationUnderTest>;

export type DestinationCapabilities = {
  /** whether fields can hold arrays of values (default true) */
  readonly arrays?: boolean;
};

export const destinationContract = (
  name: string,
  open: OpenDestinationForTest,
  capabilities: DestinationCapabilities = {},
): void => {
  describe(`Destination contract: ${name}`, () => {
    let under: DestinationUnderTest;
    beforeEach(async () => {
      under = await open(contractConfig);
    });
    afterEach(() => under.cleanup());

    const apply = async (commands: Command[]): Promise<readonly CommandOutcome[]> => {
      const result = await under.destination.apply(commands)();
      if (result._tag === 'Left') throw new Error(`apply failed: ${result.left.message}`);
      return result.right;
    };
    const applyOk = async (...commands: Command[]): Promise<void> => {
      const outcomes = await apply(commands);
      expect(outcomes).toEqual(commands.map((c) => ({ commandId: c.commandId, status: 'ok' })));
    };
    const lookup = async (...keys: string[]): Promise<ObservedRecord[]> => {
      const result = await under.destination.lookup(keys)();
      if (result._tag === 'Left') throw new Error(`lookup failed: ${result.left.message}`);
      return [...result.right].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    };
    const find = async (key: string) => {
      const found = await lookup(key);
      expect(found.length, `records under ${key}`).toBeLessThanOrEqual(1);
      return found[0] === undefined ? undefined : holding(found[0]);
    };
    /** Applies `commands` again and checks every outcome is ok and nothing changed. */
    const expectIdempotent = async (keys: string[], ...commands: Command[]) => {
      const before = await lookup(...keys);
      await applyOk(...commands);
      expect(await lookup(...keys)).toEqual(before);
    };

    describe('describe()', () => {
      it('names the type, the sync modes it supports, and a default among them', () => {
        const d = under.destination.describe();
        expect(d.type).not.toBe('');
        expect(d.modes.length).toBeGreaterThan(0);
        for (const mode of d.modes) expect(SYNC_MODES).toContain(mode);
        expect(d.modes).toContain(d.defaultMode);
        const names = d.options.map((o) => o.name);
        expect(new Set(names).size).toBe(names.length);
      });
    });

    describe('lookup', () => {
      it('finds nothing under keys that were never written', async () => {
        expect(await lookup('nobody@example.com', 'ghost@example.com')).toEqual([]);
        expect(await lookup()).toEqual([]);
      });

      it('returns only the records asked for, each once', async () => {
        await applyOk(create('a@example.com'), create('b@example.com'), create('c@example.com'));
        const found = await lookup('a@example.com', 'c@example.com', 'c@example.com', 'missing@example.com');
        expect(found.map((r) => r.key)).toEqual(['a@example.com', 'c@example.com']);
      });
    });

    describe('create', () => {
      it('then lookup returns exactly the fields and groups written, groups sorted', async () => {
        const fields = { email: 'ada@example.com', first_name: 'Ada', ltv: 1200.5, code: 'A-1' };
        await applyOk(create('ada@example.com', { set: fields, add: ['VIP', 'Newsletter'] }));
        expect(await find('ada@example.com')).toEqual(
          expected('ada@example.com', fields, ['Newsletter', 'VIP']),
        );
      });

      const values: [string, Value][] = [
        ['a string', 'Ada Lovelace'],
        ['the empty string', ''],
        ['the string "100"', '100'],
        ['the number 100', 100],
        ['zero', 0],
        ['a negative decimal', -12.75],
        ['the largest safe integer', Number.MAX_SAFE_INTEGER],
        ['true', true],
        ['false', false],
        ['the string "true"', 'true'],
        ['unicode text', 'Zoë Ångström, 张伟 🚀'],
        ['JSON-looking text', '["not", "a list"]'],
        ...(capabilities.arrays === false
          ? []
          : ([
              ['a list of strings', ['red', 'green']],
              ['a mixed list', [1, '1', true, null]],
              ['an empty list', []],
            ] as [string, Value][])),
      ];
      it.each(values)('keeps the value and its type: %s', async (_, value) => {
        await applyOk(create('v@example.com', { set: { note: value } }));
        const found = await lookup('v@example.com');
        expect(found[0]?.fields.note).toEqual(value);
      });

      it('keeps a null that was written as null', async () => {
        await applyOk(create('n@example.com', { set: { note: null } }));
        const found = await lookup('n@example.com');
        expect(found[0]?.fields.note).toBeNull();
      });

      it('keeps unicode in keys and group names', async () => {
        await applyOk(create('zoë@exämple.com', { add: ['Clients fidèles ★'] }));
        expect(await find('zoë@exämple.com')).toEqual(expected('zoë@exämple.com', {}, ['Clients fidèles ★']));
      });
    });

    describe('update', () => {
      const key = 'ada@example.com';
      beforeEach(() =>
        applyOk(create(key, { set: { first_name: 'Ada', ltv: 100, code: 'A' }, add: ['VIP'] })),
      );

      it('sets the fields it names and leaves the others as they were', async () => {
        await applyOk(update(key, { set: { ltv: '100', note: 'hi' } }));
        expect(await find(key)).toEqual(
          expected(key, { first_name: 'Ada', ltv: '100', code: 'A', note: 'hi' }, ['VIP']),
        );
      });

      it('unsets fields, which then read as absent or null', async () => {
        await applyOk(update(key, { unset: ['code', 'ltv'] }));
        expect(await find(key)).toEqual(expected(key, { first_name: 'Ada' }, ['VIP']));
      });

      it('adds and removes groups and leaves groups it does not name alone', async () => {
        await applyOk(update(key, { add: ['Partners'] }));
        await applyOk(update(key, { add: ['Newsletter'], remove: ['VIP'] }));
        expect((await find(key))?.groups).toEqual(['Newsletter', 'Partners']);
      });

      it('of a key with no record fails terminally, and the rest of the batch still applies', async () => {
        const commands = [
          update(key, { set: { note: 'before' } }),
          update('missing@example.com', { set: { note: 'x' } }),
          create('b@example.com'),
        ];
        const outcomes = await apply(commands);
        expect(outcomes.map((o) => [o.commandId, o.status])).toEqual(
          commands.map((c, i) => [c.commandId, i === 1 ? 'error' : 'ok']),
        );
        expect(outcomes[1]).toMatchObject({
          retryable: false,
          message: expect.stringMatching(/.+/) as unknown,
        });
        expect((await find(key))?.fields.note).toBe('before');
        expect(await find('b@example.com')).toEqual(expected('b@example.com', {}, []));
        expect(await find('missing@example.com')).toBeUndefined();
      });
    });

    describe('rename (an update that sets the key field)', () => {
      beforeEach(() =>
        applyOk(
          create('old@example.com', { set: { first_name: 'Ada', code: 'A' }, add: ['VIP', 'Partners'] }),
        ),
      );
      const rename = () =>
        update('old@example.com', {
          set: { email: 'new@example.com', first_name: 'Ada L.' },
          add: ['Newsletter'],
        });

      it('moves the record to the new key, with every group managed or not, and applies the rest', async () => {
        await applyOk(rename());
        expect(await find('old@example.com')).toBeUndefined();
        expect(await find('new@example.com')).toEqual(
          expected('new@example.com', { first_name: 'Ada L.', code: 'A' }, ['Newsletter', 'Partners', 'VIP']),
        );
      });

      it('several in one call move each record with its own groups, beside creates and deletes', async () => {
        await applyOk(
          create('two@example.com', { set: { code: 'B' }, add: ['Partners'] }),
          create('three@example.com', { set: { code: 'C' } }),
        );
        await applyOk(
          rename(),
          update('two@example.com', { set: { email: 'second@example.com' }, remove: ['Partners'] }),
          create('fresh@example.com', { set: { code: 'F' }, add: ['VIP'] }),
          update('three@example.com', { set: { email: 'third@example.com' }, add: ['VIP'] }),
          remove('gone@example.com'),
        );
        for (const key of ['old@example.com', 'two@example.com', 'three@example.com'])
          expect(await find(key)).toBeUndefined();
        expect(await find('new@example.com')).toEqual(
          expected('new@example.com', { first_name: 'Ada L.', code: 'A' }, ['Newsletter', 'Partners', 'VIP']),
        );
        expect(await find('second@example.com')).toEqual(expected('second@example.com', { code: 'B' }, []));
        expect(await find('third@example.com')).toEqual(
          expected('third@example.com', { code: 'C' }, ['VIP']),
        );
        expect(await find('fresh@example.com')).toEqual(
          expected('fresh@example.com', { code: 'F' }, ['VIP']),
        );
      });

      it('applied twice has the effect of once', async () => {
        const once = rename();
        await applyOk(once);
        await expectIdempotent(['old@example.com', 'new@example.com'], once);
      });
    });

    describe('delete', () => {
      it('removes the record and its groups', async () => {
        await applyOk(create('d@example.com', { set: { note: 'x' }, add: ['VIP', 'Partners'] }));
        await applyOk(remove('d@example.com'));
        expect(await find('d@example.com')).toBeUndefined();
        await applyOk(create('d@example.com'));
        expect(await find('d@example.com')).toEqual(expected('d@example.com', {}, []));
      });

      it('of a key with no record is ok', async () => {
        await applyOk(remove('nobody@example.com'));
      });
    });

    describe('applying a command twice has the effect of once', () => {
      it('create', async () => {
        const c = create('i@example.com', { set: { first_name: 'Ida', ltv: 3 }, add: ['VIP'] });
        await applyOk(c);
        await expectIdempotent(['i@example.com'], c);
      });

      it('update', async () => {
        await applyOk(create('i@example.com', { set: { first_name: 'Ida', code: 'I' }, add: ['VIP'] }));
        const u = update('i@example.com', {
          set: { ltv: 7 },
          unset: ['code'],
          add: ['Newsletter'],
          remove: ['VIP'],
        });
        await applyOk(u);
        await expectIdempotent(['i@example.com'], u);
      });

      it('delete', async () => {
        await applyOk(create('i@example.com', { add: ['VIP'] }));
        const d = remove('i@example.com');
        await applyOk(d);
        await expectIdempotent(['i@example.com'], d);
      });

      it('within one batch too', async () => {
        const c = create('i@example.com', { set: { first_name: 'Ida' }, add: ['VIP'] });
        await applyOk(c, c);
        expect(await find('i@example.com')).toEqual(
          expected('i@example.com', { first_name: 'Ida' }, ['VIP']),
        );
      });
    });

    describe('outcomes', () => {
      it('are one per command, in order', async () => {
        const commands = [
          create('a@example.com'),
          create('b@example.com'),
          update('a@example.com', { set: { note: 'x' } }),
          remove('b@example.com'),
          update('b@example.com', { set: { note: 'gone' } }),
        ];
        const outcomes = await apply(commands);
        expect(outcomes.map((o) => o.commandId)).toEqual(commands.map((c) => c.commandId));
        expect(outcomes.map((o) => o.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'error']);
      });

      it('for an empty batch are none', async () => {
        expect(await apply([])).toEqual([]);
      });
    });

    describe('count (optional), which a run and status compare with what syncline wrote', () => {
      const count = async (atMost?: number): Promise<number | null | undefined> => {
        if (under.destination.count === undefined) return undefined;
        const r = await under.destination.count(atMost)();
        if (r._tag === 'Left') throw new Error(`count failed: ${r.left.message}`);
        return r.right;
      };
      it('is none (0, or null: nowhere to hold records yet) for a fresh destination, and follows creates and deletes', async () => {
        if (under.destination.count === undefined) return;
        expect([0, null]).toContain(await count());
        await applyOk(create('a@example.com'), create('b@example.com'), create('c@example.com'));
        expect(await count()).toBe(3);
        await applyOk(remove('b@example.com'));
        expect(await count()).toBe(2);
      });

      it('may stop at atMost, and never counts past it', async () => {
        if (under.destination.count === undefined) return;
        await applyOk(create('a@example.com'), create('b@example.com'));
        expect(await count(1)).toBe(1);
        expect(await count(5)).toBe(2);
      });
    });

    describe('tidy (optional), which the engine calls after a run and does not wait for', () => {
      it('changes nothing a lookup sees, and applies go on after it', async () => {
        await applyOk(create('t@example.com', { set: { first_name: 'Tess' }, add: ['VIP'] }));
        // not awaited, as the engine calls it: the lookup may come while it runs
        const tidying = under.destination.tidy?.();
        expect(await find('t@example.com')).toEqual(
          expected('t@example.com', { first_name: 'Tess' }, ['VIP']),
        );
        await tidying;
        await applyOk(update('t@example.com', { set: { first_name: 'Tessa' } }));
        await Promise.all([under.destination.tidy?.(), under.destination.tidy?.()]);
        expect(await find('t@example.com')).toEqual(
          expected('t@example.com', { first_name: 'Tessa' }, ['VIP']),
        );
      });
    });
  });
};
