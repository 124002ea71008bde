// Given/when/then for specs of the decision: a destination, input events, what the destination holds, what
// syncline last wrote, decided through the real folds, claims and simulate() (no store, no adapter).
import { reportErrors } from '../../domain/codec.js';
import type { Decision, LedgerEntry, ObservedRecord, Verdict } from '../../domain/decision.js';
import type { DestinationConfig } from '../../domain/destination.js';
import type { InputEvent } from '../../domain/events.js';
import type { SyncModeName } from '../../domain/modes.js';
import { Scenario } from '../../domain/scenario.js';
import type { Properties } from '../../domain/values.js';
import { simulate, simulateVerdicts } from '../../engine/audit/simulate.js';

export type Collection = DestinationConfig['collection'];

export const everyone: Collection = { kind: 'all' };
export const nobody: Collection = { kind: 'none' };
export const inGroup = (groupId: string): Collection => ({ kind: 'group', groupId });

/** The destination of docs/architecture.md ("The destination object"), minus options: email is the key. */
export const CRM_MAPPING = { email: 'email', first_name: 'firstName', ltv: 'lifetimeValue' };
export const CRM_GROUPS = { vip: 'VIP', newsletter: 'Newsletter' };

export type DestinationSpec = {
  mode: SyncModeName;
  collection?: Collection;
  keyField?: string;
  mapping?: Record<string, string>;
  groupMapping?: Record<string, string>;
};

export const destination = (spec: DestinationSpec): DestinationConfig => ({
  destinationId: 'crm',
  name: 'CRM contacts',
  type: 'memory',
  syncMode: spec.mode,
  collection: spec.collection ?? everyone,
  keyField: spec.keyField ?? 'email',
  mapping: spec.mapping ?? CRM_MAPPING,
  groupMapping: spec.groupMapping ?? CRM_GROUPS,
});

// Input events (docs/architecture.md, "Input events"), exactly as they appear in a JSONL file.
export const created = (profileId: string, properties: Properties = {}): InputEvent => ({
  type: 'ProfileCreated',
  data: { profileId, properties },
});
export const changed = (profileId: string, set: Properties, unset: string[] = []): InputEvent => ({
  type: 'ProfilePropertiesChanged',
  data: { profileId, set, ...(unset.length > 0 ? { unset } : {}) },
});
export const unsetProperties = (profileId: string, ...names: string[]): InputEvent => ({
  type: 'ProfilePropertiesChanged',
  data: { profileId, unset: names },
});
export const deleted = (profileId: string): InputEvent => ({ type: 'ProfileDeleted', data: { profileId } });
export const groupCreated = (groupId: string, name = groupId): InputEvent => ({
  type: 'GroupCreated',
  data: { groupId, name },
});
export const groupDeleted = (groupId: string): InputEvent => ({ type: 'GroupDeleted', data: { groupId } });
export const joined = (profileId: string, groupId: string): InputEvent => ({
  type: 'ProfileJoinedGroup',
  data: { groupId, profileId },
});
export const left = (profileId: string, groupId: string): InputEvent => ({
  type: 'ProfileLeftGroup',
  data: { groupId, profileId },
});

/** A record the destination holds under `key`. */
export const record = (key: string, fields: Properties = {}, groups: string[] = []): ObservedRecord => ({
  key,
  fields,
  groups,
});

/** A ledger entry: what syncline last successfully wrote for `profileId`, under `key`. */
export const wrote = (
  profileId: string,
  key: string,
  fields: Properties = {},
  groups: string[] = [],
): LedgerEntry => ({ profileId, key, fields, groups });

export type Given = {
  events: (...events: InputEvent[]) => Given;
  observed: (...records: ObservedRecord[]) => Given;
  ledger: (...entries: LedgerEntry[]) => Given;
  /** The scenario file `syncline simulate` would read; it is checked against the codec first. */
  scenario: () => Scenario;
  /** What simulate prints: one decision per profile that needs one, sorted by profile id. */
  decisions: () => Decision[];
  /** Every verdict, "nothing" included with its reason. */
  verdicts: () => Verdict[];
  decisionFor: (profileId: string) => Verdict | undefined;
};

/** Each step returns a new Given, so a base situation can be shared by several specs. */
export const given = (
  d: DestinationConfig,
  scenario: Omit<Scenario, 'destination'> = { events: [] },
): Given => {
  const checked = (): Scenario => {
    const decoded = Scenario.decode({ destination: d, ...scenario });
    if (decoded._tag === 'Left')
      throw new Error(`invalid scenario: ${reportErrors(decoded.left).join('; ')}`);
    return decoded.right;
  };
  const mode = d.syncMode ?? 'sync';
  return {
    events: (...events) => given(d, { ...scenario, events: [...scenario.events, ...events] }),
    observed: (...records) => given(d, { ...scenario, observed: [...(scenario.observed ?? []), ...records] }),
    ledger: (...entries) => given(d, { ...scenario, ledger: [...(scenario.ledger ?? []), ...entries] }),
    scenario: checked,
    decisions: () => simulate(checked(), mode),
    verdicts: () => simulateVerdicts(checked(), mode),
    decisionFor: (profileId) => simulateVerdicts(checked(), mode).find((v) => v.profileId === profileId),
  };
};
