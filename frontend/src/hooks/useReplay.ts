/**
 * The scrubber's engine: one `ReplaySession` per shown run, built on first use; `go(seq)` shows
 * the run as it was after that event (coalesced to one jump per frame; a jump that needs a
 * window fetch shows once it arrives, unless a later one was asked for meanwhile); `play(speed)`
 * moves through the run at 1×, 10× or 100× its recorded pace.
 */
import { useCallback, useEffect, useRef, useState } from "react";
import { api } from "../api/client";
import { seqAtTime, timeOf } from "../lib/replay";
import { browserPause, ReplaySession } from "../lib/replaySession";
import { useCanvasApi } from "../store/context";

export interface ReplayControls {
  /** Events indexed so far (the whole run once `indexed === last`). */
  indexed: number;
  error: string | null;
  playing: number | null;
  go(seq: number): void;
  /** `delta` events from the last moment asked for (a key held down outpaces the drawing). */
  step(delta: number): void;
  play(speed: number): void;
  stop(): void;
  /** The time of event `seq` (ms since the epoch), NaN when not known yet. */
  timeOf(seq: number): number;
}

/** Events per second when the events carry no time. */
const UNTIMED_RATE = 20;

export function useReplay(runId: number, last: number): ReplayControls {
  const store = useCanvasApi();
  const session = useRef<ReplaySession | null>(null);
  const wanted = useRef<number | null>(null);
  const frame = useRef<number | undefined>(undefined);
  const player = useRef<number | undefined>(undefined);
  const [indexed, setIndexed] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [playing, setPlaying] = useState<number | null>(null);

  useEffect(
    () => () => {
      session.current?.stop();
      session.current = null;
      window.cancelAnimationFrame(frame.current ?? 0);
      window.cancelAnimationFrame(player.current ?? 0);
    },
    [runId],
  );

  const ensure = useCallback((): ReplaySession => {
    if (session.current?.runId !== runId) {
      session.current?.stop();
      const created = new ReplaySession(runId, { fetchEvents: api.runEventsWindow, pause: browserPause });
      session.current = created;
      created.build(last, setIndexed).then(() => created.error && setError(created.error));
    }
    return session.current;
  }, [runId, last]);

  // each jump asked for is numbered; an answer is shown unless a later jump's was shown already
  // (answers come in order, so a drag or play shows each moment it reached, never an older one)
  const asked = useRef(0);
  const shown = useRef(0);
  const show = useCallback(
    (seq: number) => {
      const replay = ensure();
      const id = (asked.current += 1);
      const display = (act: () => void) => {
        if (id <= shown.current || session.current !== replay) return;
        shown.current = id;
        act();
      };
      if (seq >= last) return display(() => store.getState().exitReplay());
      const now = replay.stateNow(seq);
      if (now) return display(() => store.getState().showReplay(now, last));
      replay.stateAt(seq).then(
        (state) => state && display(() => store.getState().showReplay(state, last)),
        (e: Error) => setError(e.message),
      );
    },
    [ensure, last, store],
  );

  const go = useCallback(
    (seq: number) => {
      wanted.current = Math.max(0, Math.min(last, Math.round(seq)));
      if (frame.current !== undefined) return;
      frame.current = window.requestAnimationFrame(() => {
        frame.current = undefined;
        if (wanted.current !== null) show(wanted.current);
      });
    },
    [last, show],
  );

  const step = useCallback((delta: number) => go((wanted.current ?? store.getState().replay?.seq ?? last) + delta), [go, last, store]);

  const stop = useCallback(() => {
    window.cancelAnimationFrame(player.current ?? 0);
    player.current = undefined;
    setPlaying(null);
  }, []);

  const play = useCallback(
    (speed: number) => {
      const replay = ensure();
      window.cancelAnimationFrame(player.current ?? 0);
      setPlaying(speed);
      let from = store.getState().replay?.seq ?? 0;
      if (from >= last) from = 0;
      let clock = NaN; // the run's time shown (ms since the epoch)
      let position = from; // for runs without times
      let previous = performance.now();
      const tick = (now: number) => {
        const dt = Math.max(0, now - previous);
        previous = now;
        const index = replay.index;
        if (Number.isNaN(clock)) clock = timeOf(index, Math.max(1, from));
        let seq: number;
        if (!Number.isNaN(clock) && index.total > 0) {
          clock += dt * speed;
          seq = Math.max(from, seqAtTime(index, clock));
        } else {
          position += (dt / 1000) * UNTIMED_RATE * speed;
          seq = Math.floor(position);
        }
        go(seq);
        if (seq >= last) return stop();
        player.current = window.requestAnimationFrame(tick);
      };
      player.current = window.requestAnimationFrame(tick);
    },
    [ensure, go, last, stop, store],
  );

  const timeAt = useCallback((seq: number) => (session.current ? timeOf(session.current.index, seq) : NaN), []);

  return { indexed, error, playing, go, step, play, stop, timeOf: timeAt };
}
