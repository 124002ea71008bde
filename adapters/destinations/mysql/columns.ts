// How values meet MySQL column types: each column's kind (from information_schema), whether a value
// fits it, the SQL value written, and the value a cell reads back as, so that lookup returns what apply wrote.
//
// Columns syncline creates are JSON (native in MySQL 8; in MariaDB an alias of LONGTEXT with a
// json_valid CHECK): every JSON value keeps its type there, "100" and 100 stay distinct. A user's
// typed column holds only what reads back unchanged: numbers in numeric columns (whole ones in
// integer columns, no more decimals than a DECIMAL's scale: MySQL would round them silently),
// booleans in TINYINT(1)/BOOLEAN, strings in text, binary, enum and date/time columns. Anything else
// fails its command, naming the field and the column type, before MySQL sees it.
import type { Value } from '../../../domain/values.js';
import { Value as ValueCodec } from '../../../domain/values.js';

export type ColumnKind = 'json' | 'integer' | 'decimal' | 'float' | 'double' | 'boolean' | 'text' | 'binary';

export type Column = {
  readonly name: string;
  readonly kind: ColumnKind;
  /** the type as information_schema spells it (`varchar(255)`, `decimal(10,2)`): for messages */
  readonly type: string;
  /** a DECIMAL's digits after the point */
  readonly scale: number;
  /** NOT NULL without a default: an INSERT must give it */
  readonly required: boolean;
};

/** information_schema.COLUMNS, as columnOf reads it. */
export type ColumnRow = {
  readonly name: string;
  readonly dataType: string;
  readonly columnType: string;
  readonly scale: number | null;
  readonly required: boolean;
  /** a CHECK (json_valid(col)) holds: MariaDB's JSON */
  readonly jsonChecked: boolean;
};

const INTEGER = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint', 'year']);
const BINARY = new Set(['binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob']);

export const kindOf = (c: Pick<ColumnRow, 'dataType' | 'columnType' | 'jsonChecked'>): ColumnKind => {
  const dataType = c.dataType.toLowerCase();
  const columnType = c.columnType.toLowerCase();
  if (dataType === 'json' || c.jsonChecked) return 'json';
  if (dataType === 'tinyint' && /^tinyint\(1\)/.test(columnType)) return 'boolean';
  if (dataType === 'bit' && /^bit\(1\)$/.test(columnType)) return 'boolean';
  if (INTEGER.has(dataType)) return 'integer';
  if (dataType === 'decimal' || dataType === 'numeric') return 'decimal';
  if (dataType === 'float') return 'float';
  if (dataType === 'double' || dataType === 'real') return 'double';
  if (BINARY.has(dataType)) return 'binary';
  return 'text';
};

export const columnOf = (row: ColumnRow): Column => ({
  name: row.name,
  kind: kindOf(row),
  type: row.columnType.toLowerCase(),
  scale: row.scale ?? 0,
  required: row.required,
});

const what = (v: Value): string =>
  Array.isArray(v) ? 'a list' : typeof v === 'string' ? `the string ${JSON.stringify(v)}` : JSON.stringify(v);

const HOLDS: Readonly<Record<ColumnKind, string>> = {
  json: 'any value',
  integer: 'whole numbers',
  decimal: 'numbers',
  float: 'numbers of about 6 significant digits',
  double: 'numbers',
  boolean: 'true and false',
  text: 'strings',
  binary: 'strings',
};

/** A SQL value mysql2 escapes: never an array (mysql2 would expand it into a list). */
export type SqlValue = string | number | null;

/** The SQL value for `v` in column `c`, or why the column cannot hold it (naming field and type). */
export const encodeFor = (c: Column, v: Value): SqlValue | { readonly refused: string } => {
  if (v === null) return null;
  const refused = (why = `holds ${HOLDS[c.kind]}, not ${what(v)}`) => ({
    refused: `field ${c.name}: column type ${c.type} ${why}`,
  });
  switch (c.kind) {
    case 'json':
      return JSON.stringify(v);
    case 'boolean':
      return typeof v === 'boolean' ? (v ? 1 : 0) : refused();
    case 'text':
    case 'binary':
      return typeof v === 'string' ? v : refused();
    case 'integer':
      return typeof v === 'number' && Number.isSafeInteger(v) ? v : refused();
    case 'double':
      return typeof v === 'number' ? v : refused();
    case 'float':
      return typeof v === 'number' && Number(v.toPrecision(6)) === v ? v : refused();
    case 'decimal':
      if (typeof v !== 'number') return refused();
      // MySQL rounds extra decimals without an error, even in strict mode: refuse them here.
      if (Math.abs(v) < 1e21 && Number(v.toFixed(c.scale)) !== v)
        return refused(`holds at most ${c.scale} decimal${c.scale === 1 ? '' : 's'}, not ${v}`);
      return v;
  }
};

/** A cell's text: what the typeCast of lookup.ts gives (a string, or a Buffer), or a number. */
const textOf = (cell: unknown): string =>
  Buffer.isBuffer(cell)
    ? cell.toString('utf8')
    : typeof cell === 'string'
      ? cell
      : typeof cell === 'number' || typeof cell === 'bigint'
        ? cell.toString()
        : JSON.stringify(cell);

/** A cell as read (text, or a Buffer for binary columns; null) as the value apply wrote. */
export const decodeFrom = (c: Column | undefined, cell: unknown): Value => {
  if (cell === null || cell === undefined) return null;
  const text = textOf(cell);
  switch (c?.kind ?? 'text') {
    case 'json': {
      try {
        const parsed: unknown = JSON.parse(text);
        if (ValueCodec.is(parsed)) return parsed;
      } catch {
        // not JSON after all: its text is the most faithful value
      }
      return text;
    }
    case 'boolean':
      return Buffer.isBuffer(cell) ? cell.some((b) => b !== 0) : Number(text) !== 0;
    case 'integer':
    case 'decimal':
    case 'float':
    case 'double':
      return Number(text);
    case 'text':
    case 'binary':
      return text;
  }
};

/** A record key as read from the key column (a user's table may hold numbers there). */
export const keyFromCell = (cell: unknown): string => textOf(cell);
