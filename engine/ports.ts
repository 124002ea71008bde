// The two ports the engine drives (docs/architecture.md, "Architecture"): an EventStore and a Destination.
// Adapters implement them; one contract suite per port (test/contract) holds every adapter to the same.
import type { TaskEither } from 'fp-ts/lib/TaskEither.js';
import type * as t from 'io-ts';
import type { Command, CommandOutcome, DestinationTypeDescription } from '../domain/command.js';
import type { DestinationConfig } from '../domain/destination.js';
import type { ObservedRecord } from '../domain/decision.js';
import type { SyncModeName } from '../domain/modes.js';

/** An event as stored: global position (1-based, total order) and revision within its stream (0-based). */
export type StoredEvent = {
  readonly position: number;
  readonly stream: string;
  readonly revision: number;
  readonly id: string;
  readonly type: string;
  readonly data: unknown;
  readonly occurredAt: string;
  readonly recordedAt: string;
};

export type NewEvent = {
  readonly id?: string;
  readonly type: string;
  readonly data: unknown;
  readonly occurredAt?: string;
  /**
   * Secondary keys the event can be found by besides its stream (`readTagged`): a group membership
   * is tagged with its profile, a batch of decisions with each profile it decided for.
   */
  readonly tags?: readonly string[];
};

/**
 * The revision a writer expects its stream to be at: a number (its last revision; -1 means the same
 * as 'no-stream'), 'no-stream' (it must not exist yet), or 'any' (no check).
 */
export type ExpectedRevision = number | 'no-stream' | 'any';

export type StreamWrite = {
  readonly stream: string;
  readonly events: readonly NewEvent[];
  readonly expected: ExpectedRevision;
};

export type StoreError =
  | {
      readonly _tag: 'WrongExpectedRevision';
      readonly stream: string;
      readonly expected: ExpectedRevision;
      readonly actual: number | 'no-stream';
    }
  | {
      readonly _tag: 'CheckpointConflict';
      readonly name: string;
      readonly expected: number | null;
      readonly actual: number | null;
    }
  | { readonly _tag: 'StoreUnavailable'; readonly message: string }
  /** appendAll's caller withdrew the append once its batches were in: nothing was stored */
  | { readonly _tag: 'Withdrawn'; readonly message: string };

/**
 * How a store's reading ends when the store itself fails (a damaged file, a lost connection, a
 * closed store): an async iterable has no way to hand back a value instead of its next event, so it
 * throws this, carrying the failure as a value, and a read that answers with a promise (`head`,
 * `readByIds`, `getCheckpoint`, …) rejects with it. Anything else a read throws or rejects with is a bug.
 */
export class StoreReadFailed extends Error {
  constructor(readonly failure: StoreError) {
    super('message' in failure ? failure.message : failure._tag);
    this.name = 'StoreReadFailed';
  }
}

export type AppendResult = {
  /** events actually stored (events whose id was already stored are skipped) */
  readonly appended: readonly StoredEvent[];
  /** per stream written, its last revision after the write (-1 for none) */
  readonly revisions: Readonly<Record<string, number>>;
};

/** What a store found when it checked its own storage (see EventStore.checkIntegrity). */
export type Integrity = {
  /** how the store checked, in its own terms (the SQLite store: `PRAGMA integrity_check`) */
  readonly check: string;
  /** what it found wrong, in its own words, the first few; none when the storage is sound */
  readonly findings: readonly string[];
};

