// What a `kurrentdb://` store URL means: the client's connection string, syncline's optional stream
// prefix, and how the store is named to people, never with the credentials the URL may carry.
import * as E from 'fp-ts/lib/Either.js';

export type KurrentLocation = {
  readonly kind: 'kurrentdb';
  /** the URL as given, less syncline's own `prefix` parameter: handed to the client */
  readonly connectionString: string;
  /** put before every stream name syncline writes or reads (default none) */
  readonly prefix: string;
  /** `kurrentdb://host:port`, for messages: no user, no password, no other parameter */
  readonly shown: string;
  /** the password the URL carries, if any: removed from every message that could repeat it */
  readonly secret?: string;
};

/** The schemes of the client's connection strings (the `+discover` forms find a cluster by gossip). */
export const KURRENT_SCHEMES = ['kurrentdb', 'kurrent', 'kdb', 'esdb', 'eventstore'].flatMap((s) => [
  s,
  `${s}+discover`,
]);

/** `url` as a KurrentDB store, or why it is not one. */
export const parseKurrentUrl = (url: string): E.Either<string, KurrentLocation> => {
  const form = 'use kurrentdb://HOST:PORT?tls=false[&prefix=NAME] (or esdb://…, or a +discover form)';
  const scheme = /^([a-z+]+):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined || !KURRENT_SCHEMES.includes(scheme))
    return E.left(`the KurrentDB store URL cannot be read; ${form}`);
  // Read by hand: a cluster's seeds (host:port,host:port) are no URL authority the WHATWG parser takes.
  const afterScheme = url.slice(scheme.length + 3);
  const queryAt = afterScheme.indexOf('?');
  const beforeQuery = queryAt < 0 ? afterScheme : afterScheme.slice(0, queryAt);
  const query = new URLSearchParams(queryAt < 0 ? '' : afterScheme.slice(queryAt + 1));
  const authority = beforeQuery.split('/')[0] ?? '';
  const at = authority.lastIndexOf('@');
  const credentials = at < 0 ? '' : authority.slice(0, at);
  const hosts = authority.slice(at + 1);
  if (hosts === '') return E.left(`the KurrentDB store URL names no host; ${form}`);
  const prefixes = query.getAll('prefix');
  if (prefixes.length > 1) return E.left('the KurrentDB store URL names more than one prefix');
  const prefix = prefixes[0] ?? '';
  // syncline's own index streams are `<prefix>syncline.…`; a prefix cannot make a system stream.
  if (prefix.startsWith('$'))
    return E.left(`the KurrentDB store URL's prefix cannot start with $ (system streams)`);
  query.delete('prefix');
  const rest = query.toString();
  let password = '';
  try {
    password = decodeURIComponent(credentials.slice(credentials.indexOf(':') + 1 || credentials.length));
  } catch {
    return E.left(`the KurrentDB store URL cannot be read; ${form}`);
  }
  return E.right({
    kind: 'kurrentdb',
    connectionString: `${scheme}://${beforeQuery}${rest === '' ? '' : `?${rest}`}`,
    prefix,
    shown: `${scheme}://${hosts}`,
    ...(password === '' ? {} : { secret: password }),
  });
};

/** `text` with the store's password (as given, and as a URL encodes it) removed. */
export const withoutKurrentSecret = (location: Pick<KurrentLocation, 'secret'>, text: string): string => {
  const secret = location.secret;
  if (secret === undefined || secret === '') return text;
  return text.split(secret).join('***').split(encodeURIComponent(secret)).join('***');
};
