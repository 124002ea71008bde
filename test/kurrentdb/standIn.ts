// A stand-in KurrentDB for tests: a grpc-js server on 127.0.0.1 that answers the calls the official
// client makes for appends (v1, v2 sessions and records), reads, $all subscriptions, feature discovery.
import { randomUUID } from 'node:crypto';
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { appendHandler, batchAppendHandler } from './append.js';
import { appendRecordsHandler } from './appendRecords.js';
import { appendSessionHandler } from './appendSession.js';
import { EventLog, ANY } from './log.js';
import {
  featuresGrpc,
  featuresPb,
  streamsGrpc,
  streamsV2Grpc,
  type StreamsServer,
  type StreamsV2Server,
} from './protos.js';
import { readHandler } from './read.js';

export type StandInOptions = {
  /** false: act as a server older than 25.1 (no v2 StreamsService at all); default true */
  readonly multiStreamAppend?: boolean;
  /** false: act as a 25.1 server (StreamsService.AppendSession, no AppendRecords); default true */
  readonly appendRecords?: boolean;
  /** what ServerFeatures reports; default "26.1.0", "25.1.0" without AppendRecords, "24.10.0" without v2 */
  readonly serverVersion?: string;
  /** write the system events a fresh server has in $all ($users, $user-admin, $user-ops); default true */
  readonly systemEvents?: boolean;
  /** a server coming back after a stop: the log it had (none seeded again) and the port it listened on */
  readonly restart?: { readonly log: EventLog; readonly port: number };
};

export type StandIn = {
  /** a connection string for the client: kurrentdb://127.0.0.1:PORT?tls=false */
  readonly url: string;
  readonly port: number;
  /** the in-memory database, for assertions and for seeding without the client */
  readonly log: EventLog;
  /** every call received, in order, as "Service/Method" (e.g. "Streams/BatchAppend") */
  readonly calls: readonly string[];
  close(): Promise<void>;
};

type Empty = InstanceType<typeof import('./protos.js').sharedPb.Empty>;
type SupportedMethods = InstanceType<typeof featuresPb.SupportedMethods>;

/**
 * ServerFeatures.GetSupportedMethods, which both halves of the client call on connecting (grpc-js
 * before its first append, to choose BatchAppend and to allow multiStreamAppend; the Rust bridge
 * before its first read). Follows the server's ServerFeatures.cs: lower-cased service and method
 * names of the gRPC endpoints it maps, Read with features "position" and "events", BatchAppend with
 * "deadline_duration", and the version as major.minor.patch. Lists only what the stand-in implements.
 * Docs: https://docs.kurrent.io/clients/node/v1.2/appending-events.html notes multiStreamAppend needs
 * KurrentDB 25.1, and the client's docs/api/appending-events.md ("Atomic appends") that appendRecords
 * needs 26.1; the client refuses either (UnsupportedError) when its method is not listed here.
 */
function supportedMethods(
  version: string,
  v2: { appendSession: boolean; appendRecords: boolean },
): SupportedMethods {
  const methods: [string, string, string[]][] = [
    ['event_store.client.streams.streams', 'read', ['position', 'events']],
    ['event_store.client.streams.streams', 'append', []],
    ['event_store.client.streams.streams', 'batchappend', ['deadline_duration']],
    ['event_store.client.server_features.serverfeatures', 'getsupportedmethods', []],
  ];
  const streamsService = 'kurrentdb.protocol.v2.streams.streamsservice';
  if (v2.appendSession) methods.push([streamsService, 'appendsession', []]);
  if (v2.appendRecords) methods.push([streamsService, 'appendrecords', []]);
  return new featuresPb.SupportedMethods()
    .setEventStoreServerVersion(version)
    .setMethodsList(
      methods.map(([service, method, features]) =>
        new featuresPb.SupportedMethod()
          .setServiceName(service)
          .setMethodName(method)
          .setFeaturesList(features),
      ),
    );
}

function seedSystemEvents(log: EventLog): void {
  const json = (type: string, data: object) => ({
    id: randomUUID(),
    type,
    isJson: true,
    data: Buffer.from(JSON.stringify(data), 'utf8'),
    metadata: new Uint8Array(),
  });
  for (const user of ['admin', 'ops']) {
    log.commit([
      {
        stream: `$user-${user}`,
        expected: ANY,
        events: [json('$UserCreated', { loginName: user, fullName: user })],
      },
    ]);
    log.commit([{ stream: '$users', expected: ANY, events: [json('$User', { loginName: user })] }]);
  }
}

export async function startStandIn(options: StandInOptions = {}): Promise<StandIn> {
  const multiStreamAppend = options.multiStreamAppend ?? true;
  const appendRecords = multiStreamAppend && (options.appendRecords ?? true);
  const version =
    options.serverVersion ?? (appendRecords ? '26.1.0' : multiStreamAppend ? '25.1.0' : '24.10.0');
  const log = options.restart?.log ?? new EventLog();
  if (options.restart === undefined && (options.systemEvents ?? true)) seedSystemEvents(log);

  const calls: string[] = [];
  const noted =
    <A extends unknown[]>(name: string, handler: (...args: A) => void) =>
    (...args: A) => {
      calls.push(name);
      handler(...args);
    };

  const server = new Server();
  server.addService(featuresGrpc.ServerFeaturesService, {
    getSupportedMethods: noted(
      'ServerFeatures/GetSupportedMethods',
      (_call: ServerUnaryCall<Empty, SupportedMethods>, callback: sendUnaryData<SupportedMethods>) =>
        callback(null, supportedMethods(version, { appendSession: multiStreamAppend, appendRecords })),
    ),
  });
  // Delete and Tombstone are left out: grpc-js answers UNIMPLEMENTED for them.
  const streams: Pick<StreamsServer, 'read' | 'append' | 'batchAppend'> = {
    read: noted('Streams/Read', readHandler(log)),
    append: noted('Streams/Append', appendHandler(log)),
    batchAppend: noted('Streams/BatchAppend', batchAppendHandler(log)),
  };
  server.addService(streamsGrpc.StreamsService, streams);
  // A server older than 25.1 has no v2 StreamsService at all, a 25.1 one no AppendRecords: grpc-js
  // answers UNIMPLEMENTED for what is left out.
  if (multiStreamAppend) {
    const session: Pick<StreamsV2Server, 'appendSession'> = {
      appendSession: noted('StreamsService/AppendSession', appendSessionHandler(log)),
    };
    const records: Pick<StreamsV2Server, 'appendRecords'> = {
      appendRecords: noted('StreamsService/AppendRecords', appendRecordsHandler(log)),
    };
    server.addService(
      streamsV2Grpc.StreamsServiceService,
      appendRecords ? { ...session, ...records } : session,
    );
  }

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      `127.0.0.1:${options.restart?.port ?? 0}`,
      ServerCredentials.createInsecure(),
      (error, bound) => (error ? reject(error) : resolve(bound)),
    ),
  );
  return {
    url: `kurrentdb://127.0.0.1:${port}?tls=false`,
    port,
    log,
    calls,
    // Clients keep their connections open and subscriptions never end by themselves: cut everything.
    close: () => {
      server.forceShutdown();
      return Promise.resolve();
    },
  };
}
