/** A webhook node's "Listen for a test event" (SPEC §8): arms a one-shot listener on the
 * server, shows its countdown and test URL, polls every second while it waits, and shows the
 * captured request as the node's output, labelled as a test event. */
import { useCallback, useEffect, useState } from "react";
import { api } from "../api/client";
import { countdown, listenLabel, shouldPoll, type ListenState } from "../lib/listen";
import { webhookUrl } from "../lib/triggers";

const POLL_MS = 1000;

export function WebhookListen({ workflowId, nodeId }: { workflowId: number; nodeId: string }) {
  const [state, setState] = useState<ListenState | null>(null);
  const [readAt, setReadAt] = useState(0);
  const [now, setNow] = useState(() => Date.now());
  const [error, setError] = useState<string | null>(null);
  const call = useCallback(
    (method: "POST" | "GET" | "DELETE") =>
      api.listen(workflowId, nodeId, method).then(
        (answer) => {
          setState(answer);
          setReadAt(Date.now());
          setError(null);
        },
        (e: Error) => setError(e.message),
      ),
    [workflowId, nodeId],
  );
  useEffect(() => {
    void api.listen(workflowId, nodeId, "GET").then(
      (answer) => {
        setState(answer);
        setReadAt(Date.now());
      },
      (e: Error) => setError(e.message),
    );
  }, [workflowId, nodeId]);
  const polling = shouldPoll(state);
  useEffect(() => {
    if (!polling) return;
    const timer = window.setInterval(() => {
      setNow(Date.now());
      void call("GET");
    }, POLL_MS);
    return () => window.clearInterval(timer);
  }, [polling, call]);
  const left = state ? countdown(state.seconds_left, readAt, now) : 0;
  return (
    <div className="webhook-listen" data-testid="webhook-listen" data-state={state?.state ?? "idle"}>
      <div className="copy-row">
        <button type="button" data-testid="listen-test-event" onClick={() => void call("POST")}>
          {polling ? "Restart listening" : "Listen for a test event"}
        </button>
        {polling && (
          <button type="button" data-testid="listen-cancel" onClick={() => void call("DELETE")}>
            Cancel
          </button>
        )}
      </div>
      <small className="muted" data-testid="listen-status">
        {listenLabel(state, left)}
      </small>
      {polling && state && (
        <input
          readOnly
          className="nodrag"
          data-testid="webhook-test-url"
          value={webhookUrl(state.url, window.location.origin)}
          onFocus={(e) => e.target.select()}
        />
      )}
      {error && <p className="problem-inline">⚠ {error}</p>}
      {state?.state === "captured" && (
        <section data-testid="test-event-output">
          <h4>Output (test event)</h4>
          <small className="muted">
            The request captured {state.captured_at ? `at ${new Date(state.captured_at).toLocaleTimeString()}` : ""}; no run was started.
            Build the next nodes' expressions against it.
          </small>
          <pre className="value">{JSON.stringify(state.capture, null, 2)}</pre>
        </section>
      )}
    </div>
  );
}
