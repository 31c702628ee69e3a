/** Links between a run and the sub-workflow runs it started, opened on their own workflow's canvas. */
import type { ReactNode } from "react";
import { childRunLabel, childRunTarget, parentRunOf, type RunTarget } from "../lib/subworkflows";
import type { ChildRunRef, RunReport } from "../lib/types";
import { navigate, paths } from "../router";
import { StatusBadge } from "./StatusBadge";

/** A link to a run on its workflow's canvas (the run API names the workflow: no lookup). */
export function RunLink({
  target,
  testId,
  className,
  children,
}: {
  target: RunTarget;
  testId: string;
  className?: string;
  children: ReactNode;
}) {
  const href = target.workflow == null ? undefined : paths.run(target.workflow, target.runId);
  return (
    <a
      className={className}
      data-testid={testId}
      data-run-id={target.runId}
      data-ready={href ? "true" : "false"}
      href={href}
      onClick={(event) => {
        event.stopPropagation(); // on a canvas node: not a click on the node
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
              <RunLink target={childRunTarget(ref)} testId="child-run-link">
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
      <RunLink target={parent} testId="parent-run-link">
        run #{parent.runId}
        {parent.node ? ` (node ${parent.node})` : ""}
      </RunLink>
    </div>
  );
}
