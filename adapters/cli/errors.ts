// The ways a CLI command can fail, as tagged values, and the lines that tell the user about each.
// Commands return these; main alone turns them into an exit code and `syncline: ...` lines.
import type { ApplyError } from '../../engine/input/configure.js';
import type { StoreReadFailed } from '../../engine/ports.js';
import { invalidStoredMessage, type InvalidStoredEvent } from '../../engine/state/storedEvents.js';
import type { RetryError } from '../../engine/sync/retry.js';

export type CliError =
  /** bad command line: unknown command or option, missing argument (exit 2) */
  | { readonly _tag: 'UsageError'; readonly message: string }
  | { readonly _tag: 'CannotRead'; readonly file: string; readonly reason: string }
  | { readonly _tag: 'InvalidJson'; readonly file: string; readonly reason: string }
  /** input that parsed but does not hold: one `path: message` line per problem */
  | { readonly _tag: 'InvalidInput'; readonly source: string; readonly problems: readonly string[] }
  | { readonly _tag: 'UnknownDestinationType'; readonly type: string; readonly known: readonly string[] }
  /** the event store cannot be opened or refused a write */
  | { readonly _tag: 'StoreFailed'; readonly message: string }
  /** a destination could not be opened, or failed a run */
  | { readonly _tag: 'DestinationFailed'; readonly message: string }
  /** another process is syncing this destination */
  | { readonly _tag: 'Busy'; readonly destinationId: string; readonly runId: string }
  /** the engine state file holds something it cannot give back: rebuilt, it is folded again */
  | { readonly _tag: 'StateDamaged'; readonly path: string; readonly what: string }
  /** the command did its work, but some of it failed (failed commands, refused runs) */
  | { readonly _tag: 'Failed'; readonly message: string }
  /** a bug: something threw that should have been a value */
  | { readonly _tag: 'Unexpected'; readonly message: string };

export const usageError = (message: string): CliError => ({ _tag: 'UsageError', message });
export const cannotRead = (file: string, reason: string): CliError => ({ _tag: 'CannotRead', file, reason });
export const invalidJson = (file: string, reason: string): CliError => ({
  _tag: 'InvalidJson',
  file,
  reason,
});
export const invalidInput = (source: string, problems: readonly string[]): CliError => ({
  _tag: 'InvalidInput',
  source,
  problems,
});
export const unknownDestinationType = (type: string, known: readonly string[]): CliError => ({
  _tag: 'UnknownDestinationType',
  type,
  known,
});
export const storeFailed = (message: string): CliError => ({ _tag: 'StoreFailed', message });
/** A stored event that does not decode: the store is damaged, and the command stops there. */
export const storeDamaged = (e: InvalidStoredEvent): CliError => storeFailed(invalidStoredMessage(e));
export const destinationFailed = (message: string): CliError => ({ _tag: 'DestinationFailed', message });
export const failed = (message: string): CliError => ({ _tag: 'Failed', message });
export const stateDamaged = (path: string, what: string): CliError => ({ _tag: 'StateDamaged', path, what });

/** `apply` recorded nothing: the store holds an invalid event, or refused the configuration. */
export const notApplied = (e: ApplyError): CliError =>
  e._tag === 'InvalidStoredEvent'
    ? storeDamaged(e)
    : storeFailed(`could not record the configuration: ${e.failure._tag}`);

/** `retry` recorded nothing, and why. */
export const notRetried = (e: RetryError): CliError => {
  switch (e._tag) {
    case 'InvalidStoredEvent':
      return failed(invalidStoredMessage(e));
    case 'UnknownDestination':
      return failed(`destination ${e.destinationId} is not configured`);
    case 'Busy':
      return failed(
        e.runId === null
          ? `destination ${e.destinationId} is being synced by another process; try again when it finishes`
          : `destination ${e.destinationId} is being synced by another process (run ${e.runId}); retry when it finishes`,
      );
    case 'RetryNotRecorded':
      return failed(`could not record the retry: ${e.failure._tag}`);
  }
};

/** The store failed while a command read it (see StoreReadFailed): the environment's doing, not a bug. */
export const storeUnreadable = (e: StoreReadFailed): CliError => {
  const f = e.failure;
  const message = 'message' in f ? f.message : f._tag;
  return storeFailed(
    `the store could not be read: ${message}; \`syncline status --check\` checks it for damage`,
  );
};

export const unexpected = (e: unknown): CliError => ({
  _tag: 'Unexpected',
  message: e instanceof Error ? (e.stack ?? e.message) : String(e),
});

/**
 * What to print for an error, one reason per line (main prefixes each with `syncline: `). Every
 * problem of an invalid input gets its own line, naming the source, so none hides behind the first.
 */
export const errorLines = (e: CliError): string[] => {
  switch (e._tag) {
    case 'UsageError':
      return [e.message];
    case 'CannotRead':
      return [`cannot read ${e.file}: ${e.reason}`];
    case 'InvalidJson':
      return [`${e.file} is not valid JSON: ${e.reason}`];
    case 'InvalidInput':
      // Exactly the problems, each already naming its place (`line 3: data.profileId: ...`,
      // `destination.syncMode: ...`): a script can match them line for line.
      return [...e.problems];
    case 'UnknownDestinationType':
      return [`unknown destination type '${e.type}' (known types: ${e.known.join(', ')})`];
    case 'StoreFailed':
    case 'DestinationFailed':
    case 'Failed':
      return [e.message];
    case 'StateDamaged':
      return [
        `the engine state in ${e.path} is damaged (${e.what}): run the command again with --rebuild-state`,
      ];
    case 'Busy':
      return [`destination ${e.destinationId} is being synced by another process (run ${e.runId})`];
    case 'Unexpected':
      return [`internal error: ${e.message.split('\n')[0] ?? ''}`];
  }
};
