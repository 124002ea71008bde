// The in-memory destination: records in a Map, for tests, the demo and as the reference behaviour of
// the Destination port. Tests can seed and inspect records and make chosen applies or calls fail.
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import type { Command, CommandOutcome, DestinationTypeDescription } from '../../domain/command.js';
import type { ObservedRecord } from '../../domain/decision.js';
import type { DestinationConfig } from '../../domain/destination.js';
import { SYNC_MODES } from '../../domain/modes.js';
import { compareStrings, keyOf, putAllNamed, type Properties } from '../../domain/values.js';
import type { Destination, DestinationError, DestinationType } from '../../engine/ports.js';
import { resolveOptions } from './options.js';
import { withoutSecrets } from './secrets.js';

export const memoryDescription: DestinationTypeDescription = {
  type: 'memory',
  description: 'Records held in memory by the running process (tests and the demo); nothing is persisted.',
  modes: [...SYNC_MODES],
  defaultMode: 'sync',
  options: [],
};

/** How an injected failure reports: the outcome a real destination would give for that command. */
export type MemoryFault = {
  readonly retryable: boolean;
  readonly message?: string;
  readonly retryAfterMs?: number;
};

type Held = { fields: Properties; groups: Set<string> };
type KeyFault = { remaining: number; fault: MemoryFault };
type CallFault = { remaining: number; error: DestinationError };

/** The records behind one or more memory destinations, with the hooks tests use. */
export type MemoryRecords = {
  /** Every record, sorted by key; copies, so later applies do not change them. */
  readonly records: () => readonly ObservedRecord[];
  /** Adds or replaces records, as if someone else had written them to the destination. */
  readonly seed: (records: readonly ObservedRecord[]) => void;
  /** Drops every record, as a deleted file or an emptied table would (for specs of lost records). */
  readonly forget: () => void;
  /** The next `times` commands addressed to `key` fail with `fault` and change nothing. */
  readonly failNextApplies: (key: string, times: number, fault: MemoryFault) => void;
  /** The next `times` calls of `lookup` or `apply` fail as a whole with `error`. */
  readonly failNextCalls: (call: 'lookup' | 'apply', times: number, error: DestinationError) => void;
  /** Commands applied successfully, in order; one applied twice appears twice. */
  readonly applied: () => readonly Command[];
  /** A destination over these records, using `config` for its key field. */
  readonly destination: (config: DestinationConfig) => Destination;
};

const copy = (key: string, held: Held): ObservedRecord => ({
  key,
  fields: structuredClone(held.fields),
  groups: [...held.groups].sort(compareStrings),
});

const ok = (c: Command): CommandOutcome => ({ commandId: c.commandId, status: 'ok' });
const failed = (c: Command, message: string, retryable = false, retryAfterMs?: number): CommandOutcome =>
  retryAfterMs === undefined
    ? { commandId: c.commandId, status: 'error', retryable, message }
    : { commandId: c.commandId, status: 'error', retryable, message, retryAfterMs };

const changeRecord = (held: Held, c: Command): void => {
  putAllNamed(held.fields, structuredClone(c.fields.set));
  for (const f of c.fields.unset) delete held.fields[f];
  for (const g of c.groups.add) held.groups.add(g);
  for (const g of c.groups.remove) held.groups.delete(g);
};

const applyOne = (records: Map<string, Held>, keyField: string, c: Command): CommandOutcome => {
  if (c.fields.unset.includes(keyField)) return failed(c, `cannot unset the key field ${keyField}`);
  const setsKey = Object.hasOwn(c.fields.set, keyField);
  const newKey = setsKey ? keyOf(c.fields.set[keyField]) : c.key;
  if (newKey === undefined) return failed(c, `cannot set the key field ${keyField} to no value`);
  switch (c.operation) {
    case 'delete':
      records.delete(c.key);
      return ok(c);
    case 'create': {
      const held = records.get(c.key) ?? { fields: {}, groups: new Set<string>() };
      changeRecord(held, c);
      records.set(c.key, held);
      return ok(c);
    }
    case 'update': {
      const held = records.get(c.key);
      if (held === undefined) {
        // A rename applied before left the record under its new key: finish the command there.
        const renamed = newKey !== c.key ? records.get(newKey) : undefined;
        if (renamed === undefined) return failed(c, `no record with key ${c.key}`);
        changeRecord(renamed, c);
        return ok(c);
      }
      if (newKey !== c.key) {
        if (records.has(newKey)) return failed(c, `cannot rename ${c.key} to ${newKey}: that key is taken`);
        // The record moves as a whole, so lists and tags syncline does not manage move with it.
        records.delete(c.key);
        records.set(newKey, held);
      }
      changeRecord(held, c);
      return ok(c);
    }
  }
};

