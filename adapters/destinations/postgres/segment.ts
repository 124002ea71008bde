// Writing one segment of an apply call (commands that touch distinct keys) in multi-row statements:
// deletes, renames (the record and every group row, managed or not), upserts, updates, then groups.
// Refusals found before writing (no record, a key taken) are returned; the database's throw.
import { ident } from '../sqlite/tables.js';
import { shapeOf, type Planned } from './plan.js';
import { qualified, type Names, type Queryable, type TableState } from './tables.js';

const groupBy = <A>(items: readonly A[], by: (a: A) => string): A[][] => {
  const groups = new Map<string, A[]>();
  for (const a of items) {
    const k = by(a);
    const list = groups.get(k);
    if (list === undefined) groups.set(k, [a]);
    else list.push(a);
  }
  return [...groups.values()];
};

/** `unnest($1::text[], $2::text[], …) AS v(a0, a1, …)` over `columns` arrays of text. */
const unnest = (count: number): string =>
  `unnest(${Array.from({ length: count }, (_, i) => `$${i + 1}::text[]`).join(', ')}) ` +
  `AS v(${Array.from({ length: count }, (_, i) => `a${i}`).join(', ')})`;

/** Writes `segment`; returns the refusals found before writing, by the command's index. Throws. */
export const writeSegment = async (
  db: Queryable,
  names: Names,
  state: TableState,
  segment: readonly Planned[],
): Promise<Map<number, string>> => {
  const failed = new Map<number, string>();
  const t = qualified(names, names.table);
  const g = qualified(names, names.groupsTable);
  const k = ident(names.keyField);
  const keyCast = state.key.cast;

  const updates = segment.filter((p) => p.operation === 'update');
  const exists = new Set<string>();
  if (updates.length > 0) {
    const keys = [...new Set(updates.flatMap((p) => [p.key, p.newKey]))];
    const found = await db.query<{ k: string }>(
      `SELECT ${k}::text AS k FROM ${t} WHERE ${k} = ANY($1::${keyCast}[])`,
      [keys],
    );
    for (const row of found.rows) exists.add(row.k);
  }
  /** the key each applied command leaves its record under */
  const targets = new Map<number, string>();
  const moves: Planned[] = [];
  for (const p of updates) {
    if (!exists.has(p.key)) {
      // A rename applied before left the record under its new key: finish the command there.
      if (p.newKey === p.key || !exists.has(p.newKey)) failed.set(p.index, `no record with key ${p.key}`);
      else targets.set(p.index, p.newKey);
    } else if (p.newKey !== p.key && exists.has(p.newKey))
      failed.set(p.index, `cannot rename ${p.key} to ${p.newKey}: that key is taken`);
    else {
      if (p.newKey !== p.key) moves.push(p);
      targets.set(p.index, p.newKey);
    }
  }

  const deletes = segment.filter((p) => p.operation === 'delete').map((p) => p.key);
  if (deletes.length > 0) {
    if (state.groupsExist) await db.query(`DELETE FROM ${g} WHERE record_key = ANY($1::text[])`, [deletes]);
    await db.query(`DELETE FROM ${t} WHERE ${k} = ANY($1::${keyCast}[])`, [deletes]);
  }

  if (moves.length > 0) {
    const pairs = [moves.map((p) => p.key), moves.map((p) => p.newKey)];
    await db.query(
      `UPDATE ${t} SET ${k} = v.a1::${keyCast} FROM ${unnest(2)} WHERE ${t}.${k} = v.a0::${keyCast}`,
      pairs,
    );
    // Every group row moves, managed or not; one already under the new key (left by someone) stays once.
    await db.query(
      `DELETE FROM ${g} USING ${unnest(2)} WHERE ${g}.record_key = v.a1 AND EXISTS ` +
        `(SELECT 1 FROM ${g} o WHERE o.record_key = v.a0 AND o.group_name = ${g}.group_name)`,
      pairs,
    );
    await db.query(`UPDATE ${g} SET record_key = v.a1 FROM ${unnest(2)} WHERE ${g}.record_key = v.a0`, pairs);
  }

  const creates = segment.filter((p) => p.operation === 'create');
  for (const shape of groupBy(creates, shapeOf)) {
    const first = shape[0] as Planned;
    const set = first.set.map(([c]) => c);
    const columns = [k, ...set.map(ident), ...first.unset.map(ident)];
    const values = [
      `v.a0::${keyCast}`,
      ...set.map((c, i) => `v.a${i + 1}::${state.columns.get(c)?.cast ?? 'text'}`),
      ...first.unset.map(() => 'NULL'),
    ];
    const changed = [...set, ...first.unset];
    const onConflict =
      changed.length === 0
        ? 'DO NOTHING'
        : `DO UPDATE SET ${changed.map((c) => `${ident(c)} = excluded.${ident(c)}`).join(', ')}`;
    await db.query(
      `INSERT INTO ${t} (${columns.join(', ')}) SELECT ${values.join(', ')} FROM ${unnest(set.length + 1)} ` +
        `ON CONFLICT (${k}) ${onConflict}`,
      [shape.map((p) => p.key), ...set.map((_, i) => shape.map((p) => p.set[i]?.[1] ?? null))],
    );
    for (const p of shape) targets.set(p.index, p.key);
  }

  const changing = updates.filter((p) => targets.has(p.index) && p.set.length + p.unset.length > 0);
  for (const shape of groupBy(changing, shapeOf)) {
    const first = shape[0] as Planned;
    const set = first.set.map(([c]) => c);
    const assignments = [
      ...set.map((c, i) => `${ident(c)} = v.a${i + 1}::${state.columns.get(c)?.cast ?? 'text'}`),
      ...first.unset.map((c) => `${ident(c)} = NULL`),
    ];
    await db.query(
      `UPDATE ${t} SET ${assignments.join(', ')} FROM ${unnest(set.length + 1)} WHERE ${t}.${k} = v.a0::${keyCast}`,
      [shape.map((p) => targets.get(p.index)), ...set.map((_, i) => shape.map((p) => p.set[i]?.[1] ?? null))],
    );
  }

  const pairs = (which: 'add' | 'remove'): string[][] => {
    const keys: string[] = [];
    const groups: string[] = [];
    for (const p of segment) {
      const target = targets.get(p.index);
      if (target === undefined) continue;
      for (const name of p[which]) {
        keys.push(target);
        groups.push(name);
      }
    }
    return [keys, groups];
  };
  const added = pairs('add');
  if ((added[0] as string[]).length > 0)
    await db.query(
      `INSERT INTO ${g} (record_key, group_name) SELECT DISTINCT v.a0, v.a1 FROM ${unnest(2)} WHERE NOT EXISTS ` +
        `(SELECT 1 FROM ${g} o WHERE o.record_key = v.a0 AND o.group_name = v.a1) ON CONFLICT DO NOTHING`,
      added,
    );
  const removed = pairs('remove');
  if ((removed[0] as string[]).length > 0)
    await db.query(
      `DELETE FROM ${g} USING ${unnest(2)} WHERE ${g}.record_key = v.a0 AND ${g}.group_name = v.a1`,
      removed,
    );
  return failed;
};
