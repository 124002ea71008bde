// Deterministic command ids: the same destination, profile, store position and operation always
// give the same UUID, so a replayed or retried decision is recognisably the same command.
import { hash } from 'node:crypto';

/** A fixed namespace for syncline's name-based (v5) UUIDs; changing it would change every id. */
const SYNCLINE_NAMESPACE = '6f3a2c1e-9b7d-4e25-8a41-2d0c5e7f9b13';
const NAMESPACE_BYTES = Buffer.from(SYNCLINE_NAMESPACE.replaceAll('-', ''), 'hex');

/**
 * RFC 9562 §5.5: SHA-1 of namespace and name, with the version and variant bits set. Written here
 * over node's one-shot hash because a first sync derives one id per profile and the uuid package's
 * v5() spends twice as long creating a hash object and formatting bytes; the tests check every id
 * against that v5() (uuid stays a development dependency for that).
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
