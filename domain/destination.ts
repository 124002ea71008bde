// The destination object (docs/architecture.md, "The destination object"): where profiles go, which of
// them (collection), how fields and groups map, and the sync mode. Its codec checks the cross-field rules.
import * as t from 'io-ts';
import { NonEmptyString, dictionary, nestedAtMost, struct, taggedUnion } from './codec.js';
import { SyncModeName } from './modes.js';
import { Id } from './values.js';

const All = struct('CollectionAll', { kind: t.literal('all') });
const InGroup = struct('CollectionGroup', { kind: t.literal('group'), groupId: Id });
const Nobody = struct('CollectionNone', { kind: t.literal('none') });

export const Collection = taggedUnion('Collection', 'kind', t.union([All, InGroup, Nobody]), {
  all: All,
  group: InGroup,
  none: Nobody,
});
export type Collection = t.TypeOf<typeof Collection>;

const DestinationConfigShape = struct(
  'DestinationConfig',
  {
    destinationId: Id,
    type: NonEmptyString,
    collection: Collection,
    keyField: NonEmptyString,
    /** destination field → profile property */
    mapping: dictionary(NonEmptyString, NonEmptyString),
  },
  {
    name: t.string,
    /** Absent means the type's default mode, filled in when the configuration is applied. */
    syncMode: SyncModeName,
    /** group id → list/tag name in the destination: the managed groups */
    groupMapping: dictionary(NonEmptyString, NonEmptyString),
    /** Adapter-specific; a value `{"env": "NAME"}` is read from the environment when the adapter opens. */
    options: dictionary(t.string, nestedAtMost(32)),
  },
);

export const DestinationConfig = new t.Type<
  t.TypeOf<typeof DestinationConfigShape>,
  t.OutputOf<typeof DestinationConfigShape>
>(
  'DestinationConfig',
  DestinationConfigShape.is,
  (u, c) => {
    const decoded = DestinationConfigShape.validate(u, c);
    if (decoded._tag === 'Left') return decoded;
    const d = decoded.right;
    if (!Object.hasOwn(d.mapping, d.keyField)) {
      const fields = Object.keys(d.mapping).join(', ');
      return t.failure(
        d.keyField,
        [...c, { key: 'keyField', type: NonEmptyString, actual: d.keyField }],
        `${JSON.stringify(d.keyField)} is not a field of mapping (${fields === '' ? 'mapping is empty' : fields})`,
      );
    }
    return decoded;
  },
  DestinationConfigShape.encode,
);
export type DestinationConfig = t.TypeOf<typeof DestinationConfig>;

const managedCache = new WeakMap<DestinationConfig, ReadonlySet<string>>();

/**
 * The managed list/tag names: the only ones syncline ever adds or removes. Memoised per destination
 * object (configs are never mutated), since decide asks for them once per profile.
 */
export const managedGroupNames = (d: DestinationConfig): ReadonlySet<string> => {
  let names = managedCache.get(d);
  if (names === undefined) {
    names = new Set(Object.values(d.groupMapping ?? {}));
    managedCache.set(d, names);
  }
  return names;
};

const fieldsCache = new WeakMap<DestinationConfig, readonly string[]>();

/** The mapped destination fields in code-unit order, memoised like managedGroupNames. */
export const mappedFields = (d: DestinationConfig): readonly string[] => {
  let fields = fieldsCache.get(d);
  if (fields === undefined) {
    fields = Object.keys(d.mapping).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    fieldsCache.set(d, fields);
  }
  return fields;
};

/**
 * Whether what syncline writes to the destination must be remembered with its values, not only which
 * fields it wrote: a destination that cannot be looked up (an http receiver with `"lookup": false`)
 * is observed through the ledger, whose values then stand for the records it holds.
 */
export const keepsWrittenValues = (config: DestinationConfig): boolean =>
  config.type === 'http' && config.options?.['lookup'] === false;
