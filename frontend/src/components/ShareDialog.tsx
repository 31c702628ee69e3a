/**
 * The owner's share dialog: who the workflow is shared with; add usernames, remove them, save
 * the whole list (PUT). Unknown usernames are marked on their name; nothing typed is lost.
 */
import { useEffect, useState } from "react";
import { api } from "../api/client";
import { addNames, saveSharing, type SharingErrors } from "../lib/sharing";
import type { Sharing } from "../lib/types";
import { Modal } from "./Modal";

const NO_ERRORS: SharingErrors = { perName: {}, other: [] };

export function ShareDialog({ workflowId, onClose, onSaved }: { workflowId: number; onClose(): void; onSaved(sharing: Sharing): void }) {
  const [owner, setOwner] = useState<string | null>(null);
  const [names, setNames] = useState<string[] | null>(null);
  const [typed, setTyped] = useState("");
  const [errors, setErrors] = useState<SharingErrors>(NO_ERRORS);
  const [note, setNote] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    let current = true;
    api.getSharing(workflowId).then(
      (sharing) => {
        if (!current) return;
        setOwner(sharing.owner);
        setNames(sharing.shared_with);
      },
      (e: Error) => current && (setNames([]), setErrors({ perName: {}, other: [e.message] })),
    );
    return () => {
      current = false;
    };
  }, [workflowId]);

  const add = () => {
    const result = addNames(names ?? [], typed, owner);
    setNames(result.names);
    setTyped("");
    setNote(result.refused.length ? `${owner} owns it: there is no need to share it with them` : null);
  };
  const remove = (name: string) => {
    setNames((names ?? []).filter((n) => n !== name));
    const { [name]: _gone, ...perName } = errors.perName;
    setErrors({ ...errors, perName });
  };
  const save = async () => {
    setSaving(true);
    const result = await saveSharing((list) => api.setSharing(workflowId, list), names ?? [], typed, owner);
    setSaving(false);
    if (result.ok) return onSaved(result.sharing);
    setNames(result.names);
    setTyped("");
    setErrors(result.errors);
  };

  return (
    <Modal
      title="Share workflow"
      testId="share-dialog"
      onClose={onClose}
      actions={
        <>
          <button onClick={onClose}>Cancel</button>
          <button className="primary" data-testid="share-save" disabled={names === null || saving} onClick={save}>
            {saving ? "Saving…" : "Save"}
          </button>
        </>
      }
    >
      <p className="muted small">
        The users named here see this workflow in their list and can run it and follow its runs; only {owner ?? "its owner"} can change it.
      </p>
      {errors.other.map((message, i) => (
        <p key={i} className="error-banner" role="alert" data-testid="share-error">
          {message}
        </p>
      ))}
      {names === null ? (
        <p className="muted">Loading…</p>
      ) : names.length === 0 ? (
        <p className="muted" data-testid="share-empty">
          Not shared with anyone.
        </p>
      ) : (
        <ul className="share-list" data-testid="share-list">
          {names.map((name) => (
            <li
              key={name}
              data-testid="share-user"
              data-username={name}
              data-invalid={errors.perName[name] ? "true" : undefined}
              className={errors.perName[name] ? "invalid" : ""}
            >
              <span className="share-name">{name}</span>
              {errors.perName[name] && (
                <small className="field-error" role="alert" data-testid="share-user-error">
                  {errors.perName[name]}
                </small>
              )}
              <button
                className="icon-button"
                data-testid="share-remove"
                aria-label={`Stop sharing with ${name}`}
                title={`Stop sharing with ${name}`}
                onClick={() => remove(name)}
              >
                ✕
              </button>
            </li>
          ))}
        </ul>
      )}
      <div className="share-add">
        <input
          aria-label="Usernames to share with"
          data-testid="share-input"
          placeholder="username(s), comma-separated"
          value={typed}
          disabled={names === null}
          onChange={(e) => setTyped(e.target.value)}
          onKeyDown={(e) => e.key === "Enter" && (e.preventDefault(), add())}
        />
        <button data-testid="share-add" disabled={names === null || !typed.trim()} onClick={add}>
          Add
        </button>
      </div>
      {note && <small className="hint">{note}</small>}
    </Modal>
  );
}
