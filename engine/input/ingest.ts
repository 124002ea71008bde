// `ingest`: checks a whole JSONL file of input events (UTF-8, JSON, codecs, then the strictness of
// docs/architecture.md, "Input events") and only then appends all of it in one transaction, or nothing.
import * as E from 'fp-ts/lib/Either.js';
import { reportErrors } from '../../domain/codec.js';
import { InputEvent, inputTags, streamOf } from '../../domain/events.js';
import type { DestinationConfig } from '../../domain/destination.js';
import { isLiveGroup, isLiveProfile } from '../../projections/world.js';
import { judgeId, type IdsSeen } from './ingestIds.js';
import { chunksOf, type Line } from './ingestLines.js';
import type { EventStore, StreamWrite } from '../ports.js';
import { catchUp, type EngineState } from '../state/engineState.js';
import type { InvalidStoredEvent } from '../state/storedEvents.js';

export type IngestError =
  | { readonly _tag: 'Rejected'; readonly problems: readonly string[]; readonly more: boolean }
  /** the file read for appending was not the file checked: nothing was stored */
  | { readonly _tag: 'FileChanged' }
  | { readonly _tag: 'StoreFailed'; readonly message: string }
  | InvalidStoredEvent;

export type IngestResult = { readonly lines: number; readonly appended: number; readonly duplicates: number };

export type IngestOptions = {
  /** checks a DestinationConfigured's type, mode and options; returns problems */
  readonly checkDestination: (d: DestinationConfig) => string[];
  readonly maxProblems: number;
  readonly chunkSize: number;
  /** files of at most this many events are kept from the first pass instead of being read again */
  readonly keepInMemory?: number;
};

/** A line that is not an input event: not UTF-8, not JSON, or refused by the codec (`path: message`). */
type LineRefused = { readonly _tag: 'LineRefused'; readonly problems: readonly string[] };

const refused = (...problems: string[]): LineRefused => ({ _tag: 'LineRefused', problems });

export const parse = (line: Line): E.Either<LineRefused, InputEvent> => {
  if ('unreadable' in line) return E.left(refused(line.unreadable));
  let json: unknown;
  try {
    json = JSON.parse(line.text);
  } catch (e) {
    return E.left(refused(`not valid JSON (${(e as Error).message})`));
  }
  const decoded = InputEvent.decode(json);
  return E.isLeft(decoded) ? E.left(refused(...reportErrors(decoded.left))) : decoded;
};

export const writeOf = (e: InputEvent): StreamWrite => {
  const tags = inputTags(e);
  return { stream: streamOf(e), events: [tags.length > 0 ? { ...e, tags } : e], expected: 'any' };
};

/** Existence as the store has it, overlaid with what earlier lines of the file create and delete. */
export type Overlay = { profiles: Map<string, boolean>; groups: Map<string, boolean> };

export const strictness = (
  s: EngineState,
  o: Overlay,
  e: InputEvent,
  check: IngestOptions['checkDestination'],
): string[] => {
  const profileLive = (id: string) => o.profiles.get(id) ?? isLiveProfile(s.world, id);
  const groupLive = (id: string) => o.groups.get(id) ?? isLiveGroup(s.world, id);
  const problems: string[] = [];
  const needProfile = (id: string) => {
    if (!profileLive(id)) problems.push(`data.profileId: profile ${id} does not exist`);
  };
  const needGroup = (id: string) => {
    if (!groupLive(id)) problems.push(`data.groupId: group ${id} does not exist`);
  };
  switch (e.type) {
    case 'ProfileCreated':
      if (profileLive(e.data.profileId))
        problems.push(`data.profileId: profile ${e.data.profileId} already exists`);
      else o.profiles.set(e.data.profileId, true);
      break;
    case 'ProfilePropertiesChanged':
      needProfile(e.data.profileId);
      break;
    case 'ProfileDeleted':
      needProfile(e.data.profileId);
      o.profiles.set(e.data.profileId, false);
      break;
    case 'GroupCreated':
      if (groupLive(e.data.groupId)) problems.push(`data.groupId: group ${e.data.groupId} already exists`);
      else o.groups.set(e.data.groupId, true);
      break;
    case 'GroupDeleted':
      needGroup(e.data.groupId);
      o.groups.set(e.data.groupId, false);
      break;
    case 'ProfileJoinedGroup':
    case 'ProfileLeftGroup':
      needGroup(e.data.groupId);
      needProfile(e.data.profileId);
      break;
    case 'DestinationConfigured':
      for (const p of check(e.data)) problems.push(`data: ${p}`);
      break;
    case 'DestinationRemoved':
      break;
  }
  return problems;
};

