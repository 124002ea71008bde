// The v2 StreamsService.AppendRecords behind client.appendRecords (KurrentDB 26.1): one unary request of
// records for any streams, interleaved, plus consistency checks on any streams, committed atomically.
import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import {
  consistencyViolation,
  invalidRequest,
  validExpectedState,
  type FieldViolation,
} from './appendRecordsErrors.js';
import { ANY, type EventLog, type ProposedEvent } from './log.js';
import { streamsV2Pb } from './protos.js';
import { fromAppendRecord } from './wire.js';

type AppendRecordsRequest = InstanceType<typeof streamsV2Pb.AppendRecordsRequest>;
type AppendRecordsResponse = InstanceType<typeof streamsV2Pb.AppendRecordsResponse>;
type AppendRecord = InstanceType<typeof streamsV2Pb.AppendRecord>;

/** StreamNameValidator: not empty (or white space), not "$$". */
function streamNameProblem(stream: string): string | undefined {
  if (stream.trim() === '') return 'Stream must not be empty.';
  return stream === '$$' ? "Stream must not be '$$'." : undefined;
}

/** AppendRecordsRequestValidator and ConsistencyCheckValidator, run before the call is handled. */
function validate(request: AppendRecordsRequest): FieldViolation[] {
  const problems: FieldViolation[] = [];
  if (request.getRecordsList().length === 0) {
    problems.push({
      field: 'Records',
      description: 'Append records request must contain at least one record.',
    });
  }
  const seen = new Set<string>();
  let duplicate = false;
  request.getChecksList().forEach((check, i) => {
    const state = check.getStreamState();
    if (state === undefined) {
      problems.push({
        field: `Checks[${i}].TypeCase`,
        description: 'Each consistency check must specify a type.',
      });
      return;
    }
    const nameProblem = streamNameProblem(state.getStream());
    if (nameProblem !== undefined)
      problems.push({ field: `Checks[${i}].StreamState.Stream`, description: nameProblem });
    if (!validExpectedState(Number(state.getExpectedState()))) {
      problems.push({
        field: `Checks[${i}].StreamState.ExpectedState`,
        description:
          'Expected state must be positive or one of the allowed constants: NoStream (-1), Exists (-4), Deleted (-5), or Tombstoned (-6). Any (-2) is not allowed.',
      });
    }
    const key = state.getStream().toLowerCase();
    duplicate ||= seen.has(key);
    seen.add(key);
  });
  if (duplicate) {
    problems.push({
      field: 'Checks',
      description: 'Each stream can only appear once in consistency checks.',
    });
  }
  return problems;
}

/** Guid.TryParse's forms (D, N, B, P), not the empty Guid; stored and read back as lower-case D. */
function recordId(value: string): string | undefined {
  const hex = value.trim().replace(/^\{(.*)\}$|^\((.*)\)$/, '$1$2');
  const plain = /^[0-9a-f]{32}$/i.test(hex)
    ? hex
    : /^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/i.test(hex)
      ? hex.replace(/-/g, '')
      : undefined;
  if (plain === undefined || /^0+$/.test(plain)) return undefined;
  const p = plain.toLowerCase();
  return `${p.slice(0, 8)}-${p.slice(8, 12)}-${p.slice(12, 16)}-${p.slice(16, 20)}-${p.slice(20)}`;
}

/** AppendRecordExtensions.PreProcessRecord: a missing record id is generated; the record is validated. */
function preProcess(record: AppendRecord): FieldViolation | ProposedEvent {
  if (!record.hasRecordId()) record.setRecordId(randomUUID());
  const nameProblem = streamNameProblem(record.getStream());
  if (nameProblem !== undefined) return { field: 'Stream', description: nameProblem };
  const id = recordId(record.getRecordId()!);
  if (id === undefined)
    return { field: 'RecordId', description: 'Record ID must be a valid and non-empty UUID.' };
  return fromAppendRecord(record.setRecordId(id));
}

/**
 * Docs: the client's appending-events page (docs.kurrent.io/clients/node/; its source is
 * docs/api/appending-events.md in KurrentDB-Client-NodeJS), "Atomic appends" > "appendRecords" (KurrentDB
 * 26.1 and later): records for several streams in any order, appended atomically, the global log
 * keeping the request's order; consistency checks (a stream's expected state) evaluated before the
 * commit may name streams the request does not write; if any check fails nothing is written and the
 * client raises AppendConsistencyViolationError listing every failed check.
 * Wire behaviour from the server's KurrentDB.Api.V2 StreamsService.AppendRecords (v26.1.0) and the
 * storage writer's multi-stream commit (see log.ts commitTransaction):
 * - streams are indexed checks first, then each record stream not checked (expected: any), matched
 *   ignoring case (a record goes to the stream as first spelled); a check's index is its position;
 * - a record without record_id gets a new one; a record's id is otherwise kept, which makes a retry of
 *   the same records (same ids, same streams) idempotent like other appends;
 * - success answers the commit position and, for each stream written (in order of first record), its
 *   last revision; a failure answers APPEND_CONSISTENCY_VIOLATION naming every failing stream (see
 *   appendRecordsErrors.ts), including a written stream whose records were only partly written before.
 * - an invalid request (no records, a check expecting any (-2) or an unknown state, a stream checked
 *   twice ignoring case, an empty stream name, a record id that is no UUID) is BAD_REQUEST before
 *   anything is checked: INVALID_ARGUMENT, which the client raises as UnknownError.
 * Size limits (MaxAppendEventSize, MaxAppendSize) are not modelled.
 */
export function appendRecordsHandler(log: EventLog) {
  return (
    call: ServerUnaryCall<AppendRecordsRequest, AppendRecordsResponse>,
    callback: sendUnaryData<AppendRecordsResponse>,
  ): void => {
    const request = call.request;
    const problems = validate(request);
    if (problems.length > 0) {
      callback(invalidRequest('AppendRecordsRequest', problems));
      return;
    }
    const streams: { stream: string; expected: number }[] = [];
    const index = new Map<string, number>();
    const streamIndex = (stream: string, expected: number) => {
      const key = stream.toLowerCase();
      if (!index.has(key)) index.set(key, streams.length);
      if (index.get(key) === streams.length) streams.push({ stream, expected });
      return index.get(key)!;
    };
    for (const check of request.getChecksList()) {
      const state = check.getStreamState()!;
      streamIndex(state.getStream(), Number(state.getExpectedState()));
    }
    const events: { streamIndex: number; event: ProposedEvent }[] = [];
    for (const record of request.getRecordsList()) {
      const processed = preProcess(record);
      if (!('id' in processed)) {
        // thrown as ApiErrors.InvalidRequest<AppendRequest>: it names the v2 AppendRequest type
        callback(invalidRequest('AppendRequest', [processed]));
        return;
      }
      events.push({ streamIndex: streamIndex(record.getStream(), ANY), event: processed });
    }
    const outcome = log.commitTransaction({ streams, events });
    if (outcome.kind === 'failed') {
      callback(
        consistencyViolation(
          outcome.failures.map((f) => ({
            checkIndex: f.index,
            stream: f.stream,
            expected: f.expected,
            actual: f.actual,
          })),
        ),
      );
      return;
    }
    const response = new streamsV2Pb.AppendRecordsResponse().setPosition(String(outcome.position));
    for (const i of new Set(events.map((e) => e.streamIndex))) {
      response.addRevisions(
        new streamsV2Pb.StreamRevision()
          .setStream(streams[i]!.stream)
          .setRevision(String(outcome.lastRevisions[i])),
      );
    }
    callback(null, response);
  };
}
