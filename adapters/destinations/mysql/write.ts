// Writing one segment of commands (no key twice) in a few multi-row statements: a lookup of the keys
// it needs, then deletes, renames, upserts of rows, group removals and group additions, each grouped.
import type { PoolConnection, RowDataPacket } from 'mysql2/promise';
import type { SqlValue } from './columns.js';
import { keyFromCell } from './columns.js';
import type { Planned } from './segments.js';
import { ident, type TableNames, type TableState } from './tables.js';

/** Rows per multi-row statement: well within any server's max_allowed_packet for usual records. */
const CHUNK = 500;

const chunks = <A>(xs: readonly A[]): A[][] => {
  const out: A[][] = [];
  for (let i = 0; i < xs.length; i += CHUNK) out.push(xs.slice(i, i + CHUNK));
  return out;
};

/**
 * Applies a segment on `db` (inside the caller's transaction). Returns, by position, the commands it
 * refused itself (an update of a key with no record, a rename onto a taken key); throws what the
 * server refuses, which the caller confines to its command.
 */
export const writeSegment = async (
  db: PoolConnection,
  names: TableNames,
  state: TableState,
  segment: readonly Planned[],
): Promise<Map<number, string>> => {
  const refused = new Map<number, string>();
  const t = ident(names.table);
  const g = ident(names.groupsTable);
  const k = ident(names.keyField);
  const run = (sql: string, values: unknown[]) => db.query(sql, values);

  // Only updates depend on what is there; creates upsert. A first sync reads nothing back this way.
  const needed = [...new Set(segment.flatMap((c) => (c.operation === 'update' ? [c.key, c.newKey] : [])))];
  const held = new Set<string>();
  for (const part of chunks(needed)) {
    const [rows] = await db.query<RowDataPacket[]>({
      sql: `SELECT ${k} FROM ${t} WHERE ${k} IN (?) FOR UPDATE`,
      values: [part],
      rowsAsArray: true,
    });
    for (const row of rows as unknown as unknown[][]) held.add(keyFromCell(row[0]));
  }

  const deletes: string[] = [];
  const renames: [from: string, to: string][] = [];
  /** rows to write, by the columns they write */
  const upserts = new Map<string, { columns: readonly string[]; rows: SqlValue[][] }>();
  const updates: Planned[] = [];
  const removes: [string, string][] = [];
  const adds: [string, string][] = [];
  const required = [...state.columns.values()].filter((c) => c.required && c.name !== names.keyField);
  for (const c of segment) {
    if (c.operation === 'delete') {
      deletes.push(c.key);
      continue;
    }
    let target = c.key;
    if (c.operation === 'update') {
      if (!held.has(c.key)) {
        // A rename applied before left the record under its new key: finish the command there.
        if (c.newKey === c.key || !held.has(c.newKey)) {
          refused.set(c.at, `no record with key ${c.key}`);
          continue;
        }
        target = c.newKey;
      } else if (c.newKey !== c.key) {
        if (held.has(c.newKey)) {
          refused.set(c.at, `cannot rename ${c.key} to ${c.newKey}: that key is taken`);
          continue;
        }
        renames.push([c.key, c.newKey]);
        target = c.newKey;
      }
    }
    // An upsert of an existing row must still give every NOT NULL column without a default: a
    // user's table with such columns gets plain UPDATEs for its updates.
    const plain = c.operation === 'update' && required.some((r) => !c.columns.includes(r.name));
    if (plain) {
      if (c.columns.length > 0) updates.push({ ...c, key: target });
    } else if (c.operation === 'create' || c.columns.length > 0) {
      const id = c.columns.join('\u0000');
      const shape = upserts.get(id) ?? { columns: c.columns, rows: [] };
      upserts.set(id, shape);
      shape.rows.push([target, ...c.values]);
    }
    for (const name of c.remove) removes.push([target, name]);
    for (const name of c.add) adds.push([target, name]);
  }

  for (const part of chunks(deletes)) {
    if (state.groupsExist) await run(`DELETE FROM ${g} WHERE record_key IN (?)`, [part]);
    await run(`DELETE FROM ${t} WHERE ${k} IN (?)`, [part]);
  }
  for (const part of chunks(renames)) {
    // Three statements for the whole part: in a segment no key is both an old and a new one, and no
    // new key is held, so moving every row at once cannot collide with a row another one moves.
    const moved = part.map(([from]) => from);
    const cases = part.map(() => 'WHEN ? THEN ?').join(' ');
    const pairs = part.flatMap(([from, to]) => [from, to]);
    await run(`UPDATE ${t} SET ${k} = CASE ${k} ${cases} END WHERE ${k} IN (?)`, [...pairs, moved]);
    // Every group row moves, managed or not: a rename changes the key and nothing else. A row the
    // new key already had stays, and its duplicate under the old key goes.
    await run(`UPDATE IGNORE ${g} SET record_key = CASE record_key ${cases} END WHERE record_key IN (?)`, [
      ...pairs,
      moved,
    ]);
    await run(`DELETE FROM ${g} WHERE record_key IN (?)`, [moved]);
  }
  for (const { columns, rows } of upserts.values()) {
    const cols = [k, ...columns.map(ident)].join(', ');
    // VALUES(col) in both servers (MySQL 8 also has row aliases, MariaDB does not).
    const update =
      columns.length === 0
        ? `${k} = ${k}`
        : columns.map((c) => `${ident(c)} = VALUES(${ident(c)})`).join(', ');
    for (const part of chunks(rows))
      await run(`INSERT INTO ${t} (${cols}) VALUES ? ON DUPLICATE KEY UPDATE ${update}`, [part]);
  }
  for (const c of updates)
    await run(`UPDATE ${t} SET ${c.columns.map((col) => `${ident(col)} = ?`).join(', ')} WHERE ${k} = ?`, [
      ...c.values,
      c.key,
    ]);
  for (const part of chunks(removes))
    await run(`DELETE FROM ${g} WHERE (record_key, group_name) IN (?)`, [part]);
  if (state.groupsUnique)
    for (const part of chunks(adds))
      await run(
        `INSERT INTO ${g} (record_key, group_name) VALUES ? ON DUPLICATE KEY UPDATE group_name = group_name`,
        [part],
      );
  else
    for (const [key, name] of adds)
      await run(
        `INSERT INTO ${g} (record_key, group_name) SELECT ?, ? FROM DUAL ` +
          `WHERE NOT EXISTS (SELECT 1 FROM ${g} WHERE record_key = ? AND group_name = ?)`,
        [key, name, key, name],
      );
  return refused;
};
