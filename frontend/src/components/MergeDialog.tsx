/**
 * A stale save (someone saved the workflow since it was opened here): what changed on each side,
 * merged automatically where the two touched different parts; only real conflicts ask, per node,
 * whether to keep mine (the default) or take theirs (issue 17 #9).
 */
import { useState } from "react";
import { conflictText, type MergeSide } from "../lib/merge";
import type { SaveConflict } from "../hooks/useEditorActions";
import { Modal } from "./Modal";

interface Props {
  conflict: SaveConflict | null;
  onSave(choices: Record<string, MergeSide>): void;
  onReload(): void;
  onClose(): void;
}

const part = (key: string) => key.replace(/^field:/, "workflow ").replace(/^(node|edge):/, "$1 ");

export function MergeDialog({ conflict, onSave, onReload, onClose }: Props) {
  const [choices, setChoices] = useState<Record<string, MergeSide>>({});
  if (!conflict) return null;
  const { result, theirs } = conflict;
  return (
    <Modal
      title="Someone else saved this workflow"
      testId="conflict-dialog"
      onClose={onClose}
      actions={
        <>
          <button onClick={onClose}>Keep editing</button>
          <button data-testid="conflict-reload" onClick={onReload}>
            Reload theirs (lose my changes)
          </button>
          <button className="primary" data-testid="merge-save" onClick={() => onSave(choices)}>
            {result.conflicts.length ? "Save with these choices" : "Save merged"}
          </button>
        </>
      }
    >
      <p>The workflow is at revision {theirs.revision} on the server. Your save was not applied; nothing of yours is lost.</p>
      {result.taken.length > 0 && (
        <p data-testid="merge-taken">
          <strong>Changed on the server</strong> (taken): {result.taken.map(part).join(", ")}
        </p>
      )}
      {result.kept.length > 0 && (
        <p data-testid="merge-kept">
          <strong>Changed here</strong> (kept): {result.kept.map(part).join(", ")}
        </p>
      )}
      {result.conflicts.length === 0 ? (
        <p className="muted">No conflict: both sides changed different parts.</p>
      ) : (
        <fieldset className="merge-conflicts" data-testid="merge-conflicts">
          <legend>Changed on both sides: choose</legend>
          {result.conflicts.map((c) => (
            <div key={c.key} className="merge-conflict" data-testid="merge-conflict" data-key={c.key}>
              <span className="code">{conflictText(c)}</span>
              {(["mine", "theirs"] as const).map((side) => (
                <label key={side}>
                  <input
                    type="radio"
                    name={`merge-${c.key}`}
                    data-testid={`merge-${side}`}
                    checked={(choices[c.key] ?? "mine") === side}
                    onChange={() => setChoices({ ...choices, [c.key]: side })}
                  />{" "}
                  {side === "mine" ? "keep mine" : "take theirs"}
                </label>
              ))}
            </div>
          ))}
        </fieldset>
      )}
    </Modal>
  );
}
