// Sync modes as data: each a named set of allowed operations (docs/architecture.md, "Sync modes").
// Everything that asks "may this mode do X" reads this table; nothing hard-codes a mode name.
import * as t from 'io-ts';
import { oneOf } from './codec.js';

export const SYNC_MODES = ['sync', 'additive', 'enrich'] as const;

export const SyncModeName = oneOf('SyncMode', SYNC_MODES);
export type SyncModeName = t.TypeOf<typeof SyncModeName>;

export const Operation = oneOf('Operation', ['create', 'update', 'delete'] as const);
export type Operation = t.TypeOf<typeof Operation>;

export const SyncMode = t.type({
  name: SyncModeName,
  displayName: t.string,
  description: t.string,
  allows: t.type({ create: t.boolean, update: t.boolean, delete: t.boolean }),
});
export type SyncMode = t.TypeOf<typeof SyncMode>;

export const syncModes: { readonly [M in SyncModeName]: SyncMode } = {
  sync: {
    name: 'sync',
    displayName: 'Sync',
    description: 'Add, update and remove profiles as needed',
    allows: { create: true, update: true, delete: true },
  },
  additive: {
    name: 'additive',
    displayName: 'Additive',
    description: 'Add and update profiles; never remove anyone',
    allows: { create: true, update: true, delete: false },
  },
  enrich: {
    name: 'enrich',
    displayName: 'Enrich',
    description: 'Only update profiles that already exist in the destination',
    allows: { create: false, update: true, delete: false },
  },
};

export const allows = (mode: SyncModeName, operation: Operation): boolean =>
  syncModes[mode].allows[operation];
