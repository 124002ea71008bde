// The ledger fold specified by example: given these sync events, then this ledger. One spec per event
// type, per way a command settles (an outcome, a crash's settlement, an adoption), and per run's end.
import { describe, expect, it } from 'vitest';
import type { Adoption } from '../domain/adopt.js';
import type { Decision } from '../domain/decision.js';
import type { CommandResult, RecordedDecision, Settlement, SyncEvent } from '../domain/syncEvents.js';
import { foldLedger, initialLedger, pendingOf, type Ledger } from '../projections/ledger.js';
import { pendingCommands } from '../projections/pending.js';
import { destination } from './support/given.js';

const crm = destination({ mode: 'sync' });
const AT = '2026-01-01T00:00:00.000Z';
const LATER = '2026-01-01T00:05:00.000Z';

const started = (runId: string, position = 1): SyncEvent => ({
  type: 'RunStarted',
  data: {
    runId,
    destinationId: 'crm',
    position,
    mode: 'sync',
    config: crm,
    owner: { host: 'box', pid: 7 },
    startedAt: AT,
    reason: 'changes',
  },
});

type BatchExtras = {
  readonly settled?: Settlement[];
  readonly cleared?: string[];
  readonly adopted?: Adoption[];
};

const decided = (runId: string, decisions: RecordedDecision[], extras: BatchExtras = {}): SyncEvent => ({
  type: 'BatchDecided',
  data: {
    runId,
    position: 1,
    profileIds: decisions.map((r) => r.decision.profileId),
    keys: [],
    observed: [],
    decisions,
    decidedAt: AT,
    unchanged: 0,
    ...extras,
  },
});

const appliedOk = (runId: string, ...commandIds: string[]): SyncEvent => ({
  type: 'BatchApplied',
  data: { runId, results: [], ok: { at: LATER, commandIds } },
});

const applied = (runId: string, ...results: CommandResult[]): SyncEvent => ({
  type: 'BatchApplied',
  data: { runId, results },
});

const finished = (runId: string): SyncEvent => ({
  type: 'RunFinished',
  data: { runId, position: 1, counts: { created: 1 }, finishedAt: LATER },
});

const failed = (runId: string, message: string): SyncEvent => ({
  type: 'RunFailed',
  data: { runId, message, failedAt: LATER },
});

const retry = (...profileIds: string[]): SyncEvent => ({
  type: 'RetryRequested',
  data: { profileIds, requestedAt: LATER },
});

const change = (
  set: Record<string, string> = {},
  unset: string[] = [],
  add: string[] = [],
  remove: string[] = [],
) => ({ fields: { set, unset }, groups: { add, remove } });

const create = (profileId: string, key: string, fields: string[], groups: string[] = []): Decision => ({
  profileId,
  operation: 'create',
  key,
  ...change(Object.fromEntries(fields.map((f) => [f, `${f} of ${profileId}`])), [], groups),
});
const update = (profileId: string, key: string, c = change()): Decision => ({
  profileId,
  operation: 'update',
  key,
  ...c,
});
const remove = (profileId: string, key: string): Decision => ({
  profileId,
  operation: 'delete',
  key,
  ...change(),
});
const skip = (profileId: string): Decision => ({ profileId, operation: 'skip', ...change() });

const recorded = (commandId: string, decision: Decision, keyAfter?: string): RecordedDecision => ({
  commandId,
  decision,
  ...(keyAfter === undefined ? {} : { keyAfter }),
});

const folded = (...events: SyncEvent[]): Ledger => events.reduce(foldLedger, initialLedger());

/** The ledger's entries as names: profile → key, field names (sorted) and groups (sorted). */
const entriesOf = (l: Ledger) =>
  Object.fromEntries(
    [...l.entries].map(([pid, e]) => [
      pid,
      { key: e.key, fields: Object.keys(e.fields).sort(), groups: [...e.groups].sort() },
    ]),
  );
const ownersOf = (l: Ledger) => Object.fromEntries(l.owners);
const pendingIds = (l: Ledger) => [...pendingCommands(l.pending)].map((c) => c.commandId);

/** ann has a record written by run r1: email and first_name, in VIP. */
const annWritten = [
  started('r1'),
  decided('r1', [recorded('c1', create('ann', 'ann@x.io', ['email', 'first_name'], ['VIP']))]),
  appliedOk('r1', 'c1'),
  finished('r1'),
];

