// Equality the specs share: two ledgers' pending commands are equal when they hold the same commands
// in the same order, however their queues came to be laid out (a fold and a restore lay them out apart).
import { expect } from 'vitest';
import { pendingCommands, type Pending } from '../../projections/pending.js';

const isPending = (x: unknown): x is Pending =>
  typeof x === 'object' && x !== null && 'queue' in x && 'byProfile' in x && 'indexed' in x;

expect.addEqualityTesters([
  function samePending(this: { equals: (a: unknown, b: unknown) => boolean }, a: unknown, b: unknown) {
    if (!isPending(a) || !isPending(b)) return undefined;
    return a.size === b.size && this.equals([...pendingCommands(a)], [...pendingCommands(b)]);
  },
]);
