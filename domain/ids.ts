// Deterministic command ids: the same destination, profile, store position and operation always
// give the same UUID, so a replayed or retried decision is recognisably the same command.
import { parse as parseUuid, v5 as uuidv5 } from 'uuid';

/** A fixed namespace for syncline's name-based (v5) UUIDs; changing it would change every id. */
const SYNCLINE_NAMESPACE = '6f3a2c1e-9b7d-4e25-8a41-2d0c5e7f9b13';
/** Parsed once: v5() would parse the namespace string again for every command. */
const NAMESPACE_BYTES = parseUuid(SYNCLINE_NAMESPACE);

export const commandId = (
  destinationId: string,
  profileId: string,
  position: bigint | number | string,
  operation: string,
): string => uuidv5(JSON.stringify([destinationId, profileId, String(position), operation]), NAMESPACE_BYTES);
