/** The editor's dialogs: run inputs, keyboard shortcuts (a stale save: MergeDialog). */
import { useState } from "react";
import type { InputDeclaration } from "../lib/types";
import { Modal } from "./Modal";

export function RunDialog({
  inputs,
  onRun,
  onClose,
}: {
  inputs: Record<string, InputDeclaration>;
  onRun(values: Record<string, unknown>): void;
  onClose(): void;
}) {
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(
      Object.entries(inputs).map(([k, d]) => [
        k,
        d.default === undefined ? "" : typeof d.default === "string" ? d.default : JSON.stringify(d.default),
      ]),
    ),
  );
  const submit = () => onRun(Object.fromEntries(Object.entries(values).map(([k, v]) => [k, parseInput(v, inputs[k])])));
  return (
    <Modal
      title="Run with inputs"
      testId="run-dialog"
      onClose={onClose}
      actions={
        <>
          <button onClick={onClose}>Cancel</button>
          <button className="primary" data-testid="run-dialog-submit" onClick={submit}>
            ▶ Run
          </button>
        </>
      }
    >
      {Object.entries(inputs).map(([key, decl]) => (
        <div className="field" key={key}>
          <label htmlFor={`run-input-${key}`}>
            {key} <small className="muted">{decl.type ?? "any"}</small>
          </label>
          <input id={`run-input-${key}`} value={values[key]} onChange={(e) => setValues({ ...values, [key]: e.target.value })} />
          {decl.description && <small className="hint">{decl.description}</small>}
        </div>
      ))}
    </Modal>
  );
}

/** Strings stay strings; other declared types (and undeclared ones that parse) are JSON. */
function parseInput(text: string, decl: InputDeclaration | undefined): unknown {
  if (decl?.type === "string") return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const SHORTCUTS: [string, string][] = [
  ["Ctrl/⌘ + S", "Save"],
  ["Ctrl/⌘ + Z", "Undo"],
  ["Ctrl/⌘ + Shift + Z, Ctrl + Y", "Redo"],
  ["Ctrl/⌘ + C / V", "Copy / paste selected nodes"],
  ["Delete / Backspace", "Delete selection"],
  ["Shift + drag", "Select an area"],
  ["Ctrl/⌘ + click", "Add to selection"],
  ["Shift + L", "Auto-layout"],
  ["Shift + F", "Fit view"],
  ["Ctrl/⌘ + Enter", "Run"],
  ["?", "This help"],
];

export function ShortcutsHelp({ onClose }: { onClose(): void }) {
  return (
    <Modal title="Keyboard shortcuts" testId="shortcuts-help" onClose={onClose} actions={<button onClick={onClose}>Close</button>}>
      <table className="shortcuts">
        <tbody>
          {SHORTCUTS.map(([keys, what]) => (
            <tr key={keys}>
              <td>
                <kbd>{keys}</kbd>
              </td>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Modal>
  );
}
