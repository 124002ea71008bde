// The customers of the destination stories (destinationStories.ts): the rounds of events, what the CRM
// holds before syncline, and the rows and groups each destination should hold after each sync.
import { randomUUID } from 'node:crypto';

export const NO_CREATE = 'Destination sync mode does not allow creating new profiles';

/** The three destinations, one per mode, each of the customers group, in the config's order. */
export const DESTINATIONS = [
  { destinationId: 'warehouse', syncMode: 'sync' },
  { destinationId: 'mailing', syncMode: 'additive' },
  { destinationId: 'crm', syncMode: 'enrich' },
] as const;
export type DestinationId = (typeof DESTINATIONS)[number]['destinationId'];

export type GroupRow = { readonly record_key: string; readonly group_name: string };
/** A destination's records as its tables hold them: rows by email, groups by key then name. */
export type Tables = { readonly rows: readonly unknown[]; readonly groups: readonly GroupRow[] };

const pad = (n: number): string => String(n).padStart(2, '0');
export const email = (n: number): string => `p${pad(n)}@example.com`;
/** The row syncline writes for profile n as first ingested. */
export const row = (n: number, changes: Record<string, unknown> = {}) => ({
  email: email(n),
  first_name: `Name ${pad(n)}`,
  ltv: n * 100,
  ...changes,
});
export const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);
/** Code-unit order, as SQLite's ORDER BY on TEXT and PostgreSQL's COLLATE "C" sort. */
const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
export const byEmail = (a: { email: string }, b: { email: string }): number => byText(a.email, b.email);
export const sortGroups = (rows: GroupRow[]): GroupRow[] =>
  rows.sort((a, b) => byText(a.record_key, b.record_key) || byText(a.group_name, b.group_name));
const groupRows = (ns: readonly number[], name: string, key = email): GroupRow[] =>
  ns.map((n) => ({ record_key: key(n), group_name: name }));

const event = (type: string, data: Record<string, unknown>) => ({ id: randomUUID(), type, data });
export const jsonl = (events: readonly unknown[]): string =>
  events.map((e) => JSON.stringify(e)).join('\n') + '\n';

/** 20 profiles; p01–p16 are customers (the collection of every destination), p01–p05 also vip. */
export const FIRST_ROUND = [
  event('GroupCreated', { groupId: 'customers', name: 'Customers' }),
  event('GroupCreated', { groupId: 'vip', name: 'VIP' }),
  ...range(1, 20).map((n) =>
    event('ProfileCreated', {
      profileId: `p${pad(n)}`,
      properties: { email: email(n), firstName: `Name ${pad(n)}`, ltv: n * 100 },
    }),
  ),
  ...range(1, 16).map((n) => event('ProfileJoinedGroup', { groupId: 'customers', profileId: `p${pad(n)}` })),
  ...range(1, 5).map((n) => event('ProfileJoinedGroup', { groupId: 'vip', profileId: `p${pad(n)}` })),
];

/**
 * p03 changes email (a rename), p04 leaves vip, p05 leaves the collection, p06 is deleted, p07 is
 * renamed in person, and p21 arrives as a customer named `p21Name`.
 */
export const secondRound = (p21Name = 'Name 21') => [
  event('ProfilePropertiesChanged', { profileId: 'p03', set: { email: 'p03@new.example' } }),
  event('ProfileLeftGroup', { groupId: 'vip', profileId: 'p04' }),
  event('ProfileLeftGroup', { groupId: 'customers', profileId: 'p05' }),
  event('ProfileDeleted', { profileId: 'p06' }),
  event('ProfilePropertiesChanged', { profileId: 'p07', set: { firstName: 'Renamed 07' } }),
  event('ProfileCreated', {
    profileId: 'p21',
    properties: { email: email(21), firstName: p21Name, ltv: 2100 },
  }),
  event('ProfileJoinedGroup', { groupId: 'customers', profileId: 'p21' }),
];
/** p21 gets the name the second round would have given it. */
export const P21_FIXED = [
  event('ProfilePropertiesChanged', { profileId: 'p21', set: { firstName: 'Name 21' } }),
];

/**
 * The CRM already holds two of the customers, each tagged 'Partner' by someone else, and a contact
 * syncline knows nothing of: the statements that put them in its own `table` and `groupsTable`.
 */
export const crmHoldings = (table: string, groupsTable: string): string[] => [
  `INSERT INTO ${table} VALUES ('p03@example.com', 'Old', NULL), ('p05@example.com', 'Old', NULL), ('stranger@example.com', 'Stranger', 1)`,
  `INSERT INTO ${groupsTable} VALUES ('p03@example.com', 'Partner'), ('p05@example.com', 'Partner'), ('stranger@example.com', 'Partner')`,
];
const STRANGER = { email: 'stranger@example.com', first_name: 'Stranger', ltv: 1 };
const STRANGER_TAG = { record_key: 'stranger@example.com', group_name: 'Partner' };

/** What each destination holds after the first round is synced. */
export const afterFirstRound = (id: DestinationId): Tables => {
  if (id === 'crm')
    // enrich: only the two customers it had are updated, their Partner tag kept.
    return {
      rows: [row(3), row(5), STRANGER],
      groups: sortGroups([
        ...groupRows([3, 5], 'Customers'),
        ...groupRows([3, 5], 'Partner'),
        ...groupRows([3, 5], 'VIP'),
        STRANGER_TAG,
      ]),
    };
  const customers = range(1, 16);
  return {
    rows: customers.map((n) => row(n)),
    groups: sortGroups([...groupRows(customers, 'Customers'), ...groupRows(range(1, 5), 'VIP')]),
  };
};

/**
 * What each destination holds after the second round is synced; `refused`, the name p21 arrived
 * with when the warehouse refused its row.
 */
export const afterSecondRound = (id: DestinationId, refused?: string): Tables => {
  const renamed = (n: number) => (n === 3 ? 'p03@new.example' : email(n));
  const adjust = (n: number) =>
    row(n, {
      ...(n === 3 ? { email: 'p03@new.example' } : {}),
      ...(n === 7 ? { first_name: 'Renamed 07' } : {}),
      ...(n === 21 && refused !== undefined ? { first_name: refused } : {}),
    });
  const kept = [...range(1, 4), ...range(7, 16), 21];
  const groupsOf = (customers: readonly number[]) =>
    sortGroups([...groupRows(customers, 'Customers', renamed), ...groupRows([1, 2, 3], 'VIP', renamed)]);
  switch (id) {
    // sync: the leaver (p05) and the deleted profile (p06) are gone; p21 is created, unless refused.
    case 'warehouse': {
      const landed = refused === undefined ? kept : kept.filter((n) => n !== 21);
      return { rows: landed.map(adjust).sort(byEmail), groups: groupsOf(landed) };
    }
    // additive: p05 and p06 stay, out of every managed group.
    case 'mailing':
      return { rows: [...range(1, 16), 21].map(adjust).sort(byEmail), groups: groupsOf(kept) };
    // enrich: p03 renamed in place with its Partner tag; p05 loses the managed groups only; no p21.
    case 'crm':
      return {
        rows: [{ email: 'p03@new.example', first_name: 'Name 03', ltv: 300 }, row(5), STRANGER],
        groups: sortGroups([
          ...groupRows([3], 'Customers', renamed),
          ...groupRows([3], 'Partner', renamed),
          ...groupRows([3], 'VIP', renamed),
          { record_key: 'p05@example.com', group_name: 'Partner' },
          STRANGER_TAG,
        ]),
      };
  }
};
