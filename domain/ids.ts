// Deterministic command ids: the same destination, profile, store position and operation always
// give the same UUID, so a replayed or retried decision is recognisably the same command.
import { hash } from 'node:crypto';
import { parse as parseUuid } from 'uuid';

/** A fixed namespace for syncline's name-based (v5) UUIDs; changing it would change every id. */
const SYNCLINE_NAMESPACE = '6f3a2c1e-9b7d-4e25-8a41-2d0c5e7f9b13';
const NAMESPACE_BYTES = Buffer.from(parseUuid(SYNCLINE_NAMESPACE));

/**
 * RFC 9562 §5.5 (the same bytes as uuid's v5()): SHA-1 of namespace and name, with the version and
 * variant bits set. Node's one-shot hash is used because a first sync derives one id per profile,
 * and v5() spends twice as long on creating a hash object and formatting its bytes.
 */
const v5 = (name: string): string => {
  const h = hash('sha1', Buffer.concat([NAMESPACE_BYTES, Buffer.from(name, 'utf8')]), 'hex');
  const variant = ((parseInt(h.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

export const commandId = (
  destinationId: string,
  profileId: string,
  position: bigint | number | string,
  operation: string,
): string => v5(JSON.stringify([destinationId, profileId, String(position), operation]));
