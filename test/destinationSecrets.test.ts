// The guard at the Destination port: every message a wrapped type's destinations give has each value
// read from a variable replaced by its label, whatever the adapter behind it says.
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { describe, expect, it } from 'vitest';
import type { Command, CommandOutcome } from '../domain/command.js';
import type { DestinationConfig } from '../domain/destination.js';
import type { Destination, DestinationError, DestinationType } from '../engine/ports.js';
import { redactor } from '../adapters/destinations/redaction.js';
import { secretsOf, withoutSecrets } from '../adapters/destinations/secrets.js';

const SECRET = 'hunter2-vault.db';
const LABEL = 'options.path (from env DB)';

describe('redactor', () => {
  it('given secrets, when a text holds them, then each is replaced by its label, longest first', () => {
    const redact = redactor([
      ['abc', 'options.a (from env A)'],
      ['abcdef', 'options.b (from env B)'],
    ]);
    expect(redact('x abcdef y abc z abcabc')).toBe(
      'x options.b (from env B) y options.a (from env A) z options.a (from env A)options.a (from env A)',
    );
  });

  it('given a secret that occurs in a label, when redacting, then the label put in is not searched again', () => {
    // The value "env" is in every label: a second pass would never end, or mangle the label.
    expect(redactor([['env', 'options.t (from env T)']])('no such table: env')).toBe(
      'no such table: options.t (from env T)',
    );
  });

  it('given secrets holding characters that patterns use, when redacting, then they are matched as text', () => {
    expect(redactor([['a.b*(c)', 'L']])('a.b*(c) axb*(c)')).toBe('L axb*(c)');
  });

  it('given no secrets or only empty ones, when redacting, then the text is returned as it is', () => {
    expect(redactor([['', 'L']])('text')).toBe('text');
  });
});

const config = (options: Record<string, unknown>): DestinationConfig => ({
  destinationId: 'crm',
  type: 'leaky',
  collection: { kind: 'all' },
  keyField: 'email',
  mapping: { email: 'email' },
  options,
});

const command: Command = {
  commandId: 'c1',
  profileId: 'p1',
  operation: 'create',
  key: 'a',
  fields: { set: { email: 'a' }, unset: [] },
  groups: { add: [], remove: [] },
};

/** A type whose every message holds its path option's value, as a careless adapter's would. */
const leaky = (fail: 'open' | 'calls' | 'outcomes' | 'throws'): DestinationType => ({
  description: { type: 'leaky', description: '', modes: ['sync'], defaultMode: 'sync', options: [] },
  open: (c, env) => {
    const path = env.DB ?? String(c.options?.path);
    const error: DestinationError = {
      _tag: 'DestinationUnavailable',
      message: `cannot write ${path}`,
      retryable: true,
    };
    const outcome: CommandOutcome = {
      commandId: 'c1',
      status: 'error',
      retryable: false,
      message: `no room in ${path}`,
    };
    const destination: Destination = {
      describe: () => leaky(fail).description,
      lookup: () =>
        fail === 'throws' ? () => Promise.reject(new Error(`${path} vanished`)) : TE.left(error),
      apply: () =>
        fail === 'outcomes' ? TE.right([outcome, { commandId: 'c2', status: 'ok' }]) : TE.left(error),
      close: () => (fail === 'throws' ? Promise.reject(new TypeError(`closing ${path}`)) : Promise.resolve()),
    };
    return fail === 'open'
      ? TE.left({ _tag: 'OpenFailed', message: `cannot open ${path}` })
      : TE.right(destination);
  },
});

const opened = async (
  type: DestinationType,
  env: NodeJS.ProcessEnv = { DB: SECRET },
): Promise<Destination> => {
  const r = await type.open(config({ path: { env: 'DB' } }), env)();
  if (E.isLeft(r)) throw new Error(r.left.message);
  return r.right;
};

describe('withoutSecrets', () => {
  it('given a variable-read option, when opening fails, then the message names the option and variable', async () => {
    expect(
      await withoutSecrets(leaky('open')).open(config({ path: { env: 'DB' } }), { DB: SECRET })(),
    ).toStrictEqual(E.left({ _tag: 'OpenFailed', message: `cannot open ${LABEL}` }));
  });

  it('given a destination whose calls fail, when it is looked up or applied to, then the errors hold the label', async () => {
    const d = await opened(withoutSecrets(leaky('calls')));
    const error = { _tag: 'DestinationUnavailable', message: `cannot write ${LABEL}`, retryable: true };
    expect(await d.lookup(['a'])()).toStrictEqual(E.left(error));
    expect(await d.apply([command])()).toStrictEqual(E.left(error));
  });

  it('given failed outcomes, when applied, then their messages hold the label and the others are kept', async () => {
    const d = await opened(withoutSecrets(leaky('outcomes')));
    expect(await d.apply([command])()).toStrictEqual(
      E.right([
        { commandId: 'c1', status: 'error', retryable: false, message: `no room in ${LABEL}` },
        { commandId: 'c2', status: 'ok' },
      ]),
    );
  });

  it('given a bug that throws, when it rejects, then its message and the first line of its stack hold the label', async () => {
    const d = await opened(withoutSecrets(leaky('throws')));
    const rejected = await d
      .lookup(['a'])()
      .catch((e: unknown) => e as Error);
    expect(rejected).toBeInstanceOf(Error);
    expect((rejected as Error).message).toBe(`${LABEL} vanished`);
    expect((rejected as Error).stack?.split('\n')[0]).toBe(`Error: ${LABEL} vanished`);
    const closing = await d.close().catch((e: unknown) => e as Error);
    expect([(closing as Error).name, (closing as Error).message]).toStrictEqual([
      'TypeError',
      `closing ${LABEL}`,
    ]);
  });

  it('given no option read from a variable, when opened, then the destination is the adapter’s own, with nothing added', async () => {
    const type = leaky('calls');
    const plain = await type.open(config({ path: 'crm.db' }), {})();
    const wrapped = await withoutSecrets(type).open(config({ path: 'crm.db' }), {})();
    expect(E.isRight(wrapped) && Object.keys(wrapped.right)).toStrictEqual(
      E.isRight(plain) && Object.keys(plain.right),
    );
    expect(E.isRight(wrapped) && (await wrapped.right.lookup([])())).toStrictEqual(
      E.left({ _tag: 'DestinationUnavailable', message: 'cannot write crm.db', retryable: true }),
    );
  });

  it('given options read from variables, when their secrets are listed, then unset and empty variables give none', () => {
    expect(
      secretsOf(config({ path: { env: 'DB' }, table: { env: 'T' }, other: { env: 'NONE' }, literal: 'x' }), {
        DB: SECRET,
        T: '',
      }),
    ).toStrictEqual([[SECRET, LABEL]]);
  });
});