describe('the ledger, given no event', () => {
  it('then it holds nothing and has folded up to no revision', () => {
    const l = initialLedger();
    expect({
      entries: l.entries.size,
      owners: l.owners.size,
      pending: l.pending.size,
      failures: l.failures.size,
      retries: l.retryRequested.size,
      open: l.open,
      lastFinished: l.lastFinished,
      lastRun: l.lastRun,
      runs: l.runs,
      revision: l.revision,
      taken: l.taken,
    }).toStrictEqual({
      entries: 0,
      owners: 0,
      pending: 0,
      failures: 0,
      retries: 0,
      open: null,
      lastFinished: null,
      lastRun: null,
      runs: 0,
      revision: -1,
      taken: 0,
    });
  });
});

describe('RunStarted', () => {
  it('given no run, when one starts, then it is the open run and the last run, counted, with what it started from', () => {
    const l = folded(started('r1', 12));
    const run = { runId: 'r1', position: 12, mode: 'sync', startedAt: AT, owner: { host: 'box', pid: 7 } };
    expect(l.open).toStrictEqual(run);
    expect(l.lastRun).toBe(l.open);
    expect({ runs: l.runs, revision: l.revision, lastFinished: l.lastFinished }).toStrictEqual({
      runs: 1,
      revision: 0,
      lastFinished: null,
    });
  });

  it('given a run still open (it crashed), when the next starts, then the first is marked interrupted and its unsettled commands stay pending', () => {
    const first = started('r1');
    const l = folded(first, decided('r1', [recorded('c1', create('ann', 'ann@x.io', ['email']))]));
    const crashed = l.open;
    foldLedger(l, started('r2'));
    expect(crashed?.failed).toBe('interrupted');
    expect(l.open?.runId).toBe('r2');
    expect(l.lastRun).toBe(l.open);
    expect(l.runs).toBe(2);
    expect(pendingIds(l)).toStrictEqual(['c1']);
  });

  it('given the last run finished, when the next starts, then the finished run is not marked', () => {
    const l = folded(...annWritten, started('r2'));
    expect(l.lastFinished?.failed).toBeUndefined();
    expect(l.lastFinished?.runId).toBe('r1');
  });
});

