// Damage to a SQLite file as a failing disk leaves it: the pages of one table or index found through
// SQLite's dbstat, and bytes overwritten in them, so a spec meets corruption where SQLite meets it.
import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import Database from 'better-sqlite3';

export type Page = {
  readonly pageno: number;
  /** 'internal', 'leaf' or 'overflow' */
  readonly pagetype: string;
  /** where the page sits in its b-tree, in dbstat's notation ('/' the root, '/000/' its first child) */
  readonly path: string;
};

/**
 * Writes what the write-ahead log holds into the file itself, so that damage done to the file is
 * what a reader meets (a page still in the log would be read from there, whole). Closing the last
 * connection removes the log.
 */
export const checkpointed = (file: string): void => {
  const db = new Database(file, { fileMustExist: true });
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  if (existsSync(`${file}-wal`)) throw new Error(`${file} still has a write-ahead log`);
};

/** The pages of a table or index (by its name in sqlite_schema), in b-tree order. */
export const pagesOf = (file: string, name: string): Page[] => {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const pages = db
      .prepare('SELECT pageno, pagetype, path FROM dbstat WHERE name = ? ORDER BY path')
      .all(name) as Page[];
    if (pages.length === 0) throw new Error(`${file} has no pages for ${name}`);
    return pages;
  } finally {
    db.close();
  }
};

export const pageSize = (file: string): number => {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.pragma('page_size', { simple: true }) as number;
  } finally {
    db.close();
  }
};

/**
 * Overwrites `length` bytes of page `pageno` from `offset` with 0xA5, a byte no page header,
 * page number or UTF-8 text holds there. At offset 0 of a b-tree page it ruins the page's header;
 * at offset 0 of an overflow page, the number of the next page in its chain.
 */
export const damagePage = (file: string, pageno: number, offset = 0, length = 64): void => {
  const size = pageSize(file);
  if (offset + length > size) throw new Error(`the damage runs past the end of page ${pageno}`);
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, Buffer.alloc(length, 0xa5), 0, length, (pageno - 1) * size + offset);
  } finally {
    closeSync(fd);
  }
};
