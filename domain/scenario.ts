// The scenario file `syncline simulate` reads: a destination, input events, what the destination
// holds, and optionally what syncline last wrote. Missing fields/groups default to empty.
import * as t from 'io-ts';
import { NonEmptyString, struct } from './codec.js';
import { DestinationConfig } from './destination.js';
import { InputEvent } from './events.js';
import { Id, Properties } from './values.js';

export const ScenarioRecord = struct(
  'ObservedRecord',
  { key: NonEmptyString },
  { fields: Properties, groups: t.array(t.string) },
);

export const ScenarioLedgerEntry = struct(
  'LedgerEntry',
  { profileId: Id, key: NonEmptyString },
  { fields: Properties, groups: t.array(t.string) },
);

export const Scenario = struct(
  'Scenario',
  { destination: DestinationConfig, events: t.array(InputEvent) },
  { observed: t.array(ScenarioRecord), ledger: t.array(ScenarioLedgerEntry) },
);
export type Scenario = t.TypeOf<typeof Scenario>;
