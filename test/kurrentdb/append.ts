// The v1 appends behind client.appendToStream: Streams.BatchAppend (used when ServerFeatures lists it and
// no per-call credentials are given) and Streams.Append (otherwise), both one-stream commits on the log.
import type { sendUnaryData, ServerDuplexStream, ServerReadableStream } from '@grpc/grpc-js';
import {
  ANY,
  NO_STREAM,
  STREAM_EXISTS,
  type EventLog,
  type ProposedEvent,
  type WriteOutcome,
} from './log.js';
import { emptyPb, sharedPb, streamsPb } from './protos.js';
import { fromProposedMessage, streamName, wrongExpectedVersionStatus } from './wire.js';

type AppendReq = InstanceType<typeof streamsPb.AppendReq>;
type AppendResp = InstanceType<typeof streamsPb.AppendResp>;
type BatchAppendReq = InstanceType<typeof streamsPb.BatchAppendReq>;
type BatchAppendResp = InstanceType<typeof streamsPb.BatchAppendResp>;

/**
 * Docs: https://docs.kurrent.io/clients/node/v1.2/appending-events.html ("Handling concurrency",
 * "eventId"): the stream state (any, no_stream, stream_exists, a revision) is checked before writing;
 * a mismatch fails the append with WrongExpectedVersionError and writes nothing; re-appending events
 * whose ids are already in the stream writes nothing and succeeds (idempotency, see log.ts decide()).
 * The answer follows the server's Streams.Append.cs: success carries the stream's current revision and
 * the commit position; a failed expectation is an AppendResp.wrong_expected_version (not a gRPC error)
 * naming the expected state and the current revision or "no stream".
 */
export function appendHandler(log: EventLog) {
  return (call: ServerReadableStream<AppendReq, AppendResp>, callback: sendUnaryData<AppendResp>): void => {
    let stream = '';
    let expected = ANY;
    const events: ProposedEvent[] = [];
    call.on('data', (req: AppendReq) => {
      const options = req.getOptions();
      if (options !== undefined) {
        stream = streamName(options.getStreamIdentifier());
        expected = options.hasRevision()
          ? Number(options.getRevision())
          : options.hasNoStream()
            ? NO_STREAM
            : options.hasStreamExists()
              ? STREAM_EXISTS
              : ANY;
      }
      const message = req.getProposedMessage();
      if (message !== undefined) events.push(fromProposedMessage(message));
    });
    call.on('end', () => {
      callback(null, appendResp(log.commit([{ stream, expected, events }])));
    });
  };
}

function appendResp(outcome: WriteOutcome): AppendResp {
  const resp = new streamsPb.AppendResp();
  if (outcome.kind === 'ok') {
    const success = new streamsPb.AppendResp.Success();
    const last = outcome.lastRevisions[0]!;
    if (last < 0) success.setNoStream(new sharedPb.Empty());
    else success.setCurrentRevision(String(last));
    if (outcome.position < 0) success.setNoPosition(new sharedPb.Empty());
    else {
      success.setPosition(
        new streamsPb.AppendResp.Position()
          .setCommitPosition(String(outcome.position))
          .setPreparePosition(String(outcome.position)),
      );
    }
    return resp.setSuccess(success);
  }
  const wrong = new streamsPb.AppendResp.WrongExpectedVersion();
  if (outcome.expected === ANY) wrong.setExpectedAny(new sharedPb.Empty()).setAny2060(new sharedPb.Empty());
  else if (outcome.expected === STREAM_EXISTS) {
    wrong.setExpectedStreamExists(new sharedPb.Empty()).setStreamExists2060(new sharedPb.Empty());
  } else if (outcome.expected === NO_STREAM) wrong.setExpectedNoStream(new sharedPb.Empty());
  else wrong.setExpectedRevision(String(outcome.expected)).setExpectedRevision2060(outcome.expected);
  if (outcome.actual < 0)
    wrong.setCurrentNoStream(new sharedPb.Empty()).setNoStream2060(new sharedPb.Empty());
  else wrong.setCurrentRevision(String(outcome.actual)).setCurrentRevision2060(outcome.actual);
  return resp.setWrongExpectedVersion(wrong);
}

/**
 * Same documented rules as appendHandler. Wire behaviour from the server's Streams.BatchAppend.cs: one
 * long-lived bidirectional call; each append is a correlation id, options (stream, expected state,
 * deadline) on its first chunk, proposed messages over one or more chunks, and is_final on the last;
 * the answer echoes the correlation id and stream, with success (current revision, position) or an
 * error google.rpc.Status (WrongExpectedVersion: code ALREADY_EXISTS and an
 * event_store.client.WrongExpectedVersion detail, which the client turns into WrongExpectedVersionError).
 */
export function batchAppendHandler(log: EventLog) {
  return (call: ServerDuplexStream<BatchAppendReq, BatchAppendResp>): void => {
    const pending = new Map<string, { stream: string; expected: number; events: ProposedEvent[] }>();
    call.on('data', (req: BatchAppendReq) => {
      const correlation = req.getCorrelationId();
      const key = correlation?.getString() ?? '';
      const options = req.getOptions();
      if (options !== undefined) {
        pending.set(key, {
          stream: streamName(options.getStreamIdentifier()),
          expected: options.hasStreamPosition()
            ? Number(options.getStreamPosition())
            : options.hasNoStream()
              ? NO_STREAM
              : options.hasStreamExists()
                ? STREAM_EXISTS
                : ANY,
          events: [],
        });
      }
      const write = pending.get(key);
      if (write === undefined) return;
      write.events.push(...req.getProposedMessagesList().map(fromProposedMessage));
      if (!req.getIsFinal()) return;
      pending.delete(key);
      const outcome = log.commit([write]);
      const resp = new streamsPb.BatchAppendResp()
        .setCorrelationId(correlation)
        .setStreamIdentifier(
          new sharedPb.StreamIdentifier().setStreamName(Buffer.from(write.stream, 'utf8')),
        );
      if (outcome.kind === 'ok') {
        const success = new streamsPb.BatchAppendResp.Success();
        const last = outcome.lastRevisions[0]!;
        if (last < 0) success.setNoStream(new emptyPb.Empty());
        else success.setCurrentRevision(String(last));
        if (outcome.position < 0) success.setNoPosition(new emptyPb.Empty());
        else {
          success.setPosition(
            new sharedPb.AllStreamPosition()
              .setCommitPosition(String(outcome.position))
              .setPreparePosition(String(outcome.position)),
          );
        }
        resp.setSuccess(success);
      } else {
        resp.setError(wrongExpectedVersionStatus(outcome.expected, outcome.actual));
      }
      call.write(resp);
    });
    call.on('end', () => call.end());
  };
}
