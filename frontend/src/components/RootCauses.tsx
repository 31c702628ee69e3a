import { reuseText, rootCauseText, type RootCause } from "../lib/rootCauses";
import { NODE_STATE_LOOK } from "../lib/status";

/** The run summary's note on work reused from earlier runs (nodes with `cache`). */
export function ReuseNote({ reuse }: { reuse: { nodes: number; saved_ms: number } | undefined }) {
  const text = reuseText(reuse);
  if (!text) return null;
  const style = { "--state": NODE_STATE_LOOK.reused.color } as React.CSSProperties;
  return (
    <div className="reuse-note" data-testid="reuse-note" style={style}>
      <span aria-hidden="true">{NODE_STATE_LOOK.reused.icon}</span> {text}
    </div>
  );
}

/** The run summary's "Root cause" block: a failed run's first failures (click one to inspect it). */
export function RootCauses({ causes, onPick }: { causes: RootCause[] | undefined; onPick(node: string): void }) {
  if (!causes?.length) return null;
  return (
    <div className="root-causes" data-testid="root-causes" role="group" aria-label="Root cause">
      <strong>{causes.length > 1 ? `Root causes (${causes.length})` : "Root cause"}</strong>
      <ul>
        {causes.map((cause, index) => {
          const text = rootCauseText(cause);
          return (
            <li key={index} data-node-id={cause.node ?? undefined}>
              {cause.node ? (
                <button className="link-button" onClick={() => onPick(cause.node as string)}>
                  {text.where}
                </button>
              ) : (
                text.where
              )}
              : {text.why}
              {text.tookDown && <span className="muted"> — {text.tookDown}</span>}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