describe('BatchDecided', () => {
  it('given decisions, then every one but a skip is pending, in the order decided, under the key it leaves the record', () => {
    const l = folded(
      started('r1'),
      decided('r1', [
        recorded('c1', create('ann', 'ann@x.io', ['email'])),
        recorded('c2', skip('bob')),
        recorded('c3', update('cid', 'cid@x.io', change({ email: 'c@x.io' })), 'c@x.io'),
        recorded('c4', remove('dan', 'dan@x.io')),
      ]),
    );
    expect(pendingIds(l)).toStrictEqual(['c1', 'c3', 'c4']);
    expect(pendingOf(l, 'cid')).toStrictEqual([
      {
        runId: 'r1',
        commandId: 'c3',
        decision: update('cid', 'cid@x.io', change({ email: 'c@x.io' })),
        keyAfter: 'c@x.io',
      },
    ]);
    expect(pendingOf(l, 'ann').map((c) => c.keyAfter)).toStrictEqual(['ann@x.io']);
    expect(pendingOf(l, 'bob')).toStrictEqual([]);
    expect(entriesOf(l)).toStrictEqual({});
  });

  it('given a decision without a key (nothing to act on), then it is pending under the empty key', () => {
    const keyless: Decision = { profileId: 'ann', operation: 'update', ...change({ first_name: 'Ann' }) };
    const l = folded(decided('r1', [recorded('c1', keyless)]));
    expect(pendingOf(l, 'ann').map((c) => c.keyAfter)).toStrictEqual(['']);
  });

  it('given a profile with a failure and a retry request, when a batch decides for it, then both are cleared; others keep theirs', () => {
    const l = folded(
      ...annWritten,
      started('r2'),
      decided('r2', [
        recorded('c2', update('ann', 'ann@x.io', change({ first_name: 'Annie' }))),
        recorded('c3', create('bob', 'bob@x.io', ['email'])),
      ]),
      applied(
        'r2',
        { commandId: 'c2', status: 'error', attempts: 3, at: LATER, retryable: true, message: 'timeout' },
        { commandId: 'c3', status: 'error', attempts: 1, at: LATER },
      ),
      retry('ann', 'bob'),
      decided('r2', [recorded('c4', update('ann', 'ann@x.io', change({ first_name: 'Annie' })))]),
    );
    expect([...l.failures.keys()]).toStrictEqual(['bob']);
    expect([...l.retryRequested]).toStrictEqual(['bob']);
  });

  it('given a profile with a retry request and no failure anywhere, when a batch decides for it, then its request is cleared', () => {
    const l = folded(
      retry('ann', 'bob'),
      decided('r1', [recorded('c1', create('ann', 'ann@x.io', ['email']))]),
    );
    expect([...l.retryRequested]).toStrictEqual(['bob']);
  });

  it('given a skip decided for a profile with a failure, then its failure is cleared all the same', () => {
    const l = folded(
      decided('r1', [recorded('c1', create('ann', 'ann@x.io', ['email']))]),
      applied('r1', { commandId: 'c1', status: 'error', attempts: 1, at: LATER }),
      decided('r1', [recorded('c2', skip('ann'))]),
    );
    expect(l.failures.size).toBe(0);
  });

  it('given profiles listed as cleared (they now need nothing), then their failures and retry requests end', () => {
    const l = folded(
      decided('r1', [
        recorded('c1', create('ann', 'ann@x.io', ['email'])),
        recorded('c2', create('bob', 'bob@x.io', ['email'])),
      ]),
      applied(
        'r1',
        { commandId: 'c1', status: 'error', attempts: 1, at: LATER },
        { commandId: 'c2', status: 'error', attempts: 1, at: LATER },
      ),
      retry('ann', 'cid'),
      decided('r2', [], { cleared: ['ann', 'cid'] }),
    );
    expect([...l.failures.keys()]).toStrictEqual(['bob']);
    expect([...l.retryRequested]).toStrictEqual([]);
  });

  it('given a decision that matched a record (adopted), then the record is the profile’s entry, and an update decided with it settles onto it', () => {
    const adopted: Adoption = { profileId: 'ann', key: 'ann@x.io', fields: ['email'], groups: ['VIP'] };
    const l = folded(
      started('r1'),
      decided('r1', [recorded('c1', update('ann', 'ann@x.io', change({ first_name: 'Ann' })))], {
        adopted: [adopted],
      }),
    );
    expect(entriesOf(l)).toStrictEqual({ ann: { key: 'ann@x.io', fields: ['email'], groups: ['VIP'] } });
    expect(ownersOf(l)).toStrictEqual({ 'ann@x.io': 'ann' });
    foldLedger(l, appliedOk('r1', 'c1'));
    expect(entriesOf(l)).toStrictEqual({
      ann: { key: 'ann@x.io', fields: ['email', 'first_name'], groups: ['VIP'] },
    });
  });

  it('given an adoption of a record another profile wrote, then the other profile’s entry is taken', () => {
    const l = folded(
      ...annWritten,
      decided('r2', [], { adopted: [{ profileId: 'bob', key: 'ann@x.io', fields: [], groups: [] }] }),
    );
    expect(entriesOf(l)).toStrictEqual({ bob: { key: 'ann@x.io', fields: [], groups: [] } });
    expect(ownersOf(l)).toStrictEqual({ 'ann@x.io': 'bob' });
    expect(l.taken).toBe(1);
  });
});

describe('crash settlement (BatchDecided settled)', () => {
  const crashed = [
    started('r1'),
    decided('r1', [
      recorded('c1', create('ann', 'ann@x.io', ['email'], ['VIP'])),
      recorded('c2', create('bob', 'bob@x.io', ['email'])),
    ]),
    started('r2'),
  ];

  it('given commands a crash left pending, when a later batch confirms one and supersedes the other, then only the confirmed one is written, and neither stays pending', () => {
    const l = folded(
      ...crashed,
      decided('r2', [recorded('c3', create('bob', 'bob@x.io', ['email']))], {
        settled: [
          { commandId: 'c1', status: 'confirmed' },
          { commandId: 'c2', status: 'superseded' },
        ],
      }),
    );
    expect(entriesOf(l)).toStrictEqual({ ann: { key: 'ann@x.io', fields: ['email'], groups: ['VIP'] } });
    expect(pendingIds(l)).toStrictEqual(['c3']);
    expect(l.runs).toBe(2);
  });

  it('given a settlement of a command that is not pending, then nothing changes', () => {
    const l = folded(
      ...annWritten,
      decided('r2', [], { settled: [{ commandId: 'c9', status: 'confirmed' }] }),
    );
    expect(entriesOf(l)).toStrictEqual({
      ann: { key: 'ann@x.io', fields: ['email', 'first_name'], groups: ['VIP'] },
    });
  });
});

