// What `syncline demo` sets up, as plain data: the three destinations (one per sync mode), the CRM's
// existing contacts that the enrich destination starts from, and the explanations and next steps.
import type { DestinationConfig } from '../../domain/destination.js';
import type { InputEvent } from '../../domain/events.js';
import type { SyncModeName } from '../../domain/modes.js';
import { population, type Round } from './people.js';

export const DEMO_PROFILES = 10_000;
export const DEMO_SEED = 42;
/** The share of profiles the round of changes touches (and of newcomers it adds). */
export const CHANGE_FRACTION = 0.05;
export const DEFAULT_DEMO_DIR = 'syncline-demo';
/** Its presence is what allows a later demo to delete the directory: we only ever remove our own. */
export const DEMO_MARKER = '.syncline-demo';
export const MARKER_TEXT =
  'Created by `syncline demo`. Running the demo again with this directory deletes and recreates it.\n';

export const STORE_URL = 'sqlite:events.db';
export const UNMANAGED_TAG = 'Partner';

/**
 * Paths are relative to the demo directory, as the user will use them after `cd`; the demo itself
 * opens each destination with the path joined to the directory (see openAt in the command).
 */
export const demoDestinations: readonly (DestinationConfig & { readonly syncMode: SyncModeName })[] = [
  {
    destinationId: 'warehouse',
    name: 'Data warehouse customers',
    type: 'sqlite',
    syncMode: 'sync',
    collection: { kind: 'all' },
    keyField: 'email',
    mapping: {
      email: 'email',
      first_name: 'firstName',
      last_name: 'lastName',
      ltv: 'lifetimeValue',
      plan: 'plan',
    },
    groupMapping: { vip: 'VIP', newsletter: 'Newsletter', trial: 'Trial' },
    options: { path: 'warehouse.db', table: 'customers' },
  },
  {
    destinationId: 'newsletter',
    name: 'Newsletter subscribers',
    type: 'sqlite',
    syncMode: 'additive',
    collection: { kind: 'group', groupId: 'newsletter' },
    keyField: 'email',
    mapping: { email: 'email', first_name: 'firstName' },
    groupMapping: { vip: 'VIP' },
    options: { path: 'newsletter.db', table: 'subscribers' },
  },
  {
    destinationId: 'crm',
    name: 'CRM contacts',
    type: 'sqlite',
    syncMode: 'enrich',
    collection: { kind: 'group', groupId: 'vip' },
    keyField: 'email',
    mapping: { email: 'email', first_name: 'firstName', ltv: 'lifetimeValue' },
    groupMapping: { vip: 'VIP', newsletter: 'Newsletter' },
    options: { path: 'crm.db', table: 'contacts' },
  },
];

/** The CRM's tables as they were before syncline: the same shape its SQLite adapter creates. */
export const CRM_TABLES =
  'CREATE TABLE contacts (email TEXT PRIMARY KEY NOT NULL, first_name, ltv, source);' +
  'CREATE TABLE contacts_groups (record_key TEXT NOT NULL, group_name TEXT NOT NULL, ' +
  'PRIMARY KEY (record_key, group_name)) WITHOUT ROWID;';

/** A contact the CRM held before syncline arrived; `source` is a column syncline does not map. */
export type Contact = {
  readonly email: string;
  readonly firstName: string;
  readonly source: string;
  readonly tags: readonly string[];
};

export type VipMember = { readonly profileId: string; readonly email: string; readonly firstName: string };

/** The VIP members of a population, in profile order. */
export const vipMembers = (events: Iterable<InputEvent>): VipMember[] => {
  const people = new Map<string, VipMember>();
  const vips: VipMember[] = [];
  for (const e of events) {
    if (e.type === 'ProfileCreated') {
      const { email, firstName } = e.data.properties;
      if (typeof email === 'string' && typeof firstName === 'string')
        people.set(e.data.profileId, { profileId: e.data.profileId, email, firstName });
    } else if (e.type === 'ProfileJoinedGroup' && e.data.groupId === 'vip') {
      const p = people.get(e.data.profileId);
      if (p) vips.push(p);
    }
  }
  return vips;
};

const MATCHED_CONTACTS = 300;
const STRANGERS = ['lena.hoffmann', 'marco.bianchi', 'sara.nilsson', 'tom.becker', 'ana.lopes', 'kai.wong'];

/**
 * About 300 contacts whose emails match VIP members spread over the population, every third tagged
 * Partner, plus a few partner contacts who match no profile: enrich must update the former, skip the
 * VIPs it has no contact for, and leave the strangers and every Partner tag alone.
 */
export const seedContacts = (vips: readonly VipMember[]): Contact[] => {
  const step = Math.max(1, Math.floor(vips.length / MATCHED_CONTACTS));
  const matched = vips
    .filter((_, i) => i % step === 0)
    .slice(0, MATCHED_CONTACTS)
    .map((v, i): Contact => ({
      email: v.email,
      firstName: v.firstName,
      source: 'trade fair',
      tags: i % 3 === 0 ? [UNMANAGED_TAG] : [],
    }));
  const strangers = STRANGERS.map((name): Contact => ({
    email: `${name}@partner.example`,
    firstName: name.split('.')[0] ?? name,
    source: 'partner referral',
    tags: [UNMANAGED_TAG],
  }));
  return [...matched, ...strangers];
};

/** The generated population and what the demo derives from it before anything is stored. */
export type DemoPopulation = {
  readonly events: readonly InputEvent[];
  /** members per group id */
  readonly groups: ReadonlyMap<string, number>;
  readonly contacts: readonly Contact[];
  readonly tagged: number;
  /** a VIP the CRM has no contact for: enrich skips them, a good profile to ask `explain` about */
  readonly skippedVip: string | undefined;
};

