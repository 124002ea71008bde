// The contract for http receivers, as a vitest suite exported in `syncline/testing`: point it at your
// own receiver's URL to check it follows the protocol, through the http destination syncline uses.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import type { DestinationConfig } from '../../domain/destination.js';
import { httpDestinationType } from '../../adapters/destinations/http/destination.js';
import { endpointOf, signature, SIGNATURE_HEADER } from '../../adapters/destinations/http/protocol.js';
import { destinationContract } from './destination.js';
import { contractConfig, create } from './destinationHelpers.js';

/** A receiver started for one test, empty, and what it takes to reach it. */
export type ReceiverUnderTest = {
  /** its base URL: the suite posts to `<url>/apply` and `<url>/lookup` */
  readonly url: string;
  /** the secret it checks signatures with; without one, the signature checks are skipped */
  readonly secret?: string;
  /** stops it and removes what it stored */
  readonly close: () => Promise<void>;
};

/** Starts a fresh, empty receiver (a new database, schema or namespace per call). */
export type StartReceiverForTest = () => Promise<ReceiverUnderTest>;

const SECRET_VARIABLE = 'SYNCLINE_RECEIVER_CONTRACT_SECRET';

const configFor = (r: ReceiverUnderTest, config: DestinationConfig): DestinationConfig => ({
  ...config,
  type: 'http',
  options: { url: r.url, ...(r.secret === undefined ? {} : { secret: { env: SECRET_VARIABLE } }) },
});

const envFor = (r: ReceiverUnderTest): NodeJS.ProcessEnv =>
  r.secret === undefined ? {} : { [SECRET_VARIABLE]: r.secret };

/**
 * The Destination contract over HTTP (every create, update, rename, delete and lookup the built-in
 * destinations pass), then the protocol's own rules: one result per command, a resent command
 * answered ok without effect twice, and, with a secret, requests signed wrongly or too long ago refused.
 */
export const receiverContract = (
  name: string,
  start: StartReceiverForTest,
  /** `signed: false` for a receiver started without a secret: its signature checks are not run */
  capabilities: { readonly signed?: boolean } = {},
): void => {
  destinationContract(`http receiver ${name}`, async (config) => {
    const receiver = await start();
    const opened = await httpDestinationType.open(configFor(receiver, config), envFor(receiver))();
    if (opened._tag === 'Left') {
      await receiver.close();
      throw new Error(opened.left.message);
    }
    const destination = opened.right;
    return {
      destination,
      cleanup: async () => {
        await destination.close();
        await receiver.close();
      },
    };
  });

  describe(`Receiver protocol: ${name}`, () => {
    let receiver: ReceiverUnderTest;
    beforeEach(async () => {
      receiver = await start();
    });
    afterEach(() => receiver.close());

    const post = async (path: string, body: unknown, sign: 'right' | 'wrong' | 'stale' = 'right') => {
      const text = JSON.stringify(body);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (receiver.secret !== undefined) {
        const now = Math.floor(Date.now() / 1000) - (sign === 'stale' ? 3600 : 0);
        headers[SIGNATURE_HEADER] = signature(
          sign === 'wrong' ? `${receiver.secret}x` : receiver.secret,
          text,
          now,
        );
      }
      const answer = await request(endpointOf(receiver.url, path), { method: 'POST', headers, body: text });
      const answered = await answer.body.text();
      return {
        status: answer.statusCode,
        body: answered === '' ? undefined : (JSON.parse(answered) as unknown),
      };
    };
    const applyBody = (...commandIds: string[]) => ({
      destinationId: contractConfig.destinationId,
      keyField: contractConfig.keyField,
      commands: commandIds.map((id, i) => {
        const { profileId: _profileId, ...wire } = { ...create(`r${i}@example.com`), commandId: id };
        return wire;
      }),
    });

    it('answers a lookup of no keys with no records', async () => {
      expect(await post('/lookup', { keys: [] })).toStrictEqual({ status: 200, body: { records: [] } });
    });

    it('answers an apply with one ok result per command, or an empty 2xx', async () => {
      const answer = await post('/apply', applyBody('protocol-1', 'protocol-2'));
      expect(answer.status).toBeGreaterThanOrEqual(200);
      expect(answer.status).toBeLessThan(300);
      if (answer.body !== undefined)
        expect(answer.body).toStrictEqual({
          results: [
            { commandId: 'protocol-1', ok: true },
            { commandId: 'protocol-2', ok: true },
          ],
        });
    });

    it('answers a resent command ok, and it holds the record once', async () => {
      await post('/apply', applyBody('protocol-3'));
      const again = await post('/apply', applyBody('protocol-3'));
      expect(again.status).toBeLessThan(300);
      const found = await post('/lookup', { keys: ['r0@example.com'] });
      expect((found.body as { records: unknown[] }).records).toHaveLength(1);
    });

    // Not registered at all for a receiver without a secret: nothing to check, nothing skipped.
    if (capabilities.signed !== false)
      it('refuses a request signed with another secret, or long ago, and keeps nothing of it', async () => {
        if (receiver.secret === undefined)
          throw new Error('the receiver was started without a secret: pass { signed: false }');
        for (const sign of ['wrong', 'stale'] as const) {
          const refused = await post('/apply', applyBody(`protocol-${sign}`), sign);
          expect(refused.status, `signed ${sign}`).toBe(401);
        }
        const found = await post('/lookup', { keys: ['r0@example.com'] });
        expect(found.body).toStrictEqual({ records: [] });
      });
  });
};
