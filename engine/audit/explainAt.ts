// explain --at T: the desired record, the records syncline knew of and the ledger as they stood at
// T, and what decide() gives for them: what a sync at that moment would have decided, and why.
import { decide } from '../../domain/decide.js';
import type { LedgerEntry, ObservedRecord, Verdict } from '../../domain/decision.js';
import type { DestinationConfig } from '../../domain/destination.js';
import type { SyncModeName } from '../../domain/modes.js';
import type { Properties } from '../../domain/values.js';
import { profileOf } from '../../projections/world.js';
import type { ProfileHistory } from './history.js';
import { reasonFor, scopeWords } from './reasons.js';
import { desiredOf, keysFor, modeOf, type Cursor, type Desired, type Known } from './story.js';

export type AtState = {
  readonly at: string;
  /** the last store position recorded by then, among the events this profile's story reads */
  readonly position: number;
  readonly mode: SyncModeName | null;
  readonly desired: {
    readonly inScope: boolean;
    readonly scope: string;
    readonly key: string | null;
    readonly fields: Properties;
    readonly groups: readonly string[];
  };
  readonly observed: {
    readonly records: readonly ObservedRecord[];
    /** keys no run had looked up by then: assumed to hold no record */
    readonly unknownKeys: readonly string[];
    readonly lastObservation: {
      readonly runId: string;
      readonly at: string;
      readonly position: number;
    } | null;
    /** this profile's commands applied after that observation, laid over it */
    readonly appliedSince: number;
  };
  readonly ledger: LedgerEntry | null;
  readonly claims: Readonly<Record<string, string>>;
  /** null when the destination was not configured at T */
  readonly verdict: Verdict | null;
  readonly reason: string;
  /** where the answer is an approximation, and why */
  readonly notes: readonly string[];
};

/** The last position the store held at time `at` among the events read (by when they were recorded). */
export const cutoffOf = (h: ProfileHistory, at: string): number => {
  const t = Date.parse(at);
  let last = 0;
  for (const e of [...h.inputs, ...h.configs, ...h.sync])
    if (Date.parse(e.recordedAt) <= t && e.position > last) last = e.position;
  return last;
};

export type AtInput = {
  readonly at: string;
  readonly position: number;
  readonly cursor: Cursor;
  readonly mode: (type: string) => SyncModeName;
  readonly profileId: string;
  readonly ledger: LedgerEntry | undefined;
  readonly claims: Readonly<Record<string, string>>;
  readonly observation: AtState['observed']['lastObservation'];
  readonly appliedSince: number;
  readonly known: Known;
};

export const atState = (a: AtInput): AtState => {
  const config = a.cursor.config;
  const wanted = desiredOf(config, a.cursor.world, a.profileId);
  const ledger = a.ledger ?? null;
  const keys = keysFor(wanted, ledger);
  const records = keys.flatMap((k) => {
    const r = a.known.get(k);
    return r === undefined || r === null ? [] : [r];
  });
  const unknownKeys = keys.filter((k) => !a.known.has(k));
  const judged = config === null ? UNCONFIGURED : judgedAt(a, config, wanted, records, ledger);
  return {
    at: a.at,
    position: a.position,
    mode: judged.mode,
    desired: {
      inScope: wanted.inScope,
      scope: judged.scope,
      key: wanted.key,
      fields: wanted.fields,
      groups: wanted.groups,
    },
    observed: { records, unknownKeys, lastObservation: a.observation, appliedSince: a.appliedSince },
    ledger,
    claims: a.claims,
    verdict: judged.verdict,
    reason: judged.reason,
    notes: notesAt(a, unknownKeys),
  };
};

/** What decide() gives at T, and why; the scope in words. */
type Judged = Pick<AtState, 'mode' | 'verdict' | 'reason'> & { readonly scope: string };

const UNCONFIGURED: Judged = {
  mode: null,
  scope: 'the destination is not configured',
  verdict: null,
  reason: 'the destination was not configured at that time',
};

const judgedAt = (
  a: AtInput,
  config: DestinationConfig,
  wanted: Desired,
  records: ObservedRecord[],
  ledger: LedgerEntry | null,
): Judged => {
  const mode = modeOf(config, a.mode);
  const ctx = {
    destination: config,
    mode,
    profileId: a.profileId,
    world: a.cursor.world,
    everJoined: a.cursor.everJoined,
    key: wanted.inScope ? (wanted.key ?? undefined) : undefined,
    ledger,
    observed: records,
    claims: a.claims,
  };
  const verdict = decide({
    destination: config,
    mode,
    profileId: a.profileId,
    profile: profileOf(a.cursor.world, a.profileId),
    observed: records,
    ledger,
    claims: a.claims,
  });
  return { mode, scope: scopeWords(ctx), verdict, reason: reasonFor(ctx, verdict) };
};

/** Where the answer is an approximation, and why. */
const notesAt = (a: AtInput, unknownKeys: readonly string[]): string[] => [
  a.observation === null
    ? 'no run had looked this profile up by then: the destination is assumed to hold none of its keys'
    : `observed: what run ${a.observation.runId.slice(0, 8)} saw at ${a.observation.at}` +
      (a.appliedSince > 0
        ? `, with this profile's ${a.appliedSince} applied command(s) since laid over it`
        : '') +
      '; changes others made to the destination are not known',
  ...(unknownKeys.length > 0 && a.observation !== null
    ? [`key ${unknownKeys.join(', ')} had not been looked up by then: assumed to hold no record`]
    : []),
  Object.keys(a.claims).length > 0
    ? "other profiles' claims on its keys are those recorded with its latest decision"
    : 'no claim by another profile was recorded with its latest decision; none is assumed',
];
