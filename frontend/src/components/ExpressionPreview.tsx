/** Under an expression field: the value it renders to with the last run's data (issue 17). */
import { useEffect, useState } from "react";
import { api } from "../api/client";
import { previewLine, wantsPreview, type PreviewAnswer } from "../lib/preview";
import { useCanvas } from "../store/context";

const DEBOUNCE_MS = 350;

export function ExpressionPreview({ text, bare }: { text: string; bare: boolean }) {
  const { workflowId, node } = useCanvas((s) => ({ workflowId: s.workflowId, node: s.nodes.find((n) => n.selected)?.id ?? null }));
  const [answer, setAnswer] = useState<{ text: string; answer: PreviewAnswer } | null>(null);
  const wanted = wantsPreview(text, bare);
  useEffect(() => {
    if (!wanted || workflowId === null) return;
    let current = true;
    const timer = window.setTimeout(() => {
      api.previewExpression(workflowId, text, node, bare).then(
        (a) => current && setAnswer({ text, answer: a }),
        () => undefined,
      );
    }, DEBOUNCE_MS);
    return () => {
      current = false;
      window.clearTimeout(timer);
    };
  }, [text, bare, node, workflowId, wanted]);
  if (!wanted || !answer || answer.text !== text) return null;
  const line = previewLine(answer.answer);
  return (
    <div className={`expr-value ${line.error ? "field-error" : "muted"} small`} data-testid="expression-value">
      {line.text}
    </div>
  );
}
