// Deterministic command ids: the same destination, profile, store position and operation always
// give the same UUID, so a replayed or retried decision is recognisably the same command.
import { hash } from 'node:crypto';

/** A fixed namespace for syncline's name-based (v5) UUIDs; changing it would change every id. */
const SYNCLINE_NAMESPACE = '6f3a2c1e-9b7d-4e25-8a41-2d0c5e7f9b13';
const NAMESPACE_BYTES = Buffer.from(SYNCLINE_NAMESPACE.replaceAll('-', ''), 'hex');

/**
 * Namespace and name, hashed from one buffer reused across calls: a first sync derives one id per
 * profile, and a fresh Buffer per id (from, concat) cost more than the hash itself. A name too long
 * for it gets a buffer of its own.
 */
let scratch = Buffer.alloc(1024);
NAMESPACE_BYTES.copy(scratch);

/**
 * RFC 9562 §5.5: SHA-1 of namespace and name, with the version and variant bits set. Written here
 * over node's one-shot hash because the uuid package's v5() spends twice as long creating a hash
 * object and formatting bytes; the tests check every id against that v5() (uuid stays a development
 * dependency for that).
 */
const v5 = (name: string): string => {
  const most = NAMESPACE_BYTES.length + Buffer.byteLength(name, 'utf8');
  if (most > scratch.length) {
    scratch = Buffer.alloc(most * 2);
    NAMESPACE_BYTES.copy(scratch);
  }
  const used = NAMESPACE_BYTES.length + scratch.write(name, NAMESPACE_BYTES.length, 'utf8');
  const h = hash('sha1', scratch.subarray(0, used), 'hex');
  const variant = ((parseInt(h.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
};

/** The name is the JSON of [destinationId, profileId, position, operation]; built from its parts,
 *  which JSON-encode each string the same way, without an array per id. */
export const commandId = (
  destinationId: string,
  profileId: string,
  position: bigint | number | string,
  operation: string,
): string =>
  v5(
    `[${JSON.stringify(destinationId)},${JSON.stringify(profileId)},${JSON.stringify(String(position))},${JSON.stringify(operation)}]`,
  );