export type EventStore = {
  /**
   * Appends to one or more streams atomically: every expected revision holds, or nothing is written.
   * Writes are checked in order, so a stream written twice in one call sees its first write. An event
   * whose id is already stored (or appeared earlier in the call) is skipped and takes no revision;
   * a missing id becomes a fresh UUID, a missing occurredAt the time of recording.
   */
  readonly append: (writes: readonly StreamWrite[]) => TaskEither<StoreError, AppendResult>;
  /**
   * Appends batches as they arrive, all in one transaction: every batch lands, or none does (a
   * refused batch, or a source that throws, rolls everything back). For ingesting a file too large
   * to hold in memory; other writers wait until it commits. Once the batches have ended, `withdraw`
   * is asked before committing: a reason (ingest's file changed while it was read) rolls everything
   * back too, as Withdrawn with that reason. Returns how many events were stored.
   */
  readonly appendAll: (
    batches: AsyncIterable<readonly StreamWrite[]>,
    withdraw?: () => string | undefined,
  ) => TaskEither<StoreError, { readonly appended: number }>;
  /** The stream's events from `fromRevision` (inclusive), in revision order. */
  readonly readStream: (stream: string, fromRevision?: number) => AsyncIterable<StoredEvent>;
  /** The events carrying `tag`, in position order, found through an index (never a scan). */
  readonly readTagged: (tag: string) => AsyncIterable<StoredEvent>;
  /**
   * Every event after `afterPosition` (exclusive; 0 = from the start), in position order. With
   * `leaveOut`, the events of streams whose name starts with it are left out, never read or decoded:
   * replaying one destination reads the inputs without every destination's record of decisions.
   */
  readonly readAll: (
    afterPosition?: number,
    batchSize?: number,
    leaveOut?: string,
  ) => AsyncIterable<StoredEvent>;
  /** Like readAll, then waits for new events until `signal` aborts. */
  readonly subscribe: (afterPosition: number, signal: AbortSignal) => AsyncIterable<StoredEvent>;
  /** The last stream revision (-1 if the stream does not exist). */
  readonly streamRevision: (stream: string) => Promise<number>;
  /** The position of the last stored event (0 for an empty store). */
  readonly head: () => Promise<number>;
  /** Which of these event ids are stored already. */
  readonly knownIds: (ids: readonly string[]) => Promise<ReadonlySet<string>>;
  /**
   * The stored events with these ids, by id; an id not stored is not in the map. Ingest compares a
   * line whose id is stored with the event stored under it: the same event again, or another one.
   */
  readonly readByIds: (ids: readonly string[]) => Promise<ReadonlyMap<string, StoredEvent>>;
  readonly getCheckpoint: (name: string) => Promise<number | null>;
  /** Compare-and-set: succeeds only if the checkpoint currently equals `expected` (null = unset). */
  readonly setCheckpoint: (
    name: string,
    expected: number | null,
    value: number,
  ) => TaskEither<StoreError, void>;
  /**
   * Makes every append acknowledged so far durable: on disk, surviving a power cut. The engine asks
   * before it hands commands to a destination, so no command is applied that the store could lose.
   * A store that makes each append durable before acknowledging it has nothing left to do.
   */
  readonly flush: () => TaskEither<StoreError, void>;
  /**
   * Checks the storage under the store (the SQLite store: every page and index of its file), not
   * what the events mean. Commands read only what they need, and the engine state file spares them
   * the events it has folded, so damage there goes unseen until asked for (`syncline status --check`). Reads the
   * whole store: it costs about what reading every event once costs. A store with no storage of its
   * own to damage (memory) is always sound. Damage that stops the check half-way is a finding; a
   * StoreError means the check could not run at all (a closed store).
   */
  readonly checkIntegrity: () => TaskEither<StoreError, Integrity>;
  /** Closes the store, every acknowledged append made durable first. */
  readonly close: () => Promise<void>;
};

export type DestinationError =
  | { readonly _tag: 'DestinationUnavailable'; readonly message: string; readonly retryable: boolean }
  | { readonly _tag: 'DestinationMisconfigured'; readonly message: string };