export const demoPopulation = (): DemoPopulation => {
  const events = [...population(DEMO_PROFILES, DEMO_SEED)];
  const vips = vipMembers(events);
  const contacts = seedContacts(vips);
  const groups = new Map<string, number>();
  for (const e of events)
    if (e.type === 'ProfileJoinedGroup') groups.set(e.data.groupId, (groups.get(e.data.groupId) ?? 0) + 1);
  const known = new Set(contacts.map((c) => c.email));
  return {
    events,
    groups,
    contacts,
    tagged: contacts.filter((c) => c.tags.includes(UNMANAGED_TAG)).length,
    skippedVip: vips.find((v) => !known.has(v.email))?.profileId,
  };
};

export const optionOf = (d: DestinationConfig, name: string): string => String(d.options?.[name]);

/** One row per destination for the opening table: id, mode, who it holds, where (`place`). */
export const destinationRows = (
  p: DemoPopulation,
  destinations: typeof demoDestinations = demoDestinations,
  place = (d: DestinationConfig): string => `${optionOf(d, 'path')}, table ${optionOf(d, 'table')}`,
): string[][] =>
  destinations.map((d) => [
    d.destinationId,
    d.syncMode,
    d.collection.kind === 'group' ? `members of ${d.collection.groupId}` : 'every profile',
    place(d) +
      (d.syncMode === 'enrich'
        ? ` (${p.contacts.length} contacts already there, ${p.tagged} tagged ${UNMANAGED_TAG})`
        : ''),
  ]);

export const roundSentence = ({ events, counts: c }: Round): string =>
  `(changes.jsonl, ${events.length} events): ${c.changed} profiles got new values, ${c.renamed} changed ` +
  `email, ${c.left} left a group, ${c.joined} joined one, ${c.deleted} were deleted, ${c.created} new ` +
  'profiles arrived.';

/**
 * The SQL that reads a destination back: its row count, its Partner tags, and up to three records
 * with the most lists (they show managed and unmanaged lists side by side), groups as a JSON array.
 */
export const readBack = (d: DestinationConfig) => {
  const table = `"${optionOf(d, 'table')}"`;
  const groups = `"${optionOf(d, 'table')}_groups"`;
  const own = `g.record_key = t."${d.keyField}"`;
  const fields = Object.keys(d.mapping);
  return {
    fields,
    rows: `SELECT count(*) FROM ${table}`,
    tagged: `SELECT count(*) FROM ${groups} WHERE group_name = '${UNMANAGED_TAG}'`,
    sample:
      `SELECT ${fields.map((f) => `t."${f}"`).join(', ')}, (SELECT json_group_array(group_name) FROM ` +
      `(SELECT group_name FROM ${groups} g WHERE ${own} ORDER BY group_name)) FROM ${table} t ` +
      `ORDER BY (SELECT count(*) FROM ${groups} g WHERE ${own}) DESC, t.rowid LIMIT 3`,
  };
};

/** Why each destination ended up as it did, in the words of its mode. */
export const WHY: Readonly<Record<string, string>> = {
  warehouse:
    'sync mode adds, updates and removes: every live profile has a row, deleted profiles were deleted, ' +
    'changed emails renamed their row.',
  newsletter:
    'additive mode never removes anyone: subscribers who left the newsletter or were deleted keep their ' +
    'row, and only lose the VIP list syncline manages.',
  crm:
    'enrich mode only updates contacts the CRM already had: VIPs without a contact were skipped, the ' +
    `contacts that match nobody were not touched, and the ${UNMANAGED_TAG} tag is not managed, so it stays.`,
};

/** A command to suggest, shown only when the command it needs is registered (or is not ours). */
export type Hint = { readonly needs?: string; readonly line: string; readonly why: string };

/** A word as a POSIX shell reads it back: quoted when it holds anything but plain path characters. */
export const quoted = (arg: string): string =>
  /^[\w./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;

/**
 * `syncline` is how the command is spelt where the hints will be run (see commandFor); `type` is the
 * destinations' type.
 */
export const hints = (
  dir: string,
  profileId: string | undefined,
  syncline: string,
  type = 'sqlite',
): Hint[] => [
  {
    line: `cd ${quoted(dir)}`,
    why: 'the commands below read syncline.config.json there, and the store it names',
  },
  { needs: 'status', line: `${syncline} status`, why: 'each destination: last run, lag, failures' },
  { needs: 'plan', line: `${syncline} plan --destination crm`, why: 'what a sync would decide now' },
  ...(profileId === undefined
    ? []
    : [
        {
          needs: 'explain',
          line: `${syncline} explain --destination crm --profile ${profileId}`,
          why: 'why this VIP was not created in the CRM',
        },
        {
          needs: 'log',
          line: `${syncline} log --destination crm --profile ${profileId}`,
          why: 'every decision recorded for this profile',
        },
      ]),
  {
    needs: 'replay',
    line: `${syncline} replay --destination crm --mode sync`,
    why: 'what sync mode would have done instead',
  },
  { needs: 'sync', line: `${syncline} sync`, why: 'nothing to do: every destination is caught up' },
  {
    needs: 'describe',
    line: `${syncline} describe ${type}`,
    why: 'the options and modes of this destination type',
  },
];

/** The hints whose commands exist, as `command  # why` lines with the comments aligned. */
export const hintLines = (
  dir: string,
  profileId: string | undefined,
  registered: readonly string[],
  syncline: string,
  type = 'sqlite',
): { readonly line: string; readonly why: string }[] => {
  const shown = hints(dir, profileId, syncline, type).filter(
    (h) => h.needs === undefined || registered.includes(h.needs),
  );
  const width = Math.max(...shown.map((h) => h.line.length));
  return shown.map((h) => ({ line: h.line.padEnd(width), why: `# ${h.why}` }));
};