describe('BatchApplied', () => {
  it('given a create applied at its first attempt, then the profile’s entry holds the names it wrote, and the profile owns the key', () => {
    const l = folded(...annWritten);
    expect(entriesOf(l)).toStrictEqual({
      ann: { key: 'ann@x.io', fields: ['email', 'first_name'], groups: ['VIP'] },
    });
    expect(ownersOf(l)).toStrictEqual({ 'ann@x.io': 'ann' });
    expect(l.entries.get('ann')?.fields).toStrictEqual({ email: null, first_name: null });
    expect(pendingIds(l)).toStrictEqual([]);
  });

  it('given an update that sets a new field, unsets one, adds a group and removes one, then the entry has exactly those names', () => {
    const l = folded(
      ...annWritten,
      decided('r2', [
        recorded(
          'c2',
          update('ann', 'ann@x.io', change({ ltv: '5' }, ['first_name'], ['Newsletter'], ['VIP'])),
        ),
      ]),
      applied('r2', { commandId: 'c2', status: 'ok', attempts: 2, at: LATER }),
    );
    expect(entriesOf(l)).toStrictEqual({
      ann: { key: 'ann@x.io', fields: ['email', 'ltv'], groups: ['Newsletter'] },
    });
  });

  it('given an update of values only, then the entry stays the very same', () => {
    const l = folded(...annWritten);
    const before = l.entries.get('ann');
    foldLedger(
      l,
      decided('r2', [recorded('c2', update('ann', 'ann@x.io', change({ first_name: 'Annie' })))]),
    );
    foldLedger(l, appliedOk('r2', 'c2'));
    expect(l.entries.get('ann')).toBe(before);
    expect(ownersOf(l)).toStrictEqual({ 'ann@x.io': 'ann' });
  });

  it('given an update that only unsets a field, then the entry no longer has it', () => {
    const l = folded(
      ...annWritten,
      decided('r2', [
        recorded('c2', update('ann', 'ann@x.io', change({ email: 'ann@x.io' }, ['first_name']))),
      ]),
      appliedOk('r2', 'c2'),
    );
    expect(entriesOf(l)).toStrictEqual({ ann: { key: 'ann@x.io', fields: ['email'], groups: ['VIP'] } });
  });

  it('given an update that re-adds a group it has and unsets a field it lacks, then the entry keeps its names', () => {
    const l = folded(
      ...annWritten,
      decided('r2', [
        recorded('c2', update('ann', 'ann@x.io', change({}, ['ltv'], ['VIP'], ['Newsletter']))),
      ]),
      appliedOk('r2', 'c2'),
    );
    expect(entriesOf(l)).toStrictEqual({
      ann: { key: 'ann@x.io', fields: ['email', 'first_name'], groups: ['VIP'] },
    });
  });

  it('given a rename applied, then the entry moves to the new key and the profile owns it instead of the old one', () => {
    const l = folded(
      ...annWritten,
      decided('r2', [recorded('c2', update('ann', 'ann@x.io', change({ email: 'a@y.io' })), 'a@y.io')]),
      appliedOk('r2', 'c2'),
    );
    expect(entriesOf(l)).toStrictEqual({
      ann: { key: 'a@y.io', fields: ['email', 'first_name'], groups: ['VIP'] },
    });
    expect(ownersOf(l)).toStrictEqual({ 'a@y.io': 'ann' });
  });

  it('given an update applied to a profile with no entry (its record was found), then the entry holds what the update wrote', () => {
    const l = folded(
      decided('r1', [recorded('c1', update('ann', 'ann@x.io', change({ email: 'ann@x.io' }, [], ['VIP'])))]),
      appliedOk('r1', 'c1'),
    );
    expect(entriesOf(l)).toStrictEqual({ ann: { key: 'ann@x.io', fields: ['email'], groups: ['VIP'] } });
  });

  it('given a delete applied, then the profile has no entry and its key no owner', () => {
    const l = folded(
      ...annWritten,
      decided('r2', [recorded('c2', remove('ann', 'ann@x.io'))]),
      appliedOk('r2', 'c2'),
    );
    expect(entriesOf(l)).toStrictEqual({});
    expect(ownersOf(l)).toStrictEqual({});
  });

  it('given a create under a key another profile wrote, then the record is the new writer’s and the other’s entry is taken', () => {
    const l = folded(
      ...annWritten,
      decided('r2', [recorded('c2', create('bob', 'ann@x.io', ['email']))]),
      appliedOk('r2', 'c2'),
    );
    expect(entriesOf(l)).toStrictEqual({ bob: { key: 'ann@x.io', fields: ['email'], groups: [] } });
    expect(ownersOf(l)).toStrictEqual({ 'ann@x.io': 'bob' });
    expect(l.taken).toBe(1);
  });

  it('given a failed command, then the profile has a failure with the outcome’s details and no entry; without a message or retryable it is “failed”, not retryable', () => {
    const l = folded(
      started('r1'),
      decided('r1', [
        recorded('c1', create('ann', 'ann@x.io', ['email'])),
        recorded('c2', create('bob', 'bob@x.io', ['email'])),
      ]),
      applied(
        'r1',
        { commandId: 'c1', status: 'error', attempts: 5, at: LATER, retryable: true, message: 'timeout' },
        { commandId: 'c2', status: 'error', attempts: 1, at: LATER },
      ),
    );
    expect(l.failures.get('ann')).toStrictEqual({
      runId: 'r1',
      commandId: 'c1',
      decision: create('ann', 'ann@x.io', ['email']),
      retryable: true,
      message: 'timeout',
      attempts: 5,
      at: LATER,
    });
    expect(l.failures.get('bob')).toMatchObject({ retryable: false, message: 'failed', attempts: 1 });
    expect(entriesOf(l)).toStrictEqual({});
    expect(pendingIds(l)).toStrictEqual([]);
  });

  it('given outcomes of commands that are not pending (settled already), then nothing changes', () => {
    const l = folded(
      ...annWritten,
      appliedOk('r1', 'c1'),
      applied('r1', { commandId: 'c1', status: 'error', attempts: 1, at: LATER }),
    );
    expect(l.failures.size).toBe(0);
    expect(entriesOf(l)).toStrictEqual({
      ann: { key: 'ann@x.io', fields: ['email', 'first_name'], groups: ['VIP'] },
    });
  });
});

