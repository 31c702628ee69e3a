/** A text input for config strings: `{{ }}` highlighted, upstream node ids suggested. */
import { useRef, useState } from "react";
import { expressionPrefix, insertSuggestion, splitTemplate, suggestNames, type ExpressionScope } from "../lib/expressions";
import { useHasCanvas } from "../store/context";
import { ExpressionPreview } from "./ExpressionPreview";

interface Props {
  id: string;
  value: string;
  multiline: boolean;
  /** A bare expression field (e.g. a condition): the whole text is an expression. */
  bare: boolean;
  scope: ExpressionScope;
  onChange(value: string): void;
}

export function ExpressionInput({ id, value, multiline, bare, scope, onChange }: Props) {
  const ref = useRef<HTMLInputElement & HTMLTextAreaElement>(null);
  const inEditor = useHasCanvas();
  const [cursor, setCursor] = useState<number | null>(null);
  const prefix = cursor === null ? null : expressionPrefix(value, cursor, bare);
  const suggestions = prefix === null ? [] : suggestNames(prefix, scope);
  const segments = bare ? [] : splitTemplate(value);
  const hasExpression = segments.some((s) => s.expression);

  const pick = (name: string) => {
    const [text, at] = insertSuggestion(value, cursor ?? value.length, name);
    onChange(text);
    setCursor(at);
    requestAnimationFrame(() => ref.current?.setSelectionRange(at, at));
    ref.current?.focus();
  };
  const common = {
    id,
    ref,
    value,
    className: `nodrag ${bare ? "code" : ""}`,
    spellCheck: false,
    onChange: (e: React.ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) => {
      onChange(e.target.value);
      setCursor(e.target.selectionStart);
    },
    onKeyUp: (e: React.KeyboardEvent<HTMLInputElement | HTMLTextAreaElement>) => setCursor(e.currentTarget.selectionStart),
    onClick: (e: React.MouseEvent<HTMLInputElement | HTMLTextAreaElement>) => setCursor(e.currentTarget.selectionStart),
    onBlur: () => setTimeout(() => setCursor(null), 150),
  };
  return (
    <div className="expr-input">
      {multiline ? <textarea rows={3} {...common} /> : <input {...common} />}
      {hasExpression && (
        <div className="expr-preview" aria-label="expression preview">
          {segments.map((s, i) => (
            <span key={i} className={s.expression ? "expr" : ""}>
              {s.text}
            </span>
          ))}
        </div>
      )}
      {inEditor && <ExpressionPreview text={value} bare={bare} />}
      {suggestions.length > 0 && (
        <ul className="suggestions" role="listbox">
          {suggestions.map((name) => (
            <li key={name}>
              <button type="button" onMouseDown={(e) => (e.preventDefault(), pick(name))}>
                {name}
                {scope.upstream.includes(name) && <small> node</small>}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
