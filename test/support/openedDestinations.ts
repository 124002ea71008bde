// A destination type's adapter opened from its specs: apply and lookup answer what they did, failing
// the spec on a call that fails; each destination opened is kept, to be closed after the file's specs.
import type { Command, CommandOutcome } from '../../domain/command.js';
import type { DestinationConfig } from '../../domain/destination.js';
import type { Destination, DestinationType } from '../../engine/ports.js';

/** Opens destinations of `type`; closeAll closes every one opened (for afterAll). */
export const openedDestinations = (type: DestinationType) => {
  const opened: Destination[] = [];
  return {
    open: async (config: DestinationConfig, env: NodeJS.ProcessEnv): Promise<Destination> => {
      const r = await type.open(config, env)();
      if (r._tag === 'Left') throw new Error(r.left.message);
      opened.push(r.right);
      return r.right;
    },
    closeAll: () => Promise.all(opened.map((d) => d.close())),
  };
};

/** The outcome of each of `commands`, applied to `d` in one call. */
export const applied = async (d: Destination, commands: Command[]): Promise<readonly CommandOutcome[]> => {
  const r = await d.apply(commands)();
  if (r._tag === 'Left') throw new Error(r.left.message);
  return r.right;
};

/** The fields of the record `d` holds under `key`, if it holds one. */
export const fieldsOf = async (d: Destination, key: string) => {
  const r = await d.lookup([key])();
  if (r._tag === 'Left') throw new Error(r.left.message);
  return r.right[0]?.fields;
};
