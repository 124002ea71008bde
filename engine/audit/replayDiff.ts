// What-if replay in words: a recorded decision and the one another mode or config would have made,
// classified by outcome ("created" vs "skipped"), counted, and the caveats a changed config brings.
import { keptInPlace } from '../../domain/decide.js';
import type { Decision, Verdict } from '../../domain/decision.js';
import type { DestinationConfig } from '../../domain/destination.js';
import { canonicalJson, compareStrings } from '../../domain/values.js';

/** What a decision does to a profile's record, as an operator says it: its fate. */
export type RecordFate = 'created' | 'updated' | 'deleted' | 'skipped' | 'kept' | 'left alone';

/** One profile whose decision would have differed: what was recorded and what would have been. */
export type Difference = {
  readonly profileId: string;
  /** `<would>/<recorded>`, e.g. `created/skipped` */
  readonly kind: string;
  /** null: nothing was recorded for the profile (its run needed nothing) */
  readonly recorded: Decision | null;
  readonly would: Verdict;
};

export type DifferenceCount = {
  readonly kind: string;
  readonly would: RecordFate;
  readonly recorded: RecordFate;
  readonly count: number;
};

const fateOf = (v: Verdict | null): RecordFate => {
  if (v === null) return 'left alone';
  switch (v.operation) {
    case 'nothing':
      return 'left alone';
    case 'create':
      return 'created';
    case 'delete':
      return 'deleted';
    case 'skip':
      return 'skipped';
    case 'update':
      // A mode that does not delete leaves the leaver in place, stripped of managed groups.
      return keptInPlace(v) ? 'kept' : 'updated';
  }
};

const splitKind = (kind: string): [RecordFate, RecordFate] => kind.split('/') as [RecordFate, RecordFate];

/** The kind of a difference; a record left alone beside one deleted is a record kept. */
export const kindOf = (recorded: Decision | null, would: Verdict): string => {
  let was = fateOf(recorded);
  let now = fateOf(would);
  if (now === 'deleted' && was === 'left alone') was = 'kept';
  if (was === 'deleted' && now === 'left alone') now = 'kept';
  return `${now}/${was}`;
};

/** Counts by kind, the largest first (then by kind, so the order is stable). */
export const countKinds = (differences: readonly Difference[]): DifferenceCount[] => {
  const counts = new Map<string, number>();
  for (const d of differences) counts.set(d.kind, (counts.get(d.kind) ?? 0) + 1);
  return [...counts]
    .map(([kind, count]) => {
      const [would, recorded] = splitKind(kind);
      return { kind, would, recorded, count };
    })
    .sort((a, b) => b.count - a.count || compareStrings(a.kind, b.kind));
};

/** `would have created 120 profiles that enrich skipped`. */
export const sentence = (c: DifferenceCount, recordedMode: string): string => {
  const profiles = `${c.count} ${c.count === 1 ? 'profile' : 'profiles'}`;
  return c.would === c.recorded
    ? `would have ${c.would} ${profiles} differently than ${recordedMode} did`
    : `would have ${c.would} ${profiles} that ${recordedMode} ${c.recorded}`;
};

const keyProperty = (d: DestinationConfig): string | undefined => d.mapping[d.keyField];

/**
 * What a recomputation under `alternative` cannot see because the run observed the destination under
 * `recorded`: the recorded lookups only cover the keys, and the profiles, that config asked about.
 */
export const caveats = (recorded: DestinationConfig, alternative: DestinationConfig): string[] => {
  const notes: string[] = [];
  if (recorded.keyField !== alternative.keyField || keyProperty(recorded) !== keyProperty(alternative)) {
    notes.push(
      `the key differs (${recorded.keyField} from ${keyProperty(recorded) ?? '?'} → ${alternative.keyField} from ` +
        `${keyProperty(alternative) ?? '?'}): profiles whose key was not looked up then are listed as not observed, not guessed`,
    );
  }
  if (canonicalJson(recorded.mapping) !== canonicalJson(alternative.mapping)) {
    notes.push(
      'the mapping differs: fields are compared with the records as the run observed them, which may lack ' +
        'fields the recorded mapping did not write',
    );
  }
  if (canonicalJson(recorded.collection) !== canonicalJson(alternative.collection)) {
    notes.push(
      'the collection differs: only the profiles the run looked at are recomputed; profiles the new ' +
        'collection would have brought in, but that the run never looked at, are not listed',
    );
  }
  return notes;
};
