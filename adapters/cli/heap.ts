// How the syncline process lets V8 grow its heap: a fixed, modest growth step instead of V8's
// adaptive one, which lets a large sync's heap grow to three times what it really holds.
import { setFlagsFromString } from 'node:v8';
import * as E from 'fp-ts/lib/Either.js';
import { usageError, type CliError } from './errors.js';

/** The heap may grow by this much beyond what survived the last full collection. */
export const DEFAULT_HEAP_GROWTH_PERCENT = 30;

/**
 * A first sync builds its ledger while it allocates the record of every batch, and V8 answers a
 * heap that keeps growing by letting it grow faster: at a million profiles, 1.6 GiB of resident
 * memory for a 0.6 GiB live set. A 30% step keeps that run at about 1.05 GiB at the same speed,
 * since the collections it adds are short while the live set is small. SYNCLINE_HEAP_GROWTH_PERCENT
 * sets another step; 0 leaves V8's adaptive policy. A process-wide setting, so only the executable
 * calls it: a library must not change its host's V8 flags. Right(the step applied, if any), or a
 * UsageError saying why the variable's value is refused.
 */
export const limitHeapGrowth = (env: NodeJS.ProcessEnv): E.Either<CliError, number | undefined> => {
  const asked = env.SYNCLINE_HEAP_GROWTH_PERCENT;
  const percent = asked === undefined || asked === '' ? DEFAULT_HEAP_GROWTH_PERCENT : Number(asked);
  if (!Number.isInteger(percent) || percent < 0)
    return E.left(
      usageError(
        `SYNCLINE_HEAP_GROWTH_PERCENT: ${JSON.stringify(asked)} is not a whole number of percent (0 leaves V8's own policy)`,
      ),
    );
  if (percent === 0) return E.right(undefined);
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  return E.right(percent);
};
