// The example receiver's SQLite side: the records syncline writes, and the ids of the commands already
// applied, changed in one transaction per request so that neither can be kept without the other.
import Database from 'better-sqlite3';

/** @typedef {string | number | boolean | null} Scalar */
/** @typedef {Scalar | Scalar[]} Value */
/**
 * @typedef {object} Command
 * @property {string} commandId
 * @property {'create' | 'update' | 'delete'} operation
 * @property {string} key
 * @property {{ set: Record<string, Value>, unset: string[] }} fields
 * @property {{ add: string[], remove: string[] }} groups
 */
/** @typedef {{ commandId: string, ok: true } | { commandId: string, ok: false, error: string, retryable: boolean }} Result */
/** @typedef {{ key: string, fields: Record<string, Value>, groups: string[] }} FoundRecord */
/** A record while a command changes it. Maps, not objects: a field may be called `__proto__`. */
/** @typedef {{ fields: Map<string, Value>, groups: Set<string> }} Held */

/** JSON.parse, typed as what it is: unknown until checked (or, here, written by this file). */
const parseJson = /** @type {(text: string) => unknown} */ (JSON.parse);

/** Code-unit order, the same on every machine and locale (syncline sorts groups the same way). */
const compare = (/** @type {string} */ a, /** @type {string} */ b) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The key a value gives a record, as syncline derives it: strings as they are, numbers and booleans as
 * written, arrays as their JSON; null, '' and [] give none.
 * @param {Value | undefined} v
 */
const keyOf = (v) => {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (Array.isArray(v)) return v.length === 0 ? undefined : JSON.stringify(v);
  return String(v);
};

/** @param {Held} held @param {Command} c */
const change = (held, c) => {
  for (const [name, value] of Object.entries(c.fields.set)) held.fields.set(name, value);
  for (const name of c.fields.unset) held.fields.delete(name);
  for (const g of c.groups.add) held.groups.add(g);
  for (const g of c.groups.remove) held.groups.delete(g);
};

/** @param {string} path a file, or ':memory:' */
export const openStore = (path) => {
  const db = new Database(path);
  // WAL: lookups never wait for an apply. FULL: an apply is answered only once it would survive a
  // power cut, since syncline never resends a command this receiver said was applied.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  // `times` counts how often a command id was applied; the id check keeps it at 1, whatever syncline resends.
  db.exec(`
    CREATE TABLE IF NOT EXISTS records (key TEXT PRIMARY KEY, fields TEXT NOT NULL, groups TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS applied (
      command_id TEXT PRIMARY KEY, applied_at TEXT NOT NULL, times INTEGER NOT NULL DEFAULT 1
    );
  `);
  const select = db.prepare('SELECT fields, groups FROM records WHERE key = ?');
  const upsert = db.prepare(
    'INSERT INTO records (key, fields, groups) VALUES (?, ?, ?) ' +
      'ON CONFLICT (key) DO UPDATE SET fields = excluded.fields, groups = excluded.groups',
  );
  const remove = db.prepare('DELETE FROM records WHERE key = ?');
  const seen = db.prepare('SELECT 1 FROM applied WHERE command_id = ?').pluck();
  const remember = db.prepare(
    'INSERT INTO applied (command_id, applied_at) VALUES (?, ?) ' +
      'ON CONFLICT (command_id) DO UPDATE SET times = times + 1, applied_at = excluded.applied_at',
  );

  /** @param {string} key @returns {Held | undefined} */
  const load = (key) => {
    const row = /** @type {{ fields: string, groups: string } | undefined} */ (select.get(key));
    if (row === undefined) return undefined;
    const fields = /** @type {Record<string, Value>} */ (parseJson(row.fields));
    return {
      fields: new Map(Object.entries(fields)),
      groups: new Set(/** @type {string[]} */ (parseJson(row.groups))),
    };
  };
  /** @param {string} key @param {Held} held */
  const save = (key, held) => {
    // Object.fromEntries defines each name as its own property, `__proto__` included.
    upsert.run(key, JSON.stringify(Object.fromEntries(held.fields)), JSON.stringify([...held.groups]));
  };

  /**
   * One command, as syncline's in-memory destination (its reference behaviour) applies it. A failure
   * is an answer, not an exception, so that it never undoes the other commands of the request.
   * @param {string} keyField @param {Command} c @returns {Result}
   */
  const applyOne = (keyField, c) => {
    const ok = /** @type {Result} */ ({ commandId: c.commandId, ok: true });
    /** @param {string} error @returns {Result} */
    const failed = (error) => ({ commandId: c.commandId, ok: false, error, retryable: false });
    if (c.fields.unset.includes(keyField)) return failed(`cannot unset the key field ${keyField}`);
    const newKey = Object.hasOwn(c.fields.set, keyField) ? keyOf(c.fields.set[keyField]) : c.key;
    if (newKey === undefined) return failed(`cannot set the key field ${keyField} to no value`);
    switch (c.operation) {
      case 'delete':
        remove.run(c.key);
        return ok;
      case 'create': {
        // A create of a key that exists changes that record: a resent create must not wipe it.
        const held = load(c.key) ?? { fields: new Map(), groups: new Set() };
        change(held, c);
        save(c.key, held);
        return ok;
      }
      case 'update': {
        const held = load(c.key);
        if (held === undefined) {
          // A rename applied before (under another command id) left the record under its new key.
          const renamed = newKey !== c.key ? load(newKey) : undefined;
          if (renamed === undefined) return failed(`no record with key ${c.key}`);
          change(renamed, c);
          save(newKey, renamed);
          return ok;
        }
        if (newKey !== c.key) {
          if (select.get(newKey) !== undefined)
            return failed(`cannot rename ${c.key} to ${newKey}: that key is taken`);
          // The record moves whole, with groups syncline does not manage.
          remove.run(c.key);
        }
        change(held, c);
        save(newKey, held);
        return ok;
      }
    }
  };

  // IMMEDIATE takes the write lock at the start, so that two receivers sharing the file wait for
  // each other (busy_timeout) instead of one failing when its read turns into a write.
  const applyAll = db.transaction((/** @type {string} */ keyField, /** @type {Command[]} */ commands) =>
    commands.map((c) => {
      // Resent (its answer lost, or a retry of a batch that partly failed): answered, not applied again.
      if (seen.get(c.commandId) !== undefined)
        return /** @type {Result} */ ({ commandId: c.commandId, ok: true });
      const result = applyOne(keyField, c);
      // Only successes are remembered: a command that failed is applied anew when it comes again.
      if (result.ok) remember.run(c.commandId, new Date().toISOString());
      return result;
    }),
  );

  return {
    db,
    /** @param {string} keyField @param {Command[]} commands @returns {Result[]} */
    apply: (keyField, commands) => applyAll.immediate(keyField, commands),
    /** @param {string[]} keys @returns {FoundRecord[]} each existing key once, in the order asked */
    lookup: (keys) =>
      db.transaction(() =>
        [...new Set(keys)].flatMap((key) => {
          const held = load(key);
          if (held === undefined) return [];
          const groups = [...held.groups].sort(compare);
          return [{ key, fields: Object.fromEntries(held.fields), groups }];
        }),
      )(),
  };
};
