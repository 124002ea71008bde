// The http destination's wire protocol as codecs: the bodies syncline posts and the answers it
// accepts (docs/formats.md, "The http destination protocol"), and how requests are signed.
import { createHmac } from 'node:crypto';
import * as t from 'io-ts';
import { ObservedRecord } from '../../../domain/decision.js';
import { Properties } from '../../../domain/values.js';

/** A command as posted: the engine's, without the profile it is about (the receiver's business is records). */
export const WireCommand = t.type({
  commandId: t.string,
  operation: t.union([t.literal('create'), t.literal('update'), t.literal('delete')]),
  key: t.string,
  fields: t.type({ set: Properties, unset: t.array(t.string) }),
  groups: t.type({ add: t.array(t.string), remove: t.array(t.string) }),
});
export type WireCommand = t.TypeOf<typeof WireCommand>;

/** `POST <url>/apply`. `keyField` tells a receiver which field of `set` is a rename's new key. */
export const ApplyRequest = t.type({
  destinationId: t.string,
  keyField: t.string,
  commands: t.array(WireCommand),
});
export type ApplyRequest = t.TypeOf<typeof ApplyRequest>;

/** `POST <url>/lookup`. */
export const LookupRequest = t.type({ keys: t.array(t.string) });
export type LookupRequest = t.TypeOf<typeof LookupRequest>;

// Answers are read leniently (fields syncline does not know are ignored): a receiver may say more.
export const CommandResult = t.union([
  t.type({ commandId: t.string, ok: t.literal(true) }),
  t.intersection([
    t.type({ commandId: t.string, ok: t.literal(false), error: t.string, retryable: t.boolean }),
    t.partial({ retryAfterMs: t.number }),
  ]),
]);
export type CommandResult = t.TypeOf<typeof CommandResult>;

export const ApplyAnswer = t.type({ results: t.array(CommandResult) });
export type ApplyAnswer = t.TypeOf<typeof ApplyAnswer>;

export const LookupAnswer = t.type({ records: t.array(ObservedRecord) });
export type LookupAnswer = t.TypeOf<typeof LookupAnswer>;

export const SIGNATURE_HEADER = 'Syncline-Signature';

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`: what a receiver recomputes. */
export const signature = (secret: string, body: string | Buffer, seconds: number): string => {
  const mac = createHmac('sha256', secret).update(`${seconds}.`).update(body).digest('hex');
  return `t=${seconds},v1=${mac}`;
};

/** The base URL with `path` appended to its own path (`http://h/hooks` → `http://h/hooks/apply`). */
export const endpointOf = (base: string, path: string): string => {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
  return url.toString();
};
