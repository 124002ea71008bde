// Command ids: the same destination, profile, position and operation always give the same UUID (v5),
// and changing any one of them gives another, so a replayed decision is recognisably the same command.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { v5 } from 'uuid';
import { commandId } from '../domain/ids.js';

describe('command ids', () => {
  it('given the same inputs, when computed twice, then the id is the same name-based UUID', () => {
    const id = commandId('crm', 'p1', 42, 'create');
    expect(id).toBe(commandId('crm', 'p1', 42, 'create'));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // Pinned: a change of namespace or encoding would silently change every stored command id.
    expect(id).toBe('55b453a3-b016-5571-91d0-3a669327c9a4');
  });

  it('given one input changed, when computed, then the id differs', () => {
    const ids = new Set([
      commandId('crm', 'p1', 42, 'create'),
      commandId('crm2', 'p1', 42, 'create'),
      commandId('crm', 'p2', 42, 'create'),
      commandId('crm', 'p1', 43, 'create'),
      commandId('crm', 'p1', 42, 'update'),
    ]);
    expect(ids.size).toBe(5);
  });

  it('given any profile id, even outside ASCII, then the id is exactly RFC 9562 v5 as the uuid library computes it', () => {
    const namespace = '6f3a2c1e-9b7d-4e25-8a41-2d0c5e7f9b13';
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.nat(), (profileId, position) => {
        expect(commandId('crm', profileId, position, 'update')).toBe(
          v5(JSON.stringify(['crm', profileId, String(position), 'update']), namespace),
        );
      }),
    );
  });

  it('given ids of several destinations, positions and operations asked in any order, then each is the v5 of its own inputs', () => {
    // The parts a run shares are kept from one call to the next: no id may see another's.
    const namespace = '6f3a2c1e-9b7d-4e25-8a41-2d0c5e7f9b13';
    const input = fc.tuple(
      fc.constantFrom('crm', 'crm2', 'ü "dest"', ''),
      fc.string({ unit: 'grapheme' }),
      fc.oneof(fc.nat(), fc.bigInt({ min: 0n }), fc.constantFrom('7', '007')),
      fc.constantFrom('create', 'update', 'delete'),
    );
    fc.assert(
      fc.property(fc.array(input, { maxLength: 20 }), (asked) => {
        for (const [destinationId, profileId, position, operation] of asked)
          expect(commandId(destinationId, profileId, position, operation)).toBe(
            v5(JSON.stringify([destinationId, profileId, String(position), operation]), namespace),
          );
      }),
    );
  });

  it('given a profile id longer than the hashing buffer, then the id is still v5, and shorter ones after it too', () => {
    const namespace = '6f3a2c1e-9b7d-4e25-8a41-2d0c5e7f9b13';
    const name = (profileId: string) => JSON.stringify(['crm', profileId, '7', 'create']);
    for (const profileId of ['p'.repeat(3000), 'ü'.repeat(1500), 'p1'])
      expect(commandId('crm', profileId, 7, 'create')).toBe(v5(name(profileId), namespace));
  });
});
