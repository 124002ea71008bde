// Deterministic command ids: the same destination, profile, store position and operation always
// give the same UUID, so a replayed or retried decision is recognisably the same command.
import { hash } from 'node:crypto';

/** A fixed namespace for syncline's name-based (v5) UUIDs; changing it would change every id. */
const SYNCLINE_NAMESPACE = '6f3a2c1e-9b7d-4e25-8a41-2d0c5e7f9b13';
const NAMESPACE_BYTES = Buffer.from(SYNCLINE_NAMESPACE.replaceAll('-', ''), 'hex');

/**
 * Namespace and name, hashed from one buffer reused across calls: a first sync derives one id per
 * profile, and a fresh Buffer per id (from, concat, even subarray) cost more than the hash itself.
 * The views over it are kept by length, as names of one run mostly share a few lengths. A name too
 * long for it gets a larger buffer.
 */
let scratch = Buffer.alloc(1024);
NAMESPACE_BYTES.copy(scratch);
const views = new Map<number, Buffer>();

const viewOf = (length: number): Buffer => {
  let view = views.get(length);
  if (view === undefined) {
    view = scratch.subarray(0, length);
    views.set(length, view);
  }
  return view;
};

/** The hash's hex digits, and the UUID they are laid out in (version 5 and its dashes in place). */
const hex = Buffer.alloc(40);
const uuid = Buffer.from('00000000-0000-5000-8000-000000000000', 'latin1');

/** The variant digit (10xx) for each hex digit of the hash at its place, by character code. */
const VARIANT = new Uint8Array(128);
for (const c of '0123456789abcdef')
  VARIANT[c.charCodeAt(0)] = ((parseInt(c, 16) & 0x3) | 0x8).toString(16).charCodeAt(0);

/**
 * The name-based UUID of `name` in syncline's namespace (stores that identify events by UUID use it
 * too). RFC 9562 §5.5: SHA-1 of namespace and name, with the version and variant bits set. Written here
 * over node's one-shot hash because the uuid package's v5() spends twice as long creating a hash
 * object and formatting bytes; the tests check every id against that v5() (uuid stays a development
 * dependency for that). The hash is asked for in hex (as a Buffer it costs four times as much) and
 * its digits are moved into place in a buffer: slicing and joining them made eight strings per id,
 * 360 bytes of a first sync's allocation per profile.
 */
export const v5 = (name: string): string => {
  // At most three bytes per UTF-16 unit.
  const most = NAMESPACE_BYTES.length + name.length * 3;
  if (most > scratch.length) {
    scratch = Buffer.alloc(most * 2);
    NAMESPACE_BYTES.copy(scratch);
    views.clear();
  }
  const used = NAMESPACE_BYTES.length + scratch.write(name, NAMESPACE_BYTES.length, 'utf8');
  hex.write(hash('sha1', viewOf(used), 'hex'), 0, 40, 'latin1');
  // xxxxxxxx-xxxx-5xxx-Vxxx-xxxxxxxxxxxx from the first 32 digits (digit 12 is the version's).
  // Byte by byte: Buffer#copy makes a view of its source for each call.
  for (let i = 0; i < 8; i++) uuid[i] = hex[i] as number;
  for (let i = 8; i < 12; i++) uuid[i + 1] = hex[i] as number;
  for (let i = 13; i < 16; i++) uuid[i + 2] = hex[i] as number;
  uuid[19] = VARIANT[hex[16] as number] as number;
  for (let i = 17; i < 20; i++) uuid[i + 3] = hex[i] as number;
  for (let i = 20; i < 32; i++) uuid[i + 4] = hex[i] as number;
  return uuid.toString('latin1', 0, 36);
};

/** A string JSON writes as itself between quotes: printable ASCII without `"` and `\`. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const quoted = (s: string): string => (PLAIN.test(s) ? `"${s}"` : JSON.stringify(s));

/** The parts of the name a run shares across its ids, kept from the last call. */
let shared = { destinationId: '', position: '', operation: '', head: '[""', tail: ',"",""]' };

/** The name is the JSON of [destinationId, profileId, position, operation]; built from its parts,
 *  which JSON-encode each string the same way, without an array per id. */
export const commandId = (
  destinationId: string,
  profileId: string,
  position: bigint | number | string,
  operation: string,
): string => {
  const at = String(position);
  if (shared.destinationId !== destinationId || shared.position !== at || shared.operation !== operation)
    shared = {
      destinationId,
      position: at,
      operation,
      head: `[${JSON.stringify(destinationId)}`,
      tail: `,${JSON.stringify(at)},${JSON.stringify(operation)}]`,
    };
  return v5(`${shared.head},${quoted(profileId)}${shared.tail}`);
};
