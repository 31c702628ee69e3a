/**
 * The time slider under a past run's graph (issue 19): drag it, or step with ←/→ (one event),
 * and every node, edge, the status bar and the inspector show the run as it was then; play at
 * 1×, 10× or 100× the recorded pace. At the right end the canvas is live again.
 */
import { useEffect, useState, type KeyboardEvent } from "react";
import "../timetravel.css";
import { useReplay } from "../hooks/useReplay";
import { formatDuration } from "../lib/timeline";
import { useCanvas } from "../store/context";

export const SPEEDS = [1, 10, 100] as const;

export function Scrubber({ runId, last, startedAt }: { runId: number; last: number; startedAt: string | null }) {
  const seq = useCanvas((s) => s.replay?.seq ?? last);
  const controls = useReplay(runId, last);
  const [speed, setSpeed] = useState<number>(1);
  const step = (delta: number) => {
    controls.stop();
    controls.step(delta);
  };
  const onKey = (event: KeyboardEvent) => {
    const deltas: Record<string, number> = { ArrowLeft: -1, ArrowDown: -1, ArrowRight: 1, ArrowUp: 1 };
    if (event.key in deltas) {
      event.preventDefault(); // one event, whatever the slider's own step would be
      step(deltas[event.key]);
    } else if (event.key === "Home" || event.key === "End") {
      event.preventDefault();
      controls.stop();
      controls.go(event.key === "Home" ? 0 : last);
    }
  };
  usePageKeys(controls.step, controls.stop);
  const time = controls.timeOf(seq);
  const start = startedAt ? Date.parse(startedAt) : controls.timeOf(1);
  const offset = Number.isNaN(time) || Number.isNaN(start) ? "" : `+${formatDuration(Math.max(0, time - start)) || "0 ms"}`;
  const indexing = controls.indexed > 0 && controls.indexed < last;
  return (
    <div
      className="scrubber"
      data-testid="scrubber"
      data-seq={seq}
      data-last={last}
      data-replaying={seq < last}
      data-indexed={controls.indexed}
    >
      <button
        className="icon-button"
        data-testid="scrub-play"
        title={controls.playing ? "Pause" : `Play at ${speed}×`}
        onClick={() => (controls.playing ? controls.stop() : controls.play(speed))}
      >
        {controls.playing ? "❚❚" : "▶"}
      </button>
      <select data-testid="scrub-speed" aria-label="Play speed" value={speed} onChange={(e) => setSpeed(Number(e.target.value))}>
        {SPEEDS.map((s) => (
          <option key={s} value={s}>
            {s}×
          </option>
        ))}
      </select>
      <button className="icon-button" data-testid="scrub-prev" title="Previous event (← or ,)" disabled={seq <= 0} onClick={() => step(-1)}>
        ‹
      </button>
      <input
        type="range"
        data-testid="scrub-slider"
        aria-label="Run time: event"
        aria-valuetext={`event ${seq} of ${last}`}
        min={0}
        max={last}
        step={1}
        value={seq}
        onChange={(e) => {
          controls.stop();
          controls.go(Number(e.target.value));
        }}
        onKeyDown={onKey}
      />
      <button className="icon-button" data-testid="scrub-next" title="Next event (→ or .)" disabled={seq >= last} onClick={() => step(1)}>
        ›
      </button>
      <span className="scrub-position muted small" data-testid="scrub-position">
        event {seq} / {last} {offset}
      </span>
      {indexing && (
        <span className="muted small" data-testid="scrub-indexing">
          indexing {Math.floor((100 * controls.indexed) / last)}%
        </span>
      )}
      {controls.error && <span className="field-error small">{controls.error}</span>}
      {seq < last && (
        <button
          className="small"
          data-testid="scrub-live"
          onClick={() => {
            controls.stop();
            controls.go(last);
          }}
        >
          Back to the end
        </button>
      )}
    </div>
  );
}

/** "," and "." step to the previous and next event from anywhere on the page but a text field. */
function usePageKeys(step: (delta: number) => void, stop: () => void) {
  useEffect(() => {
    const onKey = (event: globalThis.KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      if (event.ctrlKey || event.metaKey || event.altKey || target?.closest("input, textarea, select, [contenteditable=true]")) return;
      if (event.key !== "," && event.key !== ".") return;
      event.preventDefault();
      stop();
      step(event.key === "," ? -1 : 1);
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [step, stop]);
}
