// The errors StreamsService.AppendRecords answers with: a request that fails validation (BAD_REQUEST)
// and failed consistency checks (APPEND_CONSISTENCY_VIOLATION), as KurrentDB's v2 API builds them.
import { status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { DELETED, NO_STREAM, STREAM_EXISTS, TOMBSTONED } from './log.js';
import { errorsV2Pb, jspb } from './protos.js';
import { v2Error } from './wire.js';

/** A FluentValidation failure: the property path and the message. */
export type FieldViolation = { readonly field: string; readonly description: string };

/**
 * The server's ApiErrors.InvalidRequest (the v2 API plugin installs it as the request validation
 * interceptor's exception factory): INVALID_ARGUMENT, "The '<request type>' is invalid: <message>" (or
 * one " -- <message>" line per failure when there are several), ErrorInfo BAD_REQUEST in domain
 * "server", and a google.rpc.BadRequest listing the field violations. The client has no error type
 * for it and raises UnknownError.
 */
export function invalidRequest(requestType: string, violations: readonly FieldViolation[]) {
  const message =
    violations.length === 1
      ? `The '${requestType}' is invalid: ${violations[0]!.description}`
      : `The '${requestType}' is invalid:\n` + violations.map((v) => ` -- ${v.description}\n`).join('');
  // BadRequest { repeated FieldViolation field_violations = 1; } FieldViolation { field = 1; description = 2; }
  const writer = new jspb.BinaryWriter();
  for (const violation of violations) {
    const inner = new jspb.BinaryWriter();
    inner.writeString(1, violation.field);
    inner.writeString(2, violation.description);
    writer.writeBytes(1, inner.getResultBuffer());
  }
  const badRequest = { serializeBinary: () => writer.getResultBuffer() };
  return v2Error(
    grpcStatus.INVALID_ARGUMENT,
    message,
    'BAD_REQUEST',
    { message: badRequest, typeName: 'google.rpc.BadRequest' },
    'server',
  );
}

/** One failed check: its index among the request's streams (checks first), the states as numbers. */
export type Violation = {
  readonly checkIndex: number;
  readonly stream: string;
  readonly expected: number;
  /** the stream's last revision, -1 when it has no events */
  readonly actual: number;
};

/** ApiErrors.AppendConsistencyViolation's FormatViolation, for the states the stand-in can reach. */
function describe({ stream, expected, actual }: Violation): string {
  const s = `Stream '${stream}'`;
  if (expected >= 0 && actual >= 0) return `${s} is at revision ${actual}, expected revision ${expected}.`;
  if (expected >= 0 && actual === NO_STREAM) return `${s} does not exist, expected revision ${expected}.`;
  if (expected === NO_STREAM && actual >= 0) return `${s} already exists at revision ${actual}.`;
  if (expected === STREAM_EXISTS && actual === NO_STREAM) return `${s} does not exist.`;
  if (expected === DELETED && actual >= 0) {
    return `${s} is at revision ${actual}, explicitly expected deleted.`;
  }
  if (expected === DELETED && actual === NO_STREAM)
    return `${s} does not exist, explicitly expected deleted.`;
  if (expected === TOMBSTONED && actual === NO_STREAM) {
    return `${s} does not exist, explicitly expected tombstoned.`;
  }
  return `${s}: expected state ${expected}, actual state ${actual}.`;
}

/**
 * STREAMS_ERROR_APPEND_CONSISTENCY_VIOLATION (the server's StreamsService.AppendRecords MapViolations
 * and ApiErrors.AppendConsistencyViolation, v26.1.0): gRPC FAILED_PRECONDITION, the message
 * "Append failed due to consistency violations." followed by a blank line and one " - <violation>" line
 * per failure, and in grpc-status-details-bin a google.rpc.Status whose details are ErrorInfo
 * {reason "APPEND_CONSISTENCY_VIOLATION", domain "streams"} and a
 * kurrentdb.protocol.v2.streams.errors.AppendConsistencyViolationErrorDetails: one ConsistencyViolation
 * per failure {check_index, stream_state {stream, expected_state, actual_state}}. The client's
 * convertToCommandError turns it into AppendConsistencyViolationError (expected "-1"/"-2"/"-4" as
 * no_stream/any/stream_exists, actual "-1" as no_stream, other values as bigints).
 */
export function consistencyViolation(violations: readonly Violation[]): Partial<ServiceError> {
  const details = new errorsV2Pb.AppendConsistencyViolationErrorDetails();
  for (const violation of violations) {
    details.addViolations(
      new errorsV2Pb.ConsistencyViolation()
        .setCheckIndex(violation.checkIndex)
        .setStreamState(
          new errorsV2Pb.ConsistencyViolation.StreamStateViolation()
            .setStream(violation.stream)
            .setExpectedState(String(violation.expected))
            .setActualState(String(violation.actual)),
        ),
    );
  }
  const message =
    'Append failed due to consistency violations.\n' + violations.map((v) => `\n - ${describe(v)}`).join('');
  return v2Error(grpcStatus.FAILED_PRECONDITION, message, 'APPEND_CONSISTENCY_VIOLATION', {
    message: details,
    typeName: 'kurrentdb.protocol.v2.streams.errors.AppendConsistencyViolationErrorDetails',
  });
}

/** ConsistencyCheckValidator: a revision, or NoStream (-1), Exists (-4), Deleted (-5), Tombstoned (-6). */
export const validExpectedState = (state: number) =>
  state >= 0 || [NO_STREAM, STREAM_EXISTS, DELETED, TOMBSTONED].includes(state);
