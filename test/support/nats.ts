// The NATS JetStream server the pipeline suites run against, and streams of their own that they
// delete after. Without a server the suites skip with one line; with CI=true a missing server fails.
import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager, type StoredMsg } from '@nats-io/jetstream';

/** The server to test against: SYNCLINE_TEST_NATS_URL, else the local one every CI machine runs. */
export const NATS_URL = process.env['SYNCLINE_TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222';
const servers = new URL(NATS_URL).host;

const probe = async (): Promise<string | undefined> => {
  try {
    const nc = await connect({ servers, timeout: 3000, maxReconnectAttempts: 0 });
    try {
      await jetstreamManager(nc, { timeout: 3000 }).then((m) => m.getAccountInfo());
    } finally {
      await nc.close();
    }
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
};

const unreachable = await probe();
if (unreachable !== undefined && process.env['CI'] === 'true')
  throw new Error(
    `CI=true but the NATS server at ${NATS_URL} does not answer with JetStream: ${unreachable}`,
  );
if (unreachable !== undefined)
  console.warn(`skipping the NATS suites: no JetStream server at ${NATS_URL} (${unreachable})`);

/** Whether the suites can run: describe.skipIf(!natsAnswers). */
export const natsAnswers = unreachable === undefined;

export type TestStreams = {
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  /** a stream of its own taking `<prefix>.>`, with a name and a prefix no other test uses */
  readonly fresh: () => Promise<{ readonly name: string; readonly prefix: string }>;
  /** every message of the stream, in order */
  readonly messages: (name: string) => Promise<StoredMsg[]>;
  /** deletes the streams made, and closes */
  readonly close: () => Promise<void>;
};

export const testStreams = async (): Promise<TestStreams> => {
  const nc = await connect({ servers, timeout: 3000 });
  const jsm = await jetstreamManager(nc);
  const made: string[] = [];
  return {
    nc,
    jsm,
    fresh: async () => {
      const id = randomBytes(5).toString('hex');
      const name = `SYNCLINE_TEST_${id}`;
      const prefix = `synclinetest_${id}`;
      await jsm.streams.add({ name, subjects: [`${prefix}.>`] });
      made.push(name);
      return { name, prefix };
    },
    messages: async (name) => {
      const info = await jsm.streams.info(name);
      const out: StoredMsg[] = [];
      for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
        const m = await jsm.streams.getMessage(name, { seq });
        if (m !== null) out.push(m);
      }
      return out;
    },
    close: async () => {
      for (const name of made) await jsm.streams.delete(name).catch(() => false);
      await nc.close();
    },
  };
};
