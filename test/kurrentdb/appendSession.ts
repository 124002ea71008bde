// The v2 StreamsService.AppendSession behind client.multiStreamAppend: a client-streaming call of one
// AppendRequest per stream, committed atomically across all of them when the client ends the stream.
import { status as grpcStatus, type sendUnaryData, type ServerReadableStream } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import { ANY, type EventLog, type StreamWrite } from './log.js';
import { errorsV2Pb, streamsV2Pb } from './protos.js';
import { fromAppendRecord, revisionConflict, v2Error } from './wire.js';

type AppendRequest = InstanceType<typeof streamsV2Pb.AppendRequest>;
type AppendSessionResponse = InstanceType<typeof streamsV2Pb.AppendSessionResponse>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Docs: https://docs.kurrent.io/clients/node/v1.2/appending-events.html ("Atomic appends",
 * "multiStreamAppend", KurrentDB 25.1 and later): events for several streams in one atomic operation,
 * either all streams are updated or the whole operation fails; each stream appears once, with its own
 * expected state, checked before the commit.
 * Wire behaviour from the server's KurrentDB.Api.V2 StreamsService.AppendSession: expected_revision
 * -2 any, -1 no stream, -4 exists, n a revision (absent: any); a stream named twice (ignoring case) is
 * STREAM_ALREADY_IN_APPEND_SESSION (ABORTED); no requests is APPEND_SESSION_NO_REQUESTS; a failed
 * expectation is STREAM_REVISION_CONFLICT (FAILED_PRECONDITION) naming the first failing stream, with
 * StreamRevisionConflictErrorDetails {stream, expected, actual (-1: no stream)} in the status details,
 * which the client turns into WrongExpectedVersionError. Success answers each stream's last revision
 * and the commit position. A retry whose event ids are all already written succeeds without writing.
 */
export function appendSessionHandler(log: EventLog) {
  return (
    call: ServerReadableStream<AppendRequest, AppendSessionResponse>,
    callback: sendUnaryData<AppendSessionResponse>,
  ): void => {
    const writes: StreamWrite[] = [];
    const seen = new Set<string>();
    let failed = false;
    const fail = (error: Parameters<typeof callback>[0]) => {
      if (failed) return;
      failed = true;
      callback(error);
    };
    call.on('data', (req: AppendRequest) => {
      if (failed) return;
      const stream = req.getStream();
      if (seen.has(stream.toLowerCase())) {
        const details = new errorsV2Pb.StreamAlreadyInAppendSessionErrorDetails().setStream(stream);
        fail(
          v2Error(
            grpcStatus.ABORTED,
            `Stream '${stream}' already has a different group of messages in this session. ` +
              'Appends for the same stream must currently be grouped together and not interleaved with appends for other streams.',
            'STREAM_ALREADY_IN_APPEND_SESSION',
            {
              message: details,
              typeName: 'kurrentdb.protocol.v2.streams.errors.StreamAlreadyInAppendSessionErrorDetails',
            },
          ),
        );
        return;
      }
      seen.add(stream.toLowerCase());
      const records = req.getRecordsList();
      for (const record of records) {
        if (!record.hasRecordId()) record.setRecordId(randomUUID());
        if (!UUID.test(record.getRecordId()!)) {
          fail({
            code: grpcStatus.INVALID_ARGUMENT,
            details: `Record id '${record.getRecordId()}' is not a UUID.`,
          });
          return;
        }
      }
      writes.push({
        stream,
        expected: req.hasExpectedRevision() ? Number(req.getExpectedRevision()) : ANY,
        events: records.map(fromAppendRecord),
      });
    });
    call.on('end', () => {
      if (failed) return;
      if (writes.length === 0) {
        fail(
          v2Error(
            grpcStatus.FAILED_PRECONDITION,
            'Append session started, but no append requests were sent before ending the session.',
            'APPEND_SESSION_NO_REQUESTS',
          ),
        );
        return;
      }
      const outcome = log.commit(writes);
      if (outcome.kind === 'wrong-expected-version') {
        fail(revisionConflict(outcome.stream, outcome.expected, outcome.actual));
        return;
      }
      const response = new streamsV2Pb.AppendSessionResponse().setPosition(String(outcome.position));
      writes.forEach((write, i) => {
        response.addOutput(
          new streamsV2Pb.AppendResponse()
            .setStream(write.stream)
            .setStreamRevision(String(outcome.lastRevisions[i])),
        );
      });
      callback(null, response);
    });
  };
}