describe('the end of a run', () => {
  it('given an open run, when it finishes, then it is the last finished run with its counts, and none is open', () => {
    const l = folded(started('r1'), finished('r1'));
    expect(l.open).toBeNull();
    expect(l.lastFinished).toStrictEqual({
      runId: 'r1',
      position: 1,
      mode: 'sync',
      startedAt: AT,
      owner: { host: 'box', pid: 7 },
      finishedAt: LATER,
      counts: { created: 1 },
    });
    expect(l.lastRun).toBe(l.lastFinished);
  });

  it('given an open run, when it fails, then it carries the reason, none is open, and the last finished run stays the one before', () => {
    const l = folded(...annWritten, started('r2'), failed('r2', 'destination down'));
    expect(l.open).toBeNull();
    expect(l.lastRun).toMatchObject({ runId: 'r2', failed: 'destination down' });
    expect(l.lastRun?.finishedAt).toBeUndefined();
    expect(l.lastFinished?.runId).toBe('r1');
  });

  it('given an open run, when another run’s end is recorded, then the open run stays open and unchanged', () => {
    const l = folded(started('r1'), finished('r0'), failed('r0', 'gone'));
    expect(l.open).toStrictEqual({
      runId: 'r1',
      position: 1,
      mode: 'sync',
      startedAt: AT,
      owner: { host: 'box', pid: 7 },
    });
    expect(l.lastFinished).toBeNull();
  });

  it('given no open run, when a run’s end is recorded, then nothing changes but the revision', () => {
    const l = folded(finished('r1'), failed('r1', 'gone'));
    expect({
      open: l.open,
      lastFinished: l.lastFinished,
      lastRun: l.lastRun,
      revision: l.revision,
    }).toStrictEqual({
      open: null,
      lastFinished: null,
      lastRun: null,
      revision: 1,
    });
  });
});

describe('RetryRequested', () => {
  it('given profiles asked to be retried, then each has a retry request, once', () => {
    const l = folded(retry('ann', 'bob'), retry('ann'));
    expect([...l.retryRequested]).toStrictEqual(['ann', 'bob']);
    expect(l.revision).toBe(1);
  });
});
