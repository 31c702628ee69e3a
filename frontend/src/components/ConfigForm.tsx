/** A config form generated from the node type's JSON Schema (see lib/schemaForm). */
import { useState } from "react";
import {
  fieldsFromSchema,
  formatAnyValue,
  getIn,
  initialValue,
  parseAnyValue,
  parseFieldInput,
  type FieldDescriptor,
} from "../lib/schemaForm";
import type { JsonSchema } from "../lib/types";
import { ExpressionInput } from "./ExpressionInput";
import type { ExpressionScope } from "../lib/expressions";

interface FormProps {
  schema: JsonSchema | undefined;
  expressionFields: readonly string[];
  value: Record<string, unknown>;
  scope: ExpressionScope;
  onChange(path: string[], value: unknown): void;
}

export function ConfigForm({ schema, expressionFields, value, scope, onChange }: FormProps) {
  // Recomputed from the value each render: an if/then rule (e.g. a loop's mode) may require more.
  const fields = fieldsFromSchema(schema, expressionFields, [], value);
  if (!fields.length) return <p className="muted small">This node type has no settings.</p>;
  return (
    <div className="config-form" data-testid="config-form">
      {fields.map((field) => (
        <Field key={field.key} field={field} value={getIn(value, [field.key])} scope={scope} onChange={(v) => onChange(field.path, v)} />
      ))}
    </div>
  );
}

interface FieldProps {
  field: FieldDescriptor;
  value: unknown;
  scope: ExpressionScope;
  onChange(value: unknown): void;
}

function Field({ field, value, scope, onChange }: FieldProps) {
  const inputId = `cfg-${field.path.join("-")}`;
  const label = (
    <label htmlFor={inputId}>
      {field.label}
      {field.required && (
        <span className="required" title="required">
          {" "}
          *
        </span>
      )}
    </label>
  );
  if (field.kind === "boolean") {
    return (
      <div className="field field-inline">
        <input
          id={inputId}
          type="checkbox"
          className="nodrag"
          checked={Boolean(value ?? field.default)}
          onChange={(e) => onChange(e.target.checked)}
        />
        {label}
        {field.description && <small className="hint">{field.description}</small>}
      </div>
    );
  }
  return (
    <div className="field" data-field={field.path.join(".")}>
      {label}
      <FieldInput id={inputId} field={field} value={value} scope={scope} onChange={onChange} />
      {field.description && <small className="hint">{field.description}</small>}
    </div>
  );
}

function FieldInput({ id, field, value, scope, onChange }: FieldProps & { id: string }) {
  switch (field.kind) {
    case "string":
      return (
        <ExpressionInput
          id={id}
          value={value == null ? "" : String(value)}
          multiline={field.multiline}
          bare={field.expression}
          scope={scope}
          onChange={(text) => onChange(text)}
        />
      );
    case "enum":
      return (
        <select
          id={id}
          className="nodrag"
          value={JSON.stringify(value ?? field.default ?? null)}
          onChange={(e) => onChange(JSON.parse(e.target.value))}
        >
          {value === undefined && field.default === undefined && <option value="null">—</option>}
          {field.options.map((o) => (
            <option key={String(o)} value={JSON.stringify(o)}>
              {String(o)}
            </option>
          ))}
        </select>
      );
    case "array":
      return <ArrayInput field={field} value={Array.isArray(value) ? value : []} scope={scope} onChange={onChange} />;
    case "object":
      return (
        <fieldset className="nested">
          {field.fields.map((sub) => (
            <Field
              key={sub.key}
              field={sub}
              value={getIn(value, [sub.key])}
              scope={scope}
              onChange={(v) => onChange(setKey(value, sub.key, v))}
            />
          ))}
        </fieldset>
      );
    case "map":
      return <MapInput value={isRecord(value) ? (value as Record<string, string>) : {}} onChange={onChange} />;
    case "json":
      return <AnyValueInput id={id} label={field.label} value={value} scope={scope} onChange={onChange} />;
    default:
      return <ParsedTextInput id={id} field={field} value={value} onChange={onChange} />;
  }
}

