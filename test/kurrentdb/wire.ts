// Conversions between protobuf messages and the in-memory model: recorded events for v1 reads,
// proposed events from v1/v2 appends, UUIDs, and the google.rpc.Status error payloads the server sends.
import { Metadata, status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import type { ProposedEvent, StoredEvent } from './log.js';
import { synthesizeMetadata, type PropertyValue } from './metadata.js';
import {
  anyPb,
  emptyPb,
  errorsV2Pb,
  jspb,
  sharedPb,
  statusPb,
  streamsPb,
  streamsV2Pb,
  timestampPb,
} from './protos.js';

type ReadResp = InstanceType<typeof streamsPb.ReadResp>;
type UUID = InstanceType<typeof sharedPb.UUID>;
/** google.rpc.Code: the same numbers as gRPC's status codes */
type RpcCode = Parameters<InstanceType<typeof statusPb.Status>['setCode']>[0];
const rpcCode = (code: grpcStatus) => code as number as RpcCode;

const bytes = (value: Uint8Array | string): Uint8Array =>
  typeof value === 'string' ? Buffer.from(value, 'base64') : value;

/** The client sends ids as strings; older clients sent two 64-bit halves ("structured"). */
export function uuidToString(uuid: UUID | undefined): string {
  if (uuid === undefined) return '';
  if (!uuid.hasStructured()) return uuid.getString().toLowerCase();
  const hex = (v: string) => (BigInt(v) & ((1n << 64n) - 1n)).toString(16).padStart(16, '0');
  const ms = hex(uuid.getStructured()!.getMostSignificantBits());
  const ls = hex(uuid.getStructured()!.getLeastSignificantBits());
  return `${ms.slice(0, 8)}-${ms.slice(8, 12)}-${ms.slice(12)}-${ls.slice(0, 4)}-${ls.slice(4)}`;
}

export const streamName = (id: InstanceType<typeof sharedPb.StreamIdentifier> | undefined): string =>
  Buffer.from(bytes(id?.getStreamName() ?? '')).toString('utf8');

export function streamIdentifier(name: string) {
  return new sharedPb.StreamIdentifier().setStreamName(Buffer.from(name, 'utf8'));
}

type ProposedMessage =
  | InstanceType<typeof streamsPb.AppendReq.ProposedMessage>
  | InstanceType<typeof streamsPb.BatchAppendReq.ProposedMessage>;

/** v1: "type" and "content-type" travel in the message's metadata map (the server's ParseGrpcMetadata). */
export function fromProposedMessage(message: ProposedMessage): ProposedEvent {
  const map = message.getMetadataMap();
  return {
    id: uuidToString(message.getId()),
    type: map.get('type') ?? '',
    isJson: map.get('content-type') === 'application/json',
    data: bytes(message.getData()),
    metadata: bytes(message.getCustomMetadata()),
  };
}

/** v2: the schema names the type and format; properties become the JSON metadata a v1 read shows. */
export function fromAppendRecord(record: InstanceType<typeof streamsV2Pb.AppendRecord>): ProposedEvent {
  const schema = record.getSchema();
  const format = schema?.getFormat() ?? streamsV2Pb.SchemaFormat.SCHEMA_FORMAT_UNSPECIFIED;
  const isJson = format === streamsV2Pb.SchemaFormat.SCHEMA_FORMAT_JSON;
  const properties: Record<string, PropertyValue> = {};
  record.getPropertiesMap().forEach((value, key) => {
    properties[key] = value.toJavaScript() as PropertyValue;
  });
  if (!isJson) properties['$schema.format'] = formatName(format);
  const type = schema?.getName() ?? '';
  return {
    id: (record.getRecordId() ?? '').toLowerCase(),
    type,
    isJson,
    data: record.getData_asU8(),
    metadata: synthesizeMetadata(properties, type, isJson),
  };
}

/** The server stores SchemaFormat.ToString(): the C# enum member names. */
function formatName(format: number): string {
  const names: Record<number, string> = { 1: 'Json', 2: 'Protobuf', 3: 'Avro', 4: 'Bytes' };
  return names[format] ?? 'Unspecified';
}

/** A read's answer for one record: the event, the link that led to it, or both (see links.ts). */
export type Resolved = { readonly event?: StoredEvent; readonly link?: StoredEvent };

/** A recorded event as the server's ResponseConverter builds it (uuid_option "string" asked for). */
function recordedEvent(event: StoredEvent) {
  const recorded = new streamsPb.ReadResp.ReadEvent.RecordedEvent()
    .setId(new sharedPb.UUID().setString(event.id))
    .setStreamIdentifier(streamIdentifier(event.stream))
    .setStreamRevision(String(event.revision))
    .setCommitPosition(String(event.position))
    .setPreparePosition(String(event.position))
    .setData(event.data)
    .setCustomMetadata(event.metadata);
  recorded
    .getMetadataMap()
    .set('type', event.type)
    .set('created', event.created.toString())
    .set('content-type', event.isJson ? 'application/json' : 'application/octet-stream');
  return recorded;
}

/**
 * The server's Streams.Read.cs ConvertToReadEvent: `event` and `link` each set when present, and the
 * commit position of the original record (the link when there is one, else the event).
 */
export function readEventResp({ event, link }: Resolved): ReadResp {
  const read = new streamsPb.ReadResp.ReadEvent();
  if (event !== undefined) read.setEvent(recordedEvent(event));
  if (link !== undefined) read.setLink(recordedEvent(link));
  const original = link ?? event;
  if (original === undefined) read.setNoPosition(new sharedPb.Empty());
  else read.setCommitPosition(String(original.position));
  return new streamsPb.ReadResp().setEvent(read);
}

export const timestampNow = () => timestampPb.Timestamp.fromDate(new Date());

/** A google.protobuf.Any holding `message`, with the type URL .NET's Any.Pack writes. */
export function pack(message: { serializeBinary(): Uint8Array }, typeName: string) {
  const any = new anyPb.Any();
  any.pack(message.serializeBinary(), typeName, 'type.googleapis.com/');
  return any;
}

/**
 * v1 BatchAppend error (the server's Status.WrongExpectedVersion): code ALREADY_EXISTS, message
 * "WrongExpectedVersion", details an event_store.client.WrongExpectedVersion.
 */
export function wrongExpectedVersionStatus(expected: number, actual: number) {
  const details = new sharedPb.WrongExpectedVersion();
  if (actual < 0) details.setCurrentNoStream(new emptyPb.Empty());
  else details.setCurrentStreamRevision(String(actual));
  if (expected === -2) details.setExpectedAny(new emptyPb.Empty());
  else if (expected === -1) details.setExpectedNoStream(new emptyPb.Empty());
  else if (expected === -4) details.setExpectedStreamExists(new emptyPb.Empty());
  else details.setExpectedStreamPosition(String(expected));
  return new statusPb.Status()
    .setCode(rpcCode(grpcStatus.ALREADY_EXISTS))
    .setMessage('WrongExpectedVersion')
    .setDetails(pack(details, 'event_store.client.WrongExpectedVersion'));
}

/**
 * A v2 API error (the server's RpcExceptions.FromError): gRPC status `code` with the message, and a
 * google.rpc.Status in the "grpc-status-details-bin" trailer whose details are a google.rpc.ErrorInfo
 * (reason, and the domain: "streams", or "server" for ServerError) followed by the error's details message.
 */
export function v2Error(
  code: grpcStatus,
  message: string,
  reason: string,
  details?: { message: { serializeBinary(): Uint8Array }; typeName: string },
  domain = 'streams',
): Partial<ServiceError> {
  // ErrorInfo { string reason = 1; string domain = 2; } written field by field.
  const writer = new jspb.BinaryWriter();
  writer.writeString(1, reason);
  writer.writeString(2, domain);
  const errorInfo = { serializeBinary: () => writer.getResultBuffer() };
  const head = new statusPb.Status()
    .setCode(rpcCode(code))
    .setMessage(message)
    .setDetails(pack(errorInfo, 'google.rpc.ErrorInfo'))
    .serializeBinary();
  // google.rpc.Status has `repeated Any details = 3`; the client's copy declares one Any (the last one
  // on the wire wins), so appending a second details field yields exactly what the server sends.
  const tail =
    details === undefined
      ? new Uint8Array()
      : new statusPb.Status().setDetails(pack(details.message, details.typeName)).serializeBinary();
  const metadata = new Metadata();
  metadata.set('grpc-status-details-bin', Buffer.concat([head, tail]));
  return { code, details: message, metadata };
}

/** STREAMS_ERROR_STREAM_REVISION_CONFLICT, as the v2 AppendSession reports a failed expectation. */
export function revisionConflict(stream: string, expected: number, actual: number): Partial<ServiceError> {
  const details = new errorsV2Pb.StreamRevisionConflictErrorDetails()
    .setStream(stream)
    .setExpectedRevision(String(expected))
    .setActualRevision(String(actual));
  return v2Error(
    grpcStatus.FAILED_PRECONDITION,
    `Append failed due to a revision conflict on stream '${stream}'. ` +
      `Expected revision: ${expected}. Actual revision: ${actual}.`,
    'STREAM_REVISION_CONFLICT',
    { message: details, typeName: 'kurrentdb.protocol.v2.streams.errors.StreamRevisionConflictErrorDetails' },
  );
}
