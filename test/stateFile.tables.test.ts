// The state file's tables forget values they read and did not change once they hold many, so that a
// run reading every profile once keeps a bounded part of them; values changed and not saved stay.
import { describe, expect, it } from 'vitest';
import type { ProfileState } from '../projections/world.js';
import { opened, saved, stateDirPerSpec, storeOf } from './support/stateFiles.js';

const dir = stateDirPerSpec();

const ROWS = 120_000;
const id = (i: number): string => `p${String(i).padStart(6, '0')}`;
const profile = (i: number): ProfileState => ({ properties: { n: i }, groups: [], deleted: false });

describe('a table of the state file reading many rows', () => {
  it('given 120,000 profiles saved, when every one is read, then a value read early and not changed is read again from the file (equal, not the same object), while a value changed and not saved stays what was set, and is saved', async () => {
    const path = dir.path('state.db');
    const first = await opened(path, storeOf([]));
    for (let i = 0; i < ROWS; i++) first.file.state.world.profiles.set(id(i), profile(i));
    expect(saved(first.file)).toBe('saved');
    first.file.close();

    const { file } = await opened(path, storeOf([]));
    const profiles = file.state.world.profiles;
    const early = profiles.get(id(0));
    const changed = profiles.get(id(1)) as ProfileState;
    changed.properties.n = -1;
    profiles.set(id(1), changed);
    for (let i = 2; i < ROWS; i++) expect(profiles.get(id(i))?.properties.n).toBe(i);
    const again = profiles.get(id(0));
    expect(again).toStrictEqual(early);
    expect(again).not.toBe(early);
    expect(profiles.get(id(1))).toBe(changed);
    expect(profiles.size).toBe(ROWS);
    // Nothing was folded, so the position is as saved; the changed row is saved all the same.
    expect(saved(file)).toBe('saved');
    file.close();
    const back = await opened(path, storeOf([]));
    expect(back.file.state.world.profiles.get(id(1))?.properties.n).toBe(-1);
    back.file.close();
  }, 60_000);

  it('given 5,000 profiles saved (more than a page of rows), some deleted, changed or added and not saved, when the table is read whole, then it lists exactly the profiles there are, each once, the unsaved ones with their values', async () => {
    const path = dir.path('state.db');
    const first = await opened(path, storeOf([]));
    for (let i = 0; i < 5_000; i++) first.file.state.world.profiles.set(id(i), profile(i));
    expect(saved(first.file)).toBe('saved');
    first.file.close();
    const { file } = await opened(path, storeOf([]));
    const profiles = file.state.world.profiles;
    expect(profiles.delete(id(10))).toBe(true);
    expect(profiles.delete(id(10))).toBe(false);
    expect(profiles.delete('nobody')).toBe(false);
    profiles.set(id(4_999), profile(-4_999));
    profiles.set('zz-new', profile(-1));
    const expected = new Map<string, number>();
    for (let i = 0; i < 5_000; i++) if (i !== 10) expected.set(id(i), i);
    expected.set(id(4_999), -4_999);
    expected.set('zz-new', -1);
    const listed = [...profiles.entries()].map(([k, v]) => [k, v.properties.n] as const);
    expect(listed.length).toBe(expected.size);
    expect(new Map(listed)).toStrictEqual(expected);
    expect(new Set(profiles.keys())).toStrictEqual(new Set(expected.keys()));
    expect([...profiles.keys()].length).toBe(expected.size);
    expect(profiles.size).toBe(expected.size);
    file.close();
  });

  it('given a table emptied and given one row, when saved and opened again, then it holds that row alone, counted as one', async () => {
    const path = dir.path('state.db');
    const first = await opened(path, storeOf([]));
    for (let i = 0; i < 3; i++) first.file.state.world.profiles.set(id(i), profile(i));
    expect(saved(first.file)).toBe('saved');
    const profiles = first.file.state.world.profiles;
    profiles.clear();
    expect(profiles.size).toBe(0);
    expect(profiles.get(id(0))).toBeUndefined();
    expect([...profiles.keys()]).toStrictEqual([]);
    profiles.set(id(7), profile(7));
    expect(saved(first.file)).toBe('saved');
    first.file.close();
    const { file } = await opened(path, storeOf([]));
    expect([...file.state.world.profiles.keys()]).toStrictEqual([id(7)]);
    expect(file.state.world.profiles.size).toBe(1);
    file.close();
  });
});
