/** Links between a run and the sub-workflow runs it started, opened on their own workflow's canvas. */
import { useEffect, useState, type ReactNode } from "react";
import { api } from "../api/client";
import { childRunLabel, parentRunOf } from "../lib/subworkflows";
import type { ChildRunRef, RunReport } from "../lib/types";
import { navigate, paths } from "../router";
import { StatusBadge } from "./StatusBadge";

// A run's workflow never changes: ask once per run id.
const workflowOfRun = new Map<number, Promise<number>>();

function runWorkflow(runId: number): Promise<number> {
  let known = workflowOfRun.get(runId);
  if (!known) {
    known = api.getRun(runId).then((r) => r.workflow);
    known.catch(() => workflowOfRun.delete(runId));
    workflowOfRun.set(runId, known);
  }
  return known;
}

/** A link to run `runId` on its workflow's canvas (its workflow id is looked up first). */
export function RunLink({ runId, testId, children }: { runId: number; testId: string; children: ReactNode }) {
  const [workflowId, setWorkflowId] = useState<number | null>(null);
  useEffect(() => {
    let current = true;
    runWorkflow(runId).then((id) => current && setWorkflowId(id), () => undefined);
    return () => {
      current = false;
    };
  }, [runId]);
  const href = workflowId === null ? undefined : paths.run(workflowId, runId);
  return (
    <a
      data-testid={testId}
      data-run-id={runId}
      data-ready={href ? "true" : "false"}
      href={href}
      onClick={(event) => {
        if (!href || event.metaKey || event.ctrlKey || event.shiftKey) return;
        event.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}

/** The runs a sub-workflow node started (in the shown iteration), each a link to that run. */
export function ChildRuns({ refs }: { refs: ChildRunRef[] }) {
  return (
    <section data-testid="child-runs">
      <h4>Sub-workflow run{refs.length === 1 ? "" : "s"}</h4>
      {refs.length ? (
        <ul className="child-runs">
          {refs.map((ref) => (
            <li key={ref.id}>
              <RunLink runId={ref.id} testId="child-run-link">
                Open {childRunLabel(ref)}
              </RunLink>{" "}
              <StatusBadge status={ref.status} />
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted small">No child run started yet.</p>
      )}
    </section>
  );
}

/** On a sub-workflow's run: the run (and node) that started it. */
export function ParentRunLink({ report }: { report: RunReport | null }) {
  const parent = parentRunOf(report);
  if (!parent) return null;
  return (
    <div className="run-lineage" data-testid="run-lineage">
      Started by{" "}
      <RunLink runId={parent.runId} testId="parent-run-link">
        run #{parent.runId}
        {parent.node ? ` (node ${parent.node})` : ""}
      </RunLink>
    </div>
  );
}
