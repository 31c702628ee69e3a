/** Node types from /api/node-types/, grouped by category and searchable; drag one onto the canvas. */
import { memo, useMemo, useState } from "react";
import { paletteGroups } from "../lib/nodeTypes";
import { useCanvas } from "../store/context";
import { DRAG_MIME } from "./Canvas";
import { TypeIcon } from "./TypeIcon";

export const Palette = memo(function Palette({ onAdd }: { onAdd(type: string): void }) {
  const types = useCanvas((s) => Object.values(s.nodeTypes));
  const [search, setSearch] = useState("");
  const groups = useMemo(() => paletteGroups(types, search), [types, search]);
  return (
    <aside className="palette" data-testid="palette">
      <input
        className="palette-search"
        type="search"
        placeholder="Search nodes…"
        aria-label="Search node types"
        value={search}
        onChange={(e) => setSearch(e.target.value)}
      />
      {groups.length === 0 && <p className="muted small">No node type matches “{search}”.</p>}
      {groups.map(([category, infos]) => (
        <section key={category}>
          <h3>{category}</h3>
          {infos.map((info) => (
            <div
              key={info.type}
              className="palette-item"
              draggable
              data-testid={`palette-${info.type}`}
              title={`${info.description}\nDrag onto the canvas, or double-click to add.`}
              style={{ "--accent": info.color } as React.CSSProperties}
              onDragStart={(e) => {
                e.dataTransfer.setData(DRAG_MIME, info.type);
                e.dataTransfer.effectAllowed = "move";
              }}
              onDoubleClick={() => onAdd(info.type)}
            >
              <TypeIcon className="palette-icon" icon={info.icon} type={info.type} />
              <span>
                <strong>{info.label}</strong>
                <small>{info.description}</small>
              </span>
            </div>
          ))}
        </section>
      ))}
    </aside>
  );
});
