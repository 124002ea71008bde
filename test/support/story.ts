// A profile's story for the log and explain specs: a clock the store and the engine both read,
// ingest with the tags `syncline ingest` writes, and Ann's story synced an hour after each change.
import * as E from 'fp-ts/lib/Either.js';
import { vi } from 'vitest';
import { inputTags, streamOf, type InputEvent } from '../../domain/events.js';
import type { SyncModeName } from '../../domain/modes.js';
import { decisionLog, type LogEntry } from '../../engine/audit/decisionLog.js';
import { explain, type Explanation } from '../../engine/audit/explain.js';
import type { EventStore } from '../../engine/ports.js';
import { givenEngine, type EngineWorld } from './engine.js';
import {
  changed,
  created,
  deleted,
  destination,
  groupCreated,
  inGroup,
  joined,
  left,
  record,
} from './given.js';

export const at = (hhmm: string): string => `2026-03-01T${hhmm}:00.000Z`;
/** Every store write, decision and outcome from here on happens at `hhmm` that day (specs restore real timers after each). */
export const clock = (hhmm: string): void => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date(at(hhmm)));
};

/** Appends events as `syncline ingest` does, with the tags that let log and explain avoid a scan. */
export const ingest = async (w: EngineWorld, ...events: InputEvent[]): Promise<void> => {
  for (const e of events) {
    const r = await w.store.append([
      { stream: streamOf(e), events: [{ ...e, tags: inputTags(e) }], expected: 'any' },
    ])();
    if (E.isLeft(r)) throw new Error(JSON.stringify(r.left));
  }
};

export const ann = created('p1', { email: 'ann@x.io', firstName: 'Ann' });
const defaultMode = (): SyncModeName => 'sync';

/** `indexReadsUpTo` 0 makes the destination-wide log gather causes in one pass over the store. */
export const logOf = async (
  store: EventStore,
  profileId?: string,
  indexReadsUpTo?: number,
): Promise<LogEntry[]> => {
  const r = await decisionLog(store, 'crm', profileId === undefined ? {} : { profileId }, indexReadsUpTo);
  if (E.isLeft(r)) throw new Error(r.left._tag);
  return r.right.entries;
};

export const explained = async (
  store: EventStore,
  profileId: string,
  atTime?: string,
): Promise<Explanation> => {
  const r = await explain(store, 'crm', profileId, { defaultMode, ...(atTime ? { at: atTime } : {}) });
  if (E.isLeft(r)) throw new Error(r.left._tag);
  return r.right;
};

/** Ann joins vip, changes her email, leaves, rejoins and is deleted; a sync an hour after each. */
export const annStory = async (mode: SyncModeName): Promise<EngineWorld> => {
  clock('08:00');
  const seed = mode === 'enrich' ? [record('ann@x.io', { email: 'ann@x.io' }, ['Customers'])] : [];
  const w = await givenEngine(destination({ mode, collection: inGroup('vip') }), seed);
  const steps: [string, InputEvent][] = [
    ['09:00', joined('p1', 'vip')],
    ['11:00', changed('p1', { email: 'ann@new.io' })],
    ['13:00', left('p1', 'vip')],
    ['15:00', joined('p1', 'vip')],
    ['17:00', deleted('p1')],
  ];
  for (const [time, event] of steps) {
    clock(time);
    await ingest(
      w,
      ...(time === '09:00' ? [groupCreated('vip'), groupCreated('newsletter'), ann] : []),
      event,
    );
    clock(time.replace(/^(\d\d)/, (h) => String(Number(h) + 1).padStart(2, '0')));
    await w.synced();
  }
  return w;
};
