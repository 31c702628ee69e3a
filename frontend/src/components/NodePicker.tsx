/** The searchable node-type picker a "+" on an output handle opens: the chosen type is placed to
 * the right of that node and connected from that handle (one undo step). */
import { useEffect, useMemo, useRef, useState } from "react";
import { paletteGroups } from "../lib/nodeTypes";
import type { NodeTypeInfo } from "../lib/types";
import { useCanvas, useCanvasApi } from "../store/context";
import { TypeIcon } from "./TypeIcon";

export function NodePicker() {
  const store = useCanvasApi();
  const { picker, nodeTypes } = useCanvas((s) => ({ picker: s.picker, nodeTypes: s.nodeTypes }));
  if (!picker) return null;
  return (
    <PickerList
      key={`${picker.node}:${picker.handle}`}
      at={picker}
      nodeTypes={nodeTypes}
      onClose={() => store.getState().openPicker(null)}
    />
  );
}

function PickerList({
  at,
  nodeTypes,
  onClose,
}: {
  at: { node: string; handle: string; x: number; y: number };
  nodeTypes: Record<string, NodeTypeInfo>;
  onClose(): void;
}) {
  const store = useCanvasApi();
  const [search, setSearch] = useState("");
  const box = useRef<HTMLDivElement>(null);
  // only types a node can flow into (a trigger has no input)
  const groups = useMemo(
    () =>
      paletteGroups(
        Object.values(nodeTypes).filter((t) => t.inputs.length > 0),
        search,
      ),
    [nodeTypes, search],
  );
  const first = groups[0]?.[1][0]?.type ?? null;
  const choose = (type: string) => store.getState().addConnectedNode(type, at.node, at.handle);

  useEffect(() => {
    const outside = (event: PointerEvent) => {
      if (box.current && !box.current.contains(event.target as Node)) onClose();
    };
    window.addEventListener("pointerdown", outside, true);
    return () => window.removeEventListener("pointerdown", outside, true);
  }, [onClose]);

  const left = Math.min(at.x + 12, window.innerWidth - 300);
  const top = Math.min(at.y - 20, window.innerHeight - 380);
  return (
    <div
      className="node-picker"
      data-testid="node-picker"
      ref={box}
      style={{ left, top }}
      role="dialog"
      aria-label={`Add a node after ${at.node}`}
    >
      <input
        autoFocus
        className="node-picker-search"
        data-testid="node-picker-search"
        placeholder={`Add after ${at.node} · ${at.handle}…`}
        value={search}
        onChange={(e) => setSearch(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Escape") onClose();
          if (e.key === "Enter" && first) choose(first);
        }}
      />
      <div className="node-picker-list">
        {groups.length === 0 && <p className="muted small">No node type matches “{search}”.</p>}
        {groups.map(([category, types]) => (
          <section key={category}>
            <h4>{category}</h4>
            {types.map((t) => (
              <button
                key={t.type}
                className="node-picker-item"
                data-testid={`node-picker-${t.type}`}
                title={t.description}
                onClick={() => choose(t.type)}
              >
                <TypeIcon className="wf-node-icon" icon={t.icon} type={t.type} />
                <span>{t.label}</span>
              </button>
            ))}
          </section>
        ))}
      </div>
    </div>
  );
}
