// A destination and a store that note what the engine asks of them before doing it, for specs about
// the order and size of a run's lookups, applies, appends and tidying up.
import type { Command } from '../../domain/command.js';
import type { Destination, EventStore, NewEvent } from '../../engine/ports.js';

export type Notes = {
  readonly lookup?: (keys: readonly string[]) => void;
  readonly apply?: (commands: readonly Command[]) => void;
  readonly tidy?: () => void;
};

/** `real`, telling `notes` the keys of each lookup and the commands of each apply as they are asked. */
export const notingDestination = (real: Destination, notes: Notes): Destination => ({
  ...real,
  lookup: (keys) => () => (notes.lookup?.(keys), real.lookup(keys)()),
  apply: (commands) => () => (notes.apply?.(commands), real.apply(commands)()),
  tidy: async () => {
    notes.tidy?.();
    await real.tidy?.();
  },
});

/** `real`, telling `note` each event it is asked to append, in order. */
export const notingStore = (real: EventStore, note: (event: NewEvent) => void): EventStore => ({
  ...real,
  append: (writes) => () => {
    for (const write of writes) for (const e of write.events) note(e);
    return real.append(writes)();
  },
});
