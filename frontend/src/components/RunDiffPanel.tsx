/**
 * Two runs compared (issue 19): the side panel lists every node (what differs first) with its
 * change, status, duration and output differences; the canvas outlines and labels the nodes
 * that differ (CSS from `diffStyles`, so nodes need not know about diffs).
 */
import { useEffect, useMemo, useState } from "react";
import { api } from "../api/client";
import { changeText, diffRows, diffStyles, diffSummary, durationText, type DiffRow, type JsonDiff, type RunDiff } from "../lib/runDiff";
import { navigate, paths } from "../router";
import { useCanvas } from "../store/context";
import { StatusBadge } from "./StatusBadge";
import "../timetravel.css";

export function RunDiffPanel({ workflowId, a, b }: { workflowId: number; a: number; b: number }) {
  const [diff, setDiff] = useState<RunDiff | null>(null);
  const [error, setError] = useState<string | null>(null);
  const selected = useCanvas((s) => s.nodes.find((n) => n.selected)?.id ?? null);
  useEffect(() => {
    let current = true;
    api.runDiff(a, b).then(
      (d) => current && setDiff(d),
      (e: Error) => current && setError(e.message),
    );
    return () => {
      current = false;
    };
  }, [a, b]);
  const css = useMemo(() => (diff ? diffStyles(diff) : ""), [diff]);
  const rows = useMemo(() => (diff ? diffRows(diff) : []), [diff]);
  const summary = diff ? diffSummary(diff) : null;
  return (
    <div className="panel-section run-diff" data-testid="run-diff">
      <style data-testid="run-diff-styles">{css}</style>
      <header className="panel-title">
        <div>
          <strong>
            Run <RunRef workflowId={workflowId} id={a} /> → <RunRef workflowId={workflowId} id={b} />
          </strong>
          <small>compared node by node</small>
        </div>
        <button className="icon-button" title="Close the comparison" onClick={() => navigate(paths.editor(workflowId))}>
          ✕
        </button>
      </header>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      {!diff && !error && <p className="muted small">Comparing…</p>}
      {summary && (
        <p className="muted small" data-testid="run-diff-summary">
          {summary.changed ?? 0} changed · {summary.added ?? 0} added · {summary.removed ?? 0} removed · {summary.status_changed ?? 0} with
          another status · {summary.output_changed ?? 0} with another output
        </p>
      )}
      <ul className="diff-rows">
        {rows.map((row) => (
          <DiffEntry key={row.id} row={row} a={a} b={b} open={row.id === selected} />
        ))}
      </ul>
    </div>
  );
}

function RunRef({ workflowId, id }: { workflowId: number; id: number }) {
  return (
    <a
      href={paths.run(workflowId, id)}
      onClick={(e) => {
        e.preventDefault();
        navigate(paths.run(workflowId, id));
      }}
    >
      #{id}
    </a>
  );
}

function DiffEntry({ row, a, b, open }: { row: DiffRow; a: number; b: number; open: boolean }) {
  return (
    <li
      className={`diff-row diff-${row.change} ${row.differs ? "differs" : ""}`}
      data-testid="diff-row"
      data-node={row.id}
      data-change={row.change}
    >
      <details open={open || undefined}>
        <summary>
          <strong>{row.id}</strong> <span className={`chip diff-chip-${row.change}`}>{row.change}</span>
          {row.statusChanged && <span className="chip">status</span>}
          {row.output_changed && <span className="chip">output</span>}
        </summary>
        <dl className="facts">
          <dt>Status</dt>
          <dd data-testid="diff-status">
            {row.status[0] ? <StatusBadge kind="node" status={row.status[0]} /> : "—"} →{" "}
            {row.status[1] ? <StatusBadge kind="node" status={row.status[1]} /> : "—"}
          </dd>
          <dt>Duration</dt>
          <dd data-testid="diff-duration">{durationText(row.duration_ms) || "—"}</dd>
        </dl>
        {row.output_changed && <OutputDiff node={row.id} a={a} b={b} first={row.output_diff} />}
      </details>
    </li>
  );
}

function OutputDiff({ node, a, b, first }: { node: string; a: number; b: number; first: JsonDiff | undefined }) {
  const [full, setFull] = useState<JsonDiff | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const shown = full ?? first;
  if (!shown) return <p className="muted small">The outputs differ.</p>;
  const showAll = () => {
    setBusy(true);
    api.runDiff(a, b, node).then(
      (d) => (setFull(d.nodes[node]?.output_diff ?? null), setBusy(false)),
      (e: Error) => (setError(e.message), setBusy(false)),
    );
  };
  return (
    <div className="output-diff" data-testid="output-diff">
      <ul className="json-changes">
        {shown.changes.map((change, i) => (
          <li key={i} className={`json-${change.op}`} data-testid="json-change">
            <code>{changeText(change)}</code>
          </li>
        ))}
      </ul>
      {shown.truncated && (
        <button className="small" data-testid="diff-show-all" disabled={busy} onClick={showAll}>
          {busy ? "Loading…" : `Show all ${shown.total} changes`}
        </button>
      )}
      {error && <p className="field-error small">{error}</p>}
    </div>
  );
}
