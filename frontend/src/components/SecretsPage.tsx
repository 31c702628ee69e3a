/** The Secrets screen at `/secrets/`: the signed-in user's named secrets, write-only. Values
 * are typed into a password field, sent once and forgotten; the list shows `••••` for each. */
import { useCallback, useEffect, useState } from "react";
import { ApiError, api } from "../api/client";
import { MASK, type SecretSummary, maskedSecrets, safeErrorText, secretDate } from "../lib/secrets";
import { navigate, paths } from "../router";
import { Modal } from "./Modal";

export function SecretsPage() {
  const [secrets, setSecrets] = useState<SecretSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<string | null>(null);
  const [replacing, setReplacing] = useState<string | null>(null);

  const reload = useCallback(() => {
    api.listSecrets().then(
      (answer) => setSecrets(maskedSecrets(answer.secrets)),
      (e: Error) => setError(e.message),
    );
  }, []);
  useEffect(reload, [reload]);

  const remove = (name: string) => {
    setConfirm(null);
    setError(null);
    api.deleteSecret(name).then(reload, (e: Error) => setError(e.message));
  };

  return (
    <div className="list-page" data-testid="secrets-page">
      <header className="topbar">
        <a className="brand" href="/" onClick={(e) => (e.preventDefault(), navigate(paths.list()))} title="All workflows">
          ⇶ Switchyard
        </a>
        <span className="spacer" />
        <button onClick={() => navigate(paths.list())}>Workflows</button>
      </header>
      <main className="list-main">
        <h1>Secrets</h1>
        <p className="muted">
          Named values (API keys, signing secrets) that <code>llm</code>, <code>http</code> and webhook nodes use by name. A stored value is
          never shown again: replace it to change it.
        </p>
        {error && (
          <p className="error-banner" role="alert" data-testid="secrets-error">
            {error}
          </p>
        )}
        <SecretForm
          key={replacing ?? "new"}
          replacing={replacing}
          onSaved={() => {
            setReplacing(null);
            setError(null);
            reload();
          }}
          onCancel={() => setReplacing(null)}
        />
        {secrets === null ? (
          <p className="muted">Loading…</p>
        ) : secrets.length === 0 ? (
          <p className="empty" data-testid="no-secrets">
            No secrets yet.
          </p>
        ) : (
          <table className="workflow-table" data-testid="secrets-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Value</th>
                <th>Created</th>
                <th>Updated</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {secrets.map((s) => (
                <tr key={s.name} data-testid="secret-row" data-name={s.name}>
                  <td>
                    <code>{s.name}</code>
                  </td>
                  <td data-testid="secret-value">{MASK}</td>
                  <td>{secretDate(s.created_at)}</td>
                  <td>{secretDate(s.updated_at)}</td>
                  <td className="row-actions">
                    <button data-testid="secret-replace" onClick={() => setReplacing(s.name)}>
                      Replace
                    </button>
                    <button className="danger" data-testid="secret-delete" onClick={() => setConfirm(s.name)}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </main>
      {confirm !== null && (
        <Modal
          title="Delete secret?"
          testId="confirm-delete-secret"
          onClose={() => setConfirm(null)}
          actions={
            <>
              <button onClick={() => setConfirm(null)}>Cancel</button>
              <button className="danger" data-testid="confirm-delete-secret-button" onClick={() => remove(confirm)}>
                Delete
              </button>
            </>
          }
        >
          <p>
            “{confirm}” will be deleted. Nodes that use it fail with <code>secret_missing</code> until it is added again.
          </p>
        </Modal>
      )}
    </div>
  );
}

interface FormProps {
  replacing: string | null;
  onSaved: () => void;
  onCancel: () => void;
}

function SecretForm({ replacing, onSaved, onCancel }: FormProps) {
  const [name, setName] = useState(replacing ?? "");
  const [value, setValue] = useState("");
  const [problem, setProblem] = useState<{ field: string | null; message: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = (event: React.FormEvent) => {
    event.preventDefault();
    // the API checks the name and value: its 400 names the field that is wrong
    setBusy(true);
    api.putSecret(name, value).then(
      () => {
        setBusy(false);
        setValue("");
        setName("");
        setProblem(null);
        onSaved();
      },
      (e: Error) => {
        setBusy(false);
        const field = e instanceof ApiError ? (e.errors[0]?.field ?? null) : null;
        setProblem({ field: typeof field === "string" ? field : null, message: safeErrorText(e.message, value) });
      },
    );
  };

  return (
    <form className="secret-form" data-testid="secret-form" onSubmit={submit} autoComplete="off">
      <label>
        Name
        <input
          data-testid="secret-name"
          value={name}
          readOnly={replacing !== null}
          aria-invalid={problem?.field === "name"}
          maxLength={64}
          onChange={(e) => setName(e.target.value)}
        />
      </label>
      <label>
        {replacing ? "New value" : "Value"}
        <input
          data-testid="secret-value-input"
          type="password"
          autoComplete="new-password"
          value={value}
          aria-invalid={problem?.field === "value"}
          onChange={(e) => setValue(e.target.value)}
        />
      </label>
      <button className="primary" type="submit" data-testid="secret-save" disabled={busy}>
        {replacing ? "Replace" : "Add secret"}
      </button>
      {replacing && (
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      )}
      {problem && (
        <p className="error-banner" role="alert" data-testid="secret-form-error">
          {problem.message}
        </p>
      )}
    </form>
  );
}
