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

/** The UUID's variant nibble (10xx) for each hex digit of the hash at its place. */
const VARIANT: Readonly<Record<string, string>> = Object.fromEntries(
  [...'0123456789abcdef'].map((c) => [c, ((parseInt(c, 16) & 0x3) | 0x8).toString(16)]),
);

/**
 * RFC 9562 §5.5: SHA-1 of namespace and name, with the version and variant bits set. Written here
 * over node's one-shot hash because the uuid package's v5() spends twice as long creating a hash
 * object and formatting bytes; the tests check every id against that v5() (uuid stays a development
 * dependency for that). The hash is asked for in hex: as a Buffer it costs four times as much.
 */
const v5 = (name: string): string => {
  // At most three bytes per UTF-16 unit.
  const most = NAMESPACE_BYTES.length + name.length * 3;
  if (most > scratch.length) {
    scratch = Buffer.alloc(most * 2);
    NAMESPACE_BYTES.copy(scratch);
    views.clear();
  }
  const used = NAMESPACE_BYTES.length + scratch.write(name, NAMESPACE_BYTES.length, 'utf8');
  const h = hash('sha1', viewOf(used), 'hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${VARIANT[h.charAt(16)]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
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
