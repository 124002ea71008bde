// The package's public face: `import … from 'syncline'` and `syncline/testing` resolve from the
// built files and give the documented functions, so a user's import works as the README shows.
import { describe, expect, it } from 'vitest';

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
});
