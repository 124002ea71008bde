// How explain's timeline words a reconfiguration: what a profile's destination became, and only what
// changed, judged as apply judges a config unchanged (JSON values, the order of object keys aside).
import { describe, expect, it } from 'vitest';
import { configWords } from '../engine/audit/story.js';
import { destination } from './support/given.js';

const defaultMode = (): 'sync' => 'sync';

describe('a reconfiguration in words', () => {
  it('given a first config, then it names the type, mode, collection and key field', () => {
    expect(configWords(null, destination({ mode: 'additive' }), defaultMode)).toBe(
      'configured: memory, additive mode, collection every live profile, key field email',
    );
  });

  it('given the same mapping written in another key order beside a new mode, then only the mode is named', () => {
    const before = destination({ mode: 'sync', mapping: { email: 'email', ltv: 'lifetimeValue' } });
    const after = destination({ mode: 'enrich', mapping: { ltv: 'lifetimeValue', email: 'email' } });
    expect(configWords(before, after, defaultMode)).toBe('reconfigured: mode sync → enrich');
  });

  it('given a mapping and group mapping that differ in a value, then both are named as changed', () => {
    const before = destination({ mode: 'sync' });
    const after = destination({
      mode: 'sync',
      mapping: { email: 'email', ltv: 'ltv' },
      groupMapping: { vip: 'Very important' },
    });
    expect(configWords(before, after, defaultMode)).toBe(
      'reconfigured: mapping changed; group mapping changed',
    );
  });

  it('given a config removed, then it says so', () => {
    expect(configWords(destination({ mode: 'sync' }), null, defaultMode)).toBe('destination removed');
  });
});