export const createMemoryRecords = (initial: readonly ObservedRecord[] = []): MemoryRecords => {
  const records = new Map<string, Held>();
  const keyFaults = new Map<string, KeyFault>();
  const callFaults = new Map<'lookup' | 'apply', CallFault>();
  const log: Command[] = [];

  const seed = (rs: readonly ObservedRecord[]): void => {
    for (const r of rs) records.set(r.key, { fields: structuredClone(r.fields), groups: new Set(r.groups) });
  };
  seed(initial);

  const takeCallFault = (call: 'lookup' | 'apply'): DestinationError | undefined => {
    const f = callFaults.get(call);
    if (f === undefined) return undefined;
    if (--f.remaining <= 0) callFaults.delete(call);
    return f.error;
  };

  const takeKeyFault = (key: string): MemoryFault | undefined => {
    const f = keyFaults.get(key);
    if (f === undefined) return undefined;
    if (--f.remaining <= 0) keyFaults.delete(key);
    return f.fault;
  };

  const lookup = (keys: readonly string[]): E.Either<DestinationError, readonly ObservedRecord[]> => {
    const error = takeCallFault('lookup');
    if (error !== undefined) return E.left(error);
    const found: ObservedRecord[] = [];
    for (const key of new Set(keys)) {
      const held = records.get(key);
      if (held !== undefined) found.push(copy(key, held));
    }
    return E.right(found);
  };

  const apply = (
    keyField: string,
    commands: readonly Command[],
  ): E.Either<DestinationError, CommandOutcome[]> => {
    const error = takeCallFault('apply');
    if (error !== undefined) return E.left(error);
    return E.right(
      commands.map((c) => {
        const fault = takeKeyFault(c.key);
        if (fault !== undefined) {
          const message =
            fault.message ?? (fault.retryable ? 'injected retryable failure' : 'injected failure');
          return failed(c, message, fault.retryable, fault.retryAfterMs);
        }
        const outcome = applyOne(records, keyField, c);
        if (outcome.status === 'ok') log.push(c);
        return outcome;
      }),
    );
  };

  const destination = (config: DestinationConfig): Destination => ({
    describe: () => memoryDescription,
    // Work happens when the task runs, not when it is built, so re-running a task repeats the call.
    lookup: (keys) => () => Promise.resolve(lookup(keys)),
    count: (atMost) => () => Promise.resolve(E.right(Math.min(records.size, atMost ?? Infinity))),
    apply: (commands) => () => Promise.resolve(apply(config.keyField, commands)),
    close: () => Promise.resolve(),
  });

  return {
    records: () => [...records.keys()].sort(compareStrings).map((k) => copy(k, records.get(k) as Held)),
    seed,
    forget: () => records.clear(),
    failNextApplies: (key, times, fault) => {
      if (times > 0) keyFaults.set(key, { remaining: times, fault });
    },
    failNextCalls: (call, times, error) => {
      if (times > 0) callFaults.set(call, { remaining: times, error });
    },
    applied: () => [...log],
    destination,
  };
};

/** A fresh memory destination over `initial`, with the records' hooks beside it. */
export const openMemoryDestination = (
  config: DestinationConfig,
  initial: readonly ObservedRecord[] = [],
): Omit<MemoryRecords, 'destination'> & { readonly destination: Destination } => {
  const records = createMemoryRecords(initial);
  return { ...records, destination: records.destination(config) };
};

/** Opens after the checks `validate` makes (no options), as every type does. */
const opening =
  (records: () => MemoryRecords): DestinationType['open'] =>
  (config, env) =>
    TE.fromEither(
      E.map(() => records().destination(config))(
        resolveOptions(config, { description: memoryDescription }, env),
      ),
    );

/**
 * A memory type whose every open shares `records`: a test can reopen (e.g. after a crash) and inspect.
 * It takes no options, so no variable is read; wrapped all the same (see secrets.ts), as every type
 * is, so that a message holding a variable's value could not slip out should it ever take one.
 */
export const memoryDestinationTypeOver = (records: MemoryRecords): DestinationType =>
  withoutSecrets({ description: memoryDescription, open: opening(() => records) });

/** The registered memory type: each open starts empty, as nothing outlives the process anyway. */
export const memoryDestinationType: DestinationType = withoutSecrets({
  description: memoryDescription,
  open: opening(createMemoryRecords),
});
