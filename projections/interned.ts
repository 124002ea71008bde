// One shared value per set of names, whatever order the names come in: the ledger's entries share
// one frozen object per set of field names and one array per set of groups.

/** Shared values by the names they hold, and the last names asked for. */
export type Interner<A> = {
  readonly table: Map<string, A>;
  last: { readonly names: readonly string[]; readonly shared: A } | null;
  readonly make: (sorted: string[]) => A;
};

/** `make` builds the shared value from the names, sorted, the first time a set is asked for. */
export const interner = <A>(make: (sorted: string[]) => A): Interner<A> => ({
  table: new Map(),
  last: null,
  make,
});

/**
 * The value shared by every set of these names. The last names asked for are checked first:
 * consecutive asks mostly share them (one mapping, few sets of groups), and comparing them costs
 * less than joining them. Then names arrive in a few recurring orders (mapping order, mostly):
 * known orders skip the sort.
 */
export const interned = <A>(i: Interner<A>, names: readonly string[]): A => {
  if (i.last !== null && sameNames(i.last.names, names)) return i.last.shared;
  const asGiven = names.join('\u0000');
  let shared = i.table.get(asGiven);
  if (shared === undefined) {
    const sorted = [...names].sort();
    const signature = sorted.join('\u0000');
    shared = i.table.get(signature) ?? i.make(sorted);
    i.table.set(signature, shared);
    i.table.set(asGiven, shared);
  }
  i.last = { names: [...names], shared };
  return shared;
};

const sameNames = (a: readonly string[], b: readonly string[]): boolean => {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};