/** Numbers and JSON keep what the user typed until it parses; the error names the field. */
function ParsedTextInput({
  id,
  field,
  value,
  onChange,
}: {
  id: string;
  field: FieldDescriptor;
  value: unknown;
  onChange(v: unknown): void;
}) {
  const format = (v: unknown) => (v === undefined ? "" : field.kind === "json" ? JSON.stringify(v, null, 2) : String(v));
  const [text, setText] = useState(format(value));
  const [error, setError] = useState<string | null>(null);
  // a new value from outside (undo, another field) replaces the text unless the text already says it
  const [shown, setShown] = useState(value);
  if (value !== shown) {
    setShown(value);
    const parsed = parseFieldInput(field, text);
    if (!(parsed.ok && JSON.stringify(parsed.value) === JSON.stringify(value))) setText(format(value));
  }
  const update = (next: string) => {
    setText(next);
    const parsed = parseFieldInput(field, next);
    setError(parsed.ok ? null : parsed.error);
    if (parsed.ok) onChange(parsed.value);
  };
  const props = { id, className: `nodrag ${error ? "invalid" : ""}`, value: text, "aria-invalid": !!error };
  return (
    <>
      {field.kind === "json" ? (
        <textarea rows={4} {...props} className={`${props.className} code`} onChange={(e) => update(e.target.value)} />
      ) : (
        <input
          inputMode="decimal"
          {...props}
          placeholder={field.default !== undefined ? String(field.default) : ""}
          onChange={(e) => update(e.target.value)}
        />
      )}
      {error && (
        <small className="field-error" role="alert">
          {error}
        </small>
      )}
    </>
  );
}

/** Any JSON value (e.g. a transform's output): JSON or template text, with suggestions. */
function AnyValueInput({
  id,
  label,
  value,
  scope,
  onChange,
}: {
  id: string;
  label: string;
  value: unknown;
  scope: ExpressionScope;
  onChange(v: unknown): void;
}) {
  const [text, setText] = useState(() => formatAnyValue(value));
  const [error, setError] = useState<string | null>(null);
  const update = (next: string) => {
    setText(next);
    const parsed = parseAnyValue(label, next);
    setError(parsed.ok ? null : parsed.error);
    if (parsed.ok) onChange(parsed.value);
  };
  return (
    <>
      <ExpressionInput id={id} value={text} multiline bare={false} scope={scope} onChange={update} />
      {error && (
        <small className="field-error" role="alert">
          {error}
        </small>
      )}
    </>
  );
}

function ArrayInput({
  field,
  value,
  scope,
  onChange,
}: {
  field: Extract<FieldDescriptor, { kind: "array" }>;
  value: unknown[];
  scope: ExpressionScope;
  onChange(v: unknown): void;
}) {
  const replace = (index: number, item: unknown) => onChange(value.map((v, i) => (i === index ? item : v)));
  return (
    <div className="array-input">
      {value.map((item, index) => (
        <div className="array-item" key={index}>
          <FieldInput
            id={`${field.path.join("-")}-${index}`}
            field={field.item}
            value={item}
            scope={scope}
            onChange={(v) => replace(index, v)}
          />
          <button type="button" className="icon-button" title="Remove" onClick={() => onChange(value.filter((_, i) => i !== index))}>
            ✕
          </button>
        </div>
      ))}
      <button type="button" className="small-button" onClick={() => onChange([...value, initialValue(field.item) ?? ""])}>
        + Add {field.label.toLowerCase().replace(/s$/, "")}
      </button>
    </div>
  );
}

function MapInput({ value, onChange }: { value: Record<string, string>; onChange(v: unknown): void }) {
  const entries = Object.entries(value);
  const rebuild = (rows: [string, string][]) => onChange(Object.fromEntries(rows));
  return (
    <div className="array-input">
      {entries.map(([key, val], index) => (
        <div className="array-item map-item" key={index}>
          <input
            className="nodrag"
            aria-label="name"
            value={key}
            onChange={(e) => rebuild(entries.map((r, i) => (i === index ? [e.target.value, r[1]] : r)))}
          />
          <input
            className="nodrag"
            aria-label="value"
            value={val}
            onChange={(e) => rebuild(entries.map((r, i) => (i === index ? [r[0], e.target.value] : r)))}
          />
          <button type="button" className="icon-button" title="Remove" onClick={() => rebuild(entries.filter((_, i) => i !== index))}>
            ✕
          </button>
        </div>
      ))}
      <button type="button" className="small-button" onClick={() => rebuild([...entries, [`key${entries.length + 1}`, ""]])}>
        + Add entry
      </button>
    </div>
  );
}

function isRecord(value: unknown): boolean {
  return !!value && typeof value === "object" && !Array.isArray(value);
}

function setKey(obj: unknown, key: string, value: unknown): Record<string, unknown> {
  const copy = { ...(isRecord(obj) ? (obj as Record<string, unknown>) : {}) };
  if (value === undefined) delete copy[key];
  else copy[key] = value;
  return copy;
}
