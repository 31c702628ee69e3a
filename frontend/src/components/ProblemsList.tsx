/** Validation problems of the draft; clicking one selects and centres its node. */
import { useReactFlow } from "@xyflow/react";
import { useCanvas } from "../store/context";

export function ProblemsList() {
  const { problems, nodes, selectNode } = useCanvas((s) => ({ problems: s.problems, nodes: s.nodes, selectNode: s.selectNode }));
  const flow = useReactFlow();
  if (!problems.length) return null;
  const focus = (nodeId: string | null | undefined) => {
    const node = nodes.find((n) => n.id === nodeId);
    if (!node) return;
    selectNode(node.id);
    flow.setCenter(node.position.x + 110, node.position.y + 40, { zoom: 1.2, duration: 300 });
  };
  return (
    <section className="problems" data-testid="problems">
      <h4>
        {problems.length} problem{problems.length > 1 ? "s" : ""}
      </h4>
      <ul>
        {problems.map((p, i) => (
          <li key={i}>
            <button className={`problem ${p.severity === "warning" ? "warning" : ""}`} onClick={() => focus(p.node)} disabled={!p.node}>
              <span className="problem-code">{p.code}</span> {p.message}
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}
