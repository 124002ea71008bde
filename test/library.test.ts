// The package's public face: `import … from 'syncline'` and `syncline/testing` resolve from the
// built files and give the documented functions, so a user's import works as the README shows.
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { describe, expect, it } from 'vitest';
import { tempDir } from './support/cli.js';

describe('the library entry point', () => {
  it('given the built package, when imported by name, then decide, the codecs, the folds and the engine are there', async () => {
    const lib = (await import('syncline')) as Record<string, unknown>;
    for (const name of [
      'decide',
      'InputEvent',
      'DestinationConfig',
      'foldWorld',
      'foldLedger',
      'pendingOf',
      'pendingCommands',
      'simulate',
      'syncDestination',
      'openSqliteStore',
      'syncModes',
    ]) {
      expect(typeof lib[name], name).not.toBe('undefined');
    }
  });

  it('given the testing entry, when imported, then both contract suites are exported as functions', async () => {
    const testing = (await import('syncline/testing')) as Record<string, unknown>;
    expect(typeof testing.eventStoreContract).toBe('function');
    expect(typeof testing.destinationContract).toBe('function');
  });

  it('given a scenario, when decided through the package, then the decision follows the decision table', async () => {
    const { simulate } = await import('syncline');
    const decisions = simulate(
      {
        destination: {
          destinationId: 'crm',
          type: 'memory',
          collection: { kind: 'all' },
          keyField: 'email',
          mapping: { email: 'email' },
        },
        events: [{ type: 'ProfileCreated', data: { profileId: 'p1', properties: { email: 'ann@x.io' } } }],
        observed: [],
      },
      'enrich',
    );
    expect(decisions).toStrictEqual([
      {
        profileId: 'p1',
        operation: 'skip',
        key: 'ann@x.io',
        fields: { set: {}, unset: [] },
        groups: { add: [], remove: [] },
        level: 'info',
        message: 'Destination sync mode does not allow creating new profiles',
      },
    ]);
  });

  it("given a SQLite store, when its state is kept as docs/library.md says (open, catchUp, use, save, close), then a second process opens it at the store's end and folds nothing", async () => {
    const { catchUp, openSqliteStore, openStateFile, statePathFor } = await import('syncline');
    const tmp = await tempDir();
    try {
      const opened = openSqliteStore(join(tmp.path, 'events.db'));
      if (E.isLeft(opened)) throw new Error(opened.left.message);
      const store = opened.right;
      const profile = (id: string) => ({ type: 'ProfileCreated', data: { profileId: id, properties: {} } });
      await store.append([{ stream: 'profile-p1', expected: 'no-stream', events: [profile('p1')] }])();
      await store.append([{ stream: 'profile-p2', expected: 'no-stream', events: [profile('p2')] }])();
      const path = statePathFor('sqlite:events.db', tmp.path);
      expect(path).toBe(join(tmp.path, 'events.state.db'));
      const first = await openStateFile(path as string, store);
      if (E.isLeft(first)) throw new Error(first.left.message);
      expect(first.right.notice).toBe(`building the engine state in ${path} from the store`);
      const { file } = first.right;
      expect(E.isRight(await catchUp(store, file.state))).toBe(true);
      expect(file.state.world.profiles.size).toBe(2);
      expect(file.save()).toStrictEqual(E.right('saved'));
      file.close();
      const second = await openStateFile(path as string, store);
      if (E.isLeft(second)) throw new Error(second.left.message);
      expect(second.right.notice).toBeUndefined();
      expect(second.right.file.state.position).toBe(2);
      expect(second.right.file.state.world.profiles.size).toBe(2);
      second.right.file.close();
      await store.close();
    } finally {
      await tmp.remove();
    }
  });
});