export type Destination = {
  readonly describe: () => DestinationTypeDescription;
  /** The records held under any of these keys (absent keys are simply not returned). */
  readonly lookup: (keys: readonly string[]) => TaskEither<DestinationError, readonly ObservedRecord[]>;
  /**
   * How many records the destination holds, or null when it has nowhere to hold them yet (its table
   * or file does not exist). Never creates anything. A run compares it with the ledger: a destination
   * that lost every record syncline wrote there (a file deleted, a table emptied) gets a full run.
   * With `atMost`, counting may stop there (a run only asks whether there is any record at all).
   * Optional: without it, syncline cannot notice lost records.
   */
  readonly count?: (atMost?: number) => TaskEither<DestinationError, number | null>;
  /** One outcome per command, in order. Applying a command twice has the same effect as once. */
  readonly apply: (commands: readonly Command[]) => TaskEither<DestinationError, readonly CommandOutcome[]>;
  /**
   * Called when a run has finished, and not awaited by it: the time between runs is the destination's
   * to tidy up in (the SQLite destination checkpoints its write-ahead log there, rather than in the
   * middle of the next run's apply). Resolves when the tidying is done, for a caller that wants the
   * destination quiet (a benchmark); never rejects. Optional.
   */
  readonly tidy?: () => Promise<void>;
  /**
   * Called as a run (or a plan) starts, with how many profiles it will look at: a destination may
   * serve a short run differently from a long one (the SQLite destination answers a short run on the
   * caller's thread rather than booting its threads). Optional.
   */
  readonly expect?: (profiles: number) => void;
  /**
   * 'ledger': the destination cannot be asked what it holds (an http receiver without lookups), so
   * what syncline last wrote there stands for it; `lookup` is then never called. Optional.
   */
  readonly observes?: 'ledger';
  readonly close: () => Promise<void>;
};

export type OpenError = { readonly _tag: 'OpenFailed'; readonly message: string };

/**
 * What a destination type asks of a configured destination beyond the destination codec, declared
 * once and checked alike by `validate`, `apply`, `ingest` and `open`: each option's value (a literal,
 * or a variable's once it is read) and each destination field name. A codec's messages must not
 * repeat the value they refuse: a variable's value may be a secret.
 */
export type DestinationChecks = {
  /** by option name, the options the description lists */
  readonly options: Readonly<Record<string, t.Decoder<unknown, unknown>>>;
  /** a rule between options, given the options as they will be used; each problem names its option */
  readonly between?: (
    options: Readonly<Record<string, unknown>>,
  ) => readonly { readonly option: string; readonly problem: string }[];
  /** a destination field name of the mapping (a SQLite column name cannot hold NUL) */
  readonly field?: t.Decoder<unknown, string>;
  /**
   * by option name, what an option written in the config itself must also keep (not one read from a
   * variable): the config is recorded in the store, so a literal must not hold a secret, a password
   */
  readonly literal?: Readonly<Record<string, t.Decoder<unknown, unknown>>>;
  /**
   * Why the options as configured rule out `mode` (one the type supports otherwise), or undefined:
   * an http receiver without lookups cannot be enriched
   */
  readonly mode?: (options: Readonly<Record<string, unknown>>, mode: SyncModeName) => string | undefined;
};

/** A destination type: its description, and how to open one for a configured destination. */
export type DestinationType = {
  readonly description: DestinationTypeDescription;
  /** Without checks, options are checked for presence only (see registry.ts). */
  readonly checks?: DestinationChecks;
  /**
   * `env` resolves `{"env": "NAME"}` options; a missing variable, or a value the checks refuse, is an
   * OpenFailed naming option and variable. No message of the destination repeats a variable's value.
   */
  readonly open: (config: DestinationConfig, env: NodeJS.ProcessEnv) => TaskEither<OpenError, Destination>;
  /**
   * What `validate` finds wrong with the destination where it lives, without writing anything (a
   * server that does not answer, a table that lacks a column): one line per problem, none when all is
   * well. Called only once the options check. Never rejects; no line repeats a variable's value.
   * Optional: a type without it is checked by its options only.
   */
  readonly probe?: (config: DestinationConfig, env: NodeJS.ProcessEnv) => () => Promise<readonly string[]>;
};
