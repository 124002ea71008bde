// Streams.Read (v1), the one call behind readStream, readAll (through the client's Rust bridge) and
// subscribeToAll (through grpc-js): decodes the request and answers from the in-memory log.
import { status as grpcStatus, type ServerWritableStream } from '@grpc/grpc-js';
import { resolver } from './links.js';
import type { EventLog } from './log.js';
import { streamsPb } from './protos.js';
import {
  makeFilter,
  noFilter,
  sliceAll,
  sliceStream,
  type Direction,
  type EventFilter,
  type PositionFrom,
  type RevisionFrom,
} from './reads.js';
import { checkpointIntervalOf, subscribeToAll } from './subscription.js';
import { readEventResp, streamIdentifier, streamName } from './wire.js';

type ReadReq = InstanceType<typeof streamsPb.ReadReq>;
type ReadResp = InstanceType<typeof streamsPb.ReadResp>;
type Options = InstanceType<typeof streamsPb.ReadReq.Options>;

export function readHandler(log: EventLog) {
  return (call: ServerWritableStream<ReadReq, ReadResp>): void => {
    const options = call.request.getOptions();
    try {
      if (options === undefined) throw new Error('ReadReq without options');
      if (options.hasSubscription()) {
        if (!options.hasAll()) {
          call.emit('error', unimplemented('subscribeToStream is not implemented by the stand-in'));
          return;
        }
        const filter = options.getFilter();
        subscribeToAll(log, call, {
          from: positionFrom(options),
          filter: filterOf(options),
          resolveLinks: options.getResolveLinks(),
          checkpointInterval:
            filter === undefined
              ? null
              : checkpointIntervalOf(
                  filter.hasMax() ? filter.getMax() : null,
                  filter.getCheckpointintervalmultiplier(),
                ),
        });
        return;
      }
      const direction: Direction =
        options.getReadDirection() === streamsPb.ReadReq.Options.ReadDirection.BACKWARDS
          ? 'backwards'
          : 'forwards';
      const maxCount = Number(options.getCount());
      if (options.hasStream()) readStream(log, call, options, direction, maxCount);
      else readAll(log, call, options, direction, maxCount);
      call.end();
    } catch (error) {
      call.emit('error', { code: grpcStatus.INTERNAL, details: String(error) });
    }
  };
}

/**
 * Docs: https://docs.kurrent.io/clients/node/v1.2/reading-events.html ("Checking if the stream
 * exists"): reading a stream that has no events fails with StreamNotFoundError, which the server sends
 * as a ReadResp.stream_not_found message (the Rust bridge turns it into that error). With
 * control_option.compatibility >= 1 (the Rust client sets it) the server also sends the stream's last
 * revision after the events, and its first readable revision when a forwards read starts before it.
 */
function readStream(
  log: EventLog,
  call: ServerWritableStream<ReadReq, ReadResp>,
  options: Options,
  direction: Direction,
  maxCount: number,
): void {
  const stream = options.getStream()!;
  const name = streamName(stream.getStreamIdentifier());
  const events = log.readable(name);
  if (events === undefined) {
    call.write(
      new streamsPb.ReadResp().setStreamNotFound(
        new streamsPb.ReadResp.StreamNotFound().setStreamIdentifier(streamIdentifier(name)),
      ),
    );
    return;
  }
  const from: RevisionFrom = stream.hasStart()
    ? { kind: 'start' }
    : stream.hasEnd()
      ? { kind: 'end' }
      : { kind: 'revision', revision: Number(stream.getRevision()) };
  const slice = sliceStream(events, from, direction, maxCount);
  const compatible = (options.getControlOption()?.getCompatibility() ?? 0) >= 1;
  const first = events[0]?.revision ?? 0;
  const requested = from.kind === 'revision' ? from.revision : 0;
  if (
    compatible &&
    direction === 'forwards' &&
    slice.length === 0 &&
    from.kind !== 'end' &&
    requested !== first
  ) {
    call.write(new streamsPb.ReadResp().setFirstStreamPosition(String(first)));
  }
  const resolve = resolver(log, options.getResolveLinks());
  for (const event of slice) call.write(readEventResp(resolve(event)));
  if (compatible) call.write(new streamsPb.ReadResp().setLastStreamPosition(String(log.lastRevision(name))));
}

function readAll(
  log: EventLog,
  call: ServerWritableStream<ReadReq, ReadResp>,
  options: Options,
  direction: Direction,
  maxCount: number,
): void {
  const resolve = resolver(log, options.getResolveLinks());
  for (const event of sliceAll(log.all, positionFrom(options), direction, maxCount, filterOf(options))) {
    call.write(readEventResp(resolve(event)));
  }
}

function positionFrom(options: Options): PositionFrom {
  const all = options.getAll();
  if (all === undefined || all.hasStart()) return { kind: 'start' };
  if (all.hasEnd()) return { kind: 'end' };
  const position = all.getPosition()!;
  return {
    kind: 'position',
    commit: Number(position.getCommitPosition()),
    prepare: Number(position.getPreparePosition()),
  };
}

function filterOf(options: Options): EventFilter {
  const filter = options.getFilter();
  if (filter === undefined) return noFilter;
  const byStream = filter.hasStreamIdentifier();
  const expression = byStream ? filter.getStreamIdentifier()! : filter.getEventType()!;
  return makeFilter(byStream ? 'stream' : 'eventType', {
    regex: expression.getRegex(),
    prefixes: expression.getPrefixList(),
  });
}

const unimplemented = (details: string) => ({ code: grpcStatus.UNIMPLEMENTED, details });