/** Why the append pass stops, once it has read a chunk that is not the one the check read. */
const CHANGED = 'the file changed while it was being ingested';

/**
 * Checks every line first (noting duplicates: ids already stored or repeated in the file, for the
 * same event again, see ingestIds.ts), then appends. A file of up to `keepInMemory` events is appended from what the check decoded; a larger
 * one is read a second time, so memory stays bounded whatever the file's size. What is appended is
 * exactly what was checked: the second reading compares each chunk of lines with the digest the
 * first took of it before using any line of it, and a file that changed in between (a line added,
 * removed or altered) withdraws the whole append, so that nothing of it is stored.
 */
export const ingest = async (
  store: EventStore,
  s: EngineState,
  open: () => AsyncIterable<Uint8Array>,
  opts: IngestOptions,
): Promise<E.Either<IngestError, IngestResult>> => {
  const caught = await catchUp(store, s);
  if (E.isLeft(caught)) return caught;
  const overlay: Overlay = { profiles: new Map(), groups: new Map() };
  const problems: string[] = [];
  const skip = new Set<number>();
  const seenIds: IdsSeen = new Map();
  const digests: string[] = [];
  let lines = 0;
  let more = false;
  const limit = opts.keepInMemory ?? 200_000;
  let kept: StreamWrite[] | null = [];
  outer: for await (const chunk of chunksOf(open(), opts.chunkSize)) {
    digests.push(chunk.digest);
    const parsed = chunk.lines.map((line) => ({ line, event: parse(line) }));
    const ids = parsed.flatMap(({ event }) => (E.isRight(event) && event.right.id ? [event.right.id] : []));
    const stored = ids.length > 0 ? await store.readByIds(ids) : new Map<string, never>();
    for (const { line, event } of parsed) {
      lines = line.n;
      if (E.isLeft(event)) {
        for (const p of event.left.problems) problems.push(`line ${line.n}: ${p}`);
      } else {
        const id = event.right.id;
        const verdict = id === undefined ? undefined : judgeId(stored, seenIds, line.n, id, event.right);
        if (verdict?._tag === 'Again') {
          skip.add(line.n);
          continue;
        }
        if (verdict?._tag === 'Taken') problems.push(`line ${line.n}: ${verdict.problem}`);
        else
          for (const p of strictness(s, overlay, event.right, opts.checkDestination))
            problems.push(`line ${line.n}: ${p}`);
        if (kept !== null) {
          kept.push(writeOf(event.right));
          if (kept.length > limit) kept = null;
        }
      }
      // One problem past the limit proves there are more; stopping at the limit would not.
      if (problems.length > opts.maxProblems) {
        more = true;
        break outer;
      }
    }
  }
  if (problems.length > 0) {
    return E.left({ _tag: 'Rejected', problems: problems.slice(0, opts.maxProblems), more });
  }

  let changed = false;
  async function* writes(): AsyncGenerator<readonly StreamWrite[]> {
    if (kept !== null) {
      for (let i = 0; i < kept.length; i += opts.chunkSize) yield kept.slice(i, i + opts.chunkSize);
      return;
    }
    let read = 0;
    for await (const chunk of chunksOf(open(), opts.chunkSize)) {
      if (chunk.digest !== digests[read++]) {
        changed = true;
        return;
      }
      const batch: StreamWrite[] = [];
      for (const line of chunk.lines) {
        // Every line of a chunk with the checked digest was checked, and read: no line is unreadable.
        if (skip.has(line.n) || !('text' in line)) continue;
        batch.push(writeOf(JSON.parse(line.text) as InputEvent));
      }
      if (batch.length > 0) yield batch;
    }
    // A file cut short since: its last chunks were checked and are not there to append.
    if (read < digests.length) changed = true;
  }
  const r = await store.appendAll(writes(), () => (changed ? CHANGED : undefined))();
  if (E.isLeft(r))
    return E.left(
      r.left._tag === 'Withdrawn'
        ? { _tag: 'FileChanged' }
        : { _tag: 'StoreFailed', message: 'message' in r.left ? r.left.message : r.left._tag },
    );
  // The state is not caught up here: whoever uses it next catches up first, and a CLI ingest exits.
  return E.right({ lines, appended: r.right.appended, duplicates: skip.size });
};
