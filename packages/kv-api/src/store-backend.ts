import { V2Error, type V2Store } from "@cairn/v2store";
import type {
  KeyResult,
  ReadRequest,
  WatchRequest,
  WatchSignal,
  WatchSink,
  WatchStart,
} from "./backend.js";

/** The raft position a backend reports with each answer (`X-Raft-Index`/`X-Raft-Term`). */
export interface RaftHead {
  raftIndex: number;
  raftTerm: number;
}

/**
 * A local (non-linearizable) get from `store`, as a {@link KeyResult}: the
 * part of `Backend.read` every backend over an in-process store shares.
 */
export function readStore(store: V2Store, request: ReadRequest, head: RaftHead): KeyResult {
  try {
    return { event: store.get(request.key, request), ...head };
  } catch (error) {
    if (error instanceof V2Error) return { error: error.data, ...head };
    throw error;
  }
}

/**
 * Registers a watch on `store` for `Backend.watch`: events go to `sink`, an
 * event already in the history is delivered after the caller has its start
 * answer (as a live one would be), and aborting `signal` removes the watch.
 */
export function watchStore(
  store: V2Store,
  request: WatchRequest,
  sink: WatchSink,
  signal: WatchSignal,
  head: RaftHead,
): WatchStart {
  try {
    const w = store.watch(
      request.key,
      { recursive: request.recursive, stream: request.stream, sinceIndex: request.sinceIndex },
      {
        event: (e) => {
          sink.event(e);
          return true;
        },
        closed: () => sink.end(),
      },
    );
    if (w.immediate !== undefined) {
      const ev = w.immediate;
      queueMicrotask(() => sink.event(ev));
    }
    if (signal.aborted) w.cancel();
    else signal.addEventListener("abort", () => w.cancel(), { once: true });
    return { etcdIndex: w.startIndex, ...head };
  } catch (error) {
    if (error instanceof V2Error) return { error: error.data, etcdIndex: 0, ...head };
    throw error;
  }
}
