// Fixture and helpers for the Destination contract: the destination config the suite writes to,
// command builders, and how a looked-up record is compared with what was written.
import { expect } from 'vitest';
import type { Command } from '../../domain/command.js';
import type { ObservedRecord } from '../../domain/decision.js';
import type { DestinationConfig } from '../../domain/destination.js';
import type { Properties } from '../../domain/values.js';

/** The destination the suite writes to: `email` is the key, VIP and Newsletter the managed groups. */
export const contractConfig: DestinationConfig = {
  destinationId: 'contract',
  name: 'Destination contract',
  type: 'contract',
  syncMode: 'sync',
  collection: { kind: 'all' },
  keyField: 'email',
  mapping: { email: 'email', first_name: 'firstName', ltv: 'lifetimeValue', code: 'code', note: 'note' },
  groupMapping: { vip: 'VIP', newsletter: 'Newsletter' },
  options: {},
};

type Change = { set?: Properties; unset?: string[]; add?: string[]; remove?: string[] };

let sequence = 0;
const command = (operation: Command['operation'], key: string, change: Change = {}): Command => ({
  commandId: `contract-${++sequence}`,
  profileId: `profile-${key}`,
  operation,
  key,
  fields: { set: change.set ?? {}, unset: change.unset ?? [] },
  groups: { add: change.add ?? [], remove: change.remove ?? [] },
});
export const create = (key: string, change: Change = {}) =>
  command('create', key, { ...change, set: { email: key, ...change.set } });
export const update = (key: string, change: Change = {}) => command('update', key, change);
export const remove = (key: string) => command('delete', key);

/**
 * What a record holds, as the suite compares it. A table-backed destination reads a field it never
 * wrote as null, and may report the key field only as the record's key; both are allowed.
 */
export const holding = (r: ObservedRecord): { key: string; fields: Properties; groups: string[] } => {
  const fields: Properties = {};
  for (const [f, v] of Object.entries(r.fields)) {
    if (f === contractConfig.keyField) expect(v, 'the key field holds the record key').toBe(r.key);
    else if (v !== null) fields[f] = v;
  }
  return { key: r.key, fields, groups: r.groups };
};

/** The record the suite expects, compared the way `holding` reads one. */
export const expected = (key: string, fields: Properties, groups: string[]) => {
  const held = Object.fromEntries(
    Object.entries(fields).filter(([f, v]) => f !== contractConfig.keyField && v !== null),
  );
  return { key, fields: held, groups };
};
