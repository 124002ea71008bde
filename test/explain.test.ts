// Specifications of `explain` at engine level: each decision of a profile's story told in words after
// the event and observation that led to it, and with --at, the state at a time and its verdict.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  created,
  destination,
  everyone,
  groupCreated,
  groupDeleted,
  inGroup,
  joined,
  record,
} from './support/given.js';
import { ann, annStory, at, explained, ingest, logOf } from './support/story.js';
import { givenEngine } from './support/engine.js';

afterEach(() => vi.useRealTimers());

const EXPECTED = {
  sync: [
    ['create', 'created: in scope (member of vip) and no record with key ann@x.io existed'],
    ['update', 'renamed ann@x.io → ann@new.io'],
    ['delete', 'deleted: left the collection (no longer a member of vip) and sync mode removes profiles'],
    ['create', 'created: in scope (member of vip) and no record with key ann@new.io existed'],
    ['delete', 'deleted: the profile was deleted and sync mode removes profiles'],
  ],
  additive: [
    ['create', 'created: in scope (member of vip) and no record with key ann@x.io existed'],
    ['update', 'renamed ann@x.io → ann@new.io'],
    [
      'update',
      'removed from groups VIP: left the collection (no longer a member of vip), and additive mode never deletes; the record is left in place',
    ],
    ['update', 'updated ann@new.io: added to VIP'],
    [
      'update',
      'removed from groups VIP: the profile was deleted, and additive mode never deletes; the record is left in place',
    ],
  ],
  enrich: [
    // Her record was the CRM's before syncline: the first update is also where syncline takes it on.
    [
      'update',
      "updated ann@x.io: set first_name; added to VIP; the ledger now holds record ann@x.io as this profile's (matched)",
    ],
    ['update', 'renamed ann@x.io → ann@new.io'],
    [
      'update',
      'removed from groups VIP: left the collection (no longer a member of vip), and enrich mode never deletes; the record is left in place',
    ],
    ['update', 'updated ann@new.io: added to VIP'],
    [
      'update',
      'removed from groups VIP: the profile was deleted, and enrich mode never deletes; the record is left in place',
    ],
  ],
} as const;

describe.each(['sync', 'additive', 'enrich'] as const)('ann’s story in %s mode', (mode) => {
  it('when we explain her, then every decision has its reason in words, after the event and observation that led to it', async () => {
    const w = await annStory(mode);
    const story = await explained(w.store, 'p1');
    const decisions = story.timeline.filter((i) => i.kind === 'decision');
    expect(decisions.map((i) => [i.operation, i.summary])).toStrictEqual(EXPECTED[mode]);
    const kinds = story.timeline.map((i) => i.kind);
    expect(kinds.slice(0, 6)).toStrictEqual([
      'config',
      'event',
      'event',
      'observation',
      'decision',
      'outcome',
    ]);
    expect(kinds.filter((k) => k === 'outcome')).toHaveLength(5);
    expect(story.timeline[2]?.summary).toBe('joined vip → entered scope; +VIP');
    expect(story.omittedEvents).toBe(1); // creating vip changed nothing for her
    expect(story.pending).toStrictEqual([]);
  });
});

describe('explain --at', () => {
  it('given ann left vip at 13:00, when we ask about 13:30, then she is out of scope, the renamed record is known, and a sync would delete it', async () => {
    const w = await annStory('sync');
    const { at: then, timeline } = await explained(w.store, 'p1', at('13:30'));
    expect(timeline.at(-1)?.summary).toBe('left vip → left scope; −VIP');
    expect(then?.desired).toMatchObject({
      inScope: false,
      scope: 'left the collection (no longer a member of vip)',
    });
    // The values written, as the recorded decisions hold them (the live ledger keeps only names).
    expect(then?.ledger).toStrictEqual({
      profileId: 'p1',
      key: 'ann@new.io',
      fields: { email: 'ann@new.io', first_name: 'Ann' },
      groups: ['VIP'],
    });
    expect(then?.observed.records).toStrictEqual([
      record('ann@new.io', { email: 'ann@new.io', first_name: 'Ann' }, ['VIP']),
    ]);
    expect(then?.observed.appliedSince).toBe(1);
    expect(then?.verdict).toMatchObject({ operation: 'delete', key: 'ann@new.io' });
    expect(then?.reason).toBe(
      'deleted: left the collection (no longer a member of vip) and sync mode removes profiles',
    );
  });

  it('given no run had looked at ann by 09:30, when we ask, then a sync would have created her, and the note says the record is assumed absent', async () => {
    const w = await annStory('sync');
    const { at: then } = await explained(w.store, 'p1', at('09:30'));
    expect(then?.desired).toMatchObject({ inScope: true, key: 'ann@x.io', groups: ['VIP'] });
    expect(then?.ledger).toBeNull();
    expect(then?.verdict).toMatchObject({ operation: 'create', key: 'ann@x.io' });
    expect(then?.notes[0]).toMatch(/^no run had looked this profile up by then/);
  });
});

describe('reasons for skips', () => {
  it('given two profiles with one email, a profile without one, and an enrich destination without bob, then each skip says why', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: everyone }));
    await ingest(w, ann, created('p2', { email: 'ann@x.io' }), created('p3', { firstName: 'Nokey' }));
    await w.synced();
    const reason = async (pid: string) =>
      (await explained(w.store, pid)).timeline.find((i) => i.kind === 'decision')?.summary;
    expect(await reason('p2')).toBe('skipped: key ann@x.io is also claimed by p1');
    expect(await reason('p3')).toBe('skipped: no value for key field email');

    const e = await givenEngine(destination({ mode: 'enrich', collection: everyone }));
    await ingest(e, created('p9', { email: 'bob@x.io' }));
    await e.synced();
    expect((await explained(e.store, 'p9')).timeline.find((i) => i.kind === 'decision')?.summary).toBe(
      'not created: enrich mode does not create, and no record with key bob@x.io exists',
    );
  });
});

describe('a deleted group', () => {
  it('given vip created and deleted without lifecycle tags (a store from before them), when ann’s record goes, then the group’s deletion is its cause and its reason', async () => {
    const w = await givenEngine(destination({ mode: 'sync', collection: inGroup('vip') }));
    await w.happen(groupCreated('vip'));
    await ingest(w, ann, joined('p1', 'vip'));
    await w.synced();
    await w.happen(groupDeleted('vip'));
    await w.synced();
    const decisions = (await explained(w.store, 'p1')).timeline.filter((i) => i.kind === 'decision');
    expect(decisions.map((i) => i.summary)).toStrictEqual([
      'created: in scope (member of vip) and no record with key ann@x.io existed',
      'deleted: group vip was deleted and sync mode removes profiles',
    ]);
    expect((await logOf(w.store, 'p1'))[1]?.causes.map((c) => c.type)).toStrictEqual(['GroupDeleted']);
  });
});
