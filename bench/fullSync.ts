// A full sync in a process of its own, for the memory figure: opens the store, catches up, syncs
// one destination, and prints {ms, maxRssBytes, created} as JSON. Used by bench/run.ts.
// Like the syncline executable, it limits the heap's growth step (SYNCLINE_HEAP_GROWTH_PERCENT).
import * as E from 'fp-ts/lib/Either.js';
import { openSqliteStore } from '../adapters/stores/sqlite/store.js';
import { destinationTypes } from '../adapters/destinations/registry.js';
import { defaultSyncOptions, syncDestination } from '../engine/sync/run.js';
import { catchUp, initialState } from '../engine/state/engineState.js';
import { limitHeapGrowth } from '../adapters/cli/heap.js';

if (E.isLeft(limitHeapGrowth(process.env))) throw new Error('bad SYNCLINE_HEAP_GROWTH_PERCENT');

const [storePath, destinationId] = process.argv.slice(2);
if (storePath === undefined || destinationId === undefined)
  throw new Error('usage: fullSync STORE DESTINATION');
const store = openSqliteStore(storePath);
if (E.isLeft(store)) throw new Error(store.left.message);
const start = process.hrtime.bigint();
const caught = await catchUp(store.right, initialState());
if (E.isLeft(caught)) throw new Error(JSON.stringify(caught.left));
const state = caught.right;
const config = state.destinations.get(destinationId)?.config;
const type = config ? destinationTypes.get(config.type) : undefined;
if (!config || !type) throw new Error(`no destination ${destinationId}`);
const destination = await type.open(config, process.env)();
if (E.isLeft(destination)) throw new Error(destination.left.message);
const run = await syncDestination(store.right, state, destinationId, destination.right, defaultSyncOptions);
if (E.isLeft(run)) throw new Error(JSON.stringify(run.left));
process.stdout.write(
  JSON.stringify({
    ms: Number(process.hrtime.bigint() - start) / 1e6,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    created: run.right.totals.created,
  }),
);
