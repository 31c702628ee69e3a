/** The one owner of a run's websocket: feeds the store's reducer from `openRunStream`. */
import { useEffect, useState } from "react";
import { api } from "../api/client";
import { openRunStream, type SocketLike, type SocketState } from "../api/runStream";
import { TERMINAL_RUN_STATES } from "../lib/types";
import { useCanvasApi } from "../store/context";
import { liveRunOf } from "../store/slices/replay";

export type { SocketState };

export function socketUrl(runId: number, after: number): string {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${window.location.host}/ws/runs/${runId}/?after=${after}`;
}

const browserDeps = {
  openSocket: (url: string) => new WebSocket(url) as unknown as SocketLike,
  fetchEvents: api.runEvents,
  url: socketUrl,
  now: () => Date.now(),
  setTimeout: (fn: () => void, ms: number) => window.setTimeout(fn, ms),
  clearTimeout: (id: number | undefined) => window.clearTimeout(id),
  setInterval: (fn: () => void, ms: number) => window.setInterval(fn, ms),
  clearInterval: (id: number | undefined) => window.clearInterval(id),
  frame: (fn: () => void) => window.requestAnimationFrame(fn),
  cancelFrame: (id: number | undefined) => id !== undefined && window.cancelAnimationFrame(id),
};

export function useRunEvents(runId: number | null): SocketState {
  const store = useCanvasApi();
  const [socketState, setSocketState] = useState<SocketState>("closed");

  useEffect(() => {
    if (runId == null) return;
    store.getState().startRunView(runId);
    return openRunStream(
      runId,
      {
        lastSeq: () => liveRunOf(store.getState())?.lastSeq ?? 0,
        finished: () => {
          const status = liveRunOf(store.getState())?.status;
          return !!status && TERMINAL_RUN_STATES.has(status);
        },
        apply: (events) => store.getState().applyEvents(events),
        onState: setSocketState,
      },
      browserDeps,
    );
  }, [runId, store]);

  return socketState;
}
