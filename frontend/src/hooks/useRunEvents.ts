/**
 * The one owner of a run's websocket. Replays and live events go to the store's reducer in
 * batches (one per 16 ms); a dropped socket reconnects with backoff and
 * `?after=<last applied seq>`, so nothing is lost or applied twice.
 */
import { useEffect, useRef, useState } from "react";
import { api } from "../api/client";
import { TERMINAL_RUN_STATES, type RunEvent } from "../lib/types";
import { useCanvasApi } from "../store/context";

export type SocketState = "connecting" | "open" | "closed" | "done";

const MAX_BACKOFF_MS = 10_000;
/** A quiet open socket asks the server to resend from the last seq (a dropped live message). */
const RESYNC_AFTER_MS = 2_000;
const EVENTS_PAGE = 1000; // the server's largest page of /api/runs/{id}/events/

export function socketUrl(runId: number, after: number): string {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${window.location.host}/ws/runs/${runId}/?after=${after}`;
}

export function useRunEvents(runId: number | null): SocketState {
  const store = useCanvasApi();
  const [socketState, setSocketState] = useState<SocketState>("closed");
  const buffer = useRef<RunEvent[]>([]);

  useEffect(() => {
    if (runId == null) return;
    let socket: WebSocket | null = null;
    let attempt = 0;
    let retryTimer: number | undefined;
    let flushTimer: number | undefined;
    let lastMessageAt = Date.now();
    const resyncTimer = window.setInterval(() => {
      if (socket?.readyState !== WebSocket.OPEN || Date.now() - lastMessageAt < RESYNC_AFTER_MS) return;
      lastMessageAt = Date.now();
      socket.send(JSON.stringify({ type: "resync", after: lastSeq() }));
    }, RESYNC_AFTER_MS / 2);
    let stopped = false;

    const lastSeq = () => store.getState().run?.lastSeq ?? 0;
    const finished = () => {
      const status = store.getState().run?.status;
      return !!status && TERMINAL_RUN_STATES.has(status);
    };
    const flush = () => {
      flushTimer = undefined;
      const events = buffer.current;
      buffer.current = [];
      if (events.length) store.getState().applyEvents(events);
      if (finished()) {
        setSocketState("done");
        stopped = true;
        window.clearInterval(resyncTimer);
        socket?.close();
      }
    };
    // While the socket is down, the persisted events over HTTP keep the canvas current.
    const catchUp = async () => {
      try {
        let after = lastSeq();
        for (;;) {
          const page = await api.runEvents(runId, after);
          buffer.current.push(...page);
          if (page.length < EVENTS_PAGE || stopped) break;
          after = page[page.length - 1].seq;
        }
        flush();
      } catch {
        // the next reconnect tries again
      }
    };
    const connect = () => {
      setSocketState("connecting");
      socket = new WebSocket(socketUrl(runId, lastSeq()));
      socket.onopen = () => {
        attempt = 0;
        setSocketState("open");
      };
      socket.onmessage = (message) => {
        lastMessageAt = Date.now();
        const event = parse(message.data);
        if (!event) return;
        buffer.current.push(event);
        flushTimer ??= window.setTimeout(flush, 16);
      };
      socket.onclose = () => {
        if (stopped) return;
        setSocketState("closed");
        const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt++);
        retryTimer = window.setTimeout(() => catchUp().finally(() => stopped || connect()), delay);
      };
    };
    store.getState().startRunView(runId);
    // Replay the persisted events over HTTP at once; the socket then resumes after them.
    catchUp().finally(() => stopped || connect());
    return () => {
      stopped = true;
      window.clearTimeout(retryTimer);
      window.clearInterval(resyncTimer);
      window.clearTimeout(flushTimer);
      socket?.close();
    };
  }, [runId, store]);

  return socketState;
}

function parse(data: unknown): RunEvent | null {
  if (typeof data !== "string") return null;
  try {
    const value = JSON.parse(data);
    // Control messages (pong, error) have no dotted event type and never reach the reducer.
    const isEvent = value && typeof value === "object" && Number.isInteger(value.seq) && /^[a-z]+\.[a-z]+$/.test(value.type);
    return isEvent ? (value as RunEvent) : null;
  } catch {
    return null;
  }
}
