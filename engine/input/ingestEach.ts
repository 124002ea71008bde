// Ingesting events one by one, as a broker delivers them: each checked by the rules a file's lines
// are checked by, the bad ones refused alone, the good ones appended together in one transaction.
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import type { InputEvent } from '../../domain/events.js';
import { v5 } from '../../domain/ids.js';
import { parse, strictness, writeOf, type IngestOptions, type Overlay } from './ingest.js';
import { judgeId, type IdsSeen } from './ingestIds.js';
import type { EventStore } from '../ports.js';
import { catchUp, type EngineState } from '../state/engineState.js';
import type { InvalidStoredEvent } from '../state/storedEvents.js';

/** A delivered event: its body, and the name its id is made from when the body gives none. */
export type Delivered = {
  /** the body's text, or why it has none (bytes that are not UTF-8) */
  readonly body: string | { readonly unreadable: string };
  /** a message's own name for itself (`Nats-Msg-Id`, else `<stream>:<sequence>`) */
  readonly name: string;
};

export type EachVerdict =
  | { readonly _tag: 'Stored'; readonly id: string }
  /** the same event as one stored already, or earlier in the batch: left out */
  | { readonly _tag: 'Again'; readonly id: string }
  | { readonly _tag: 'Refused'; readonly problems: readonly string[] };

export type EachError = { readonly _tag: 'StoreFailed'; readonly message: string } | InvalidStoredEvent;

/**
 * The id an event is stored under: the body's own `id`, else one derived from the message's name
 * (a UUID, as every stored id is), so that a message delivered twice is one event either way.
 */
export const idOf = (e: InputEvent, name: string): string => e.id ?? v5(`message:${name}`);

/**
 * One verdict per delivered event, in order. The good ones are appended in one transaction, and made
 * durable, before this resolves: a caller acknowledges nothing before that. Events are checked against the store
 * as it is and against the ones before them in the batch (a group created earlier in the batch exists).
 */
export const ingestEach = async (
  store: EventStore,
  s: EngineState,
  batch: readonly Delivered[],
  opts: Pick<IngestOptions, 'checkDestination'>,
): Promise<E.Either<EachError, EachVerdict[]>> => {
  const caught = await catchUp(store, s);
  if (E.isLeft(caught)) return caught;
  const parsed = batch.map((d, i) => {
    const event = parse(
      typeof d.body === 'string' ? { n: i + 1, text: d.body } : { n: i + 1, unreadable: d.body.unreadable },
    );
    return E.map((e: InputEvent): InputEvent => ({ ...e, id: idOf(e, d.name) }))(event);
  });
  const ids = parsed.flatMap((p) => (E.isRight(p) ? [p.right.id as string] : []));
  const stored = ids.length > 0 ? await store.readByIds(ids) : new Map<string, never>();
  const overlay: Overlay = { profiles: new Map(), groups: new Map() };
  const seen: IdsSeen = new Map();
  const verdicts: EachVerdict[] = [];
  const good: InputEvent[] = [];
  parsed.forEach((p, i) => {
    if (E.isLeft(p)) {
      verdicts.push({ _tag: 'Refused', problems: p.left.problems });
      return;
    }
    const e = p.right;
    const id = e.id as string;
    const judged = judgeId(stored, seen, i + 1, id, e);
    if (judged._tag === 'Again') {
      verdicts.push({ _tag: 'Again', id });
      return;
    }
    // A refused event leaves the overlay true: strictness marks a profile or group live only when
    // it accepts the event, and deleted only when it is (an unknown one is refused, and absent anyway).
    const problems =
      judged._tag === 'Taken' ? [judged.problem] : strictness(s, overlay, e, opts.checkDestination);
    if (problems.length > 0) {
      verdicts.push({ _tag: 'Refused', problems });
      return;
    }
    good.push(e);
    verdicts.push({ _tag: 'Stored', id });
  });
  if (good.length > 0) {
    // Durable before this resolves: the caller acknowledges the messages next, and a broker that
    // has an acknowledgement never delivers them again, so a power cut must not take them back.
    const appended = await pipe(
      store.append(good.map(writeOf)),
      TE.chainW(() => store.flush()),
    )();
    if (E.isLeft(appended))
      return E.left({
        _tag: 'StoreFailed',
        message: 'message' in appended.left ? appended.left.message : appended.left._tag,
      });
  }
  return E.right(verdicts);
};
