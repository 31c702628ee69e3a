/** JSON Schema (a node type's `config_schema`) -> descriptors the config form renders. */
import { humanLabel } from "./labels";
import type { JsonSchema } from "./types";

interface FieldBase {
  key: string;
  path: string[];
  label: string;
  description?: string;
  required: boolean;
  default?: unknown;
}

export type FieldDescriptor =
  | (FieldBase & { kind: "string"; multiline: boolean; expression: boolean; nullable: boolean })
  | (FieldBase & { kind: "number"; integer: boolean; minimum?: number; maximum?: number })
  | (FieldBase & { kind: "boolean" })
  | (FieldBase & { kind: "enum"; options: (string | number | boolean | null)[] })
  | (FieldBase & { kind: "array"; item: FieldDescriptor })
  | (FieldBase & { kind: "object"; fields: FieldDescriptor[] })
  | (FieldBase & { kind: "map"; value: FieldDescriptor })
  | (FieldBase & { kind: "json" });

const MULTILINE_KEYS = new Set(["body", "expression", "condition", "prompt", "message", "value", "output"]);

/**
 * The fields of an object schema, in declaration order, required ones flagged. `value` is the
 * object being edited: `allOf` if/then rules that match it add required fields (see requiredKeys).
 */
export function fieldsFromSchema(
  schema: JsonSchema | undefined,
  expressionFields: readonly string[] = [],
  path: string[] = [],
  value?: unknown,
): FieldDescriptor[] {
  const properties = schema?.properties ?? {};
  const required = requiredKeys(schema, value);
  return Object.entries(properties).map(([key, sub]) => {
    const fieldPath = [...path, key];
    return describeField(sub, {
      key,
      path: fieldPath,
      required: required.has(key),
      expression: expressionFields.includes(expressionName(fieldPath)),
      expressionFields,
      value: getIn(value, [key]),
    });
  });
}

/**
 * The property names an object must have: the schema's `required` plus the `then.required` of
 * every `allOf` entry whose `if` matches `value`. An `if` may use `properties` (each with `const`
 * or `enum`) and `required`; as in JSON Schema, a property constraint on an absent property
 * passes. An `if` using anything else cannot be evaluated here and counts as not matching.
 */
export function requiredKeys(schema: JsonSchema | undefined, value: unknown): Set<string> {
  const required = new Set(schema?.required ?? []);
  const object = isPlainObject(value) ? value : {};
  for (const rule of schema?.allOf ?? []) {
    if (!rule || typeof rule !== "object" || rule.if === undefined) continue;
    const then = rule.then;
    if (!then || typeof then !== "object" || !Array.isArray(then.required)) continue;
    if (ifMatches(rule.if, object)) then.required.forEach((key) => required.add(key));
  }
  return required;
}

/** Keywords that never affect validation, so an `if` may carry them. */
const ANNOTATIONS = new Set(["title", "description", "$comment"]);

function ifMatches(condition: JsonSchema | boolean, object: Record<string, unknown>): boolean {
  if (typeof condition === "boolean") return condition;
  if (!condition || typeof condition !== "object") return false;
  for (const [keyword, argument] of Object.entries(condition)) {
    if (ANNOTATIONS.has(keyword)) continue;
    if (keyword === "required") {
      if (!Array.isArray(argument) || !argument.every((k) => typeof k === "string" && k in object)) return false;
    } else if (keyword === "properties") {
      if (!isPlainObject(argument)) return false;
      for (const [key, sub] of Object.entries(argument)) {
        if (!propertyMatches(sub, key in object, object[key])) return false;
      }
    } else {
      return false;
    }
  }
  return true;
}

/** One `if.properties` entry: `const` / `enum` only; an absent property passes. */
function propertyMatches(schema: unknown, present: boolean, value: unknown): boolean {
  if (typeof schema === "boolean") return !present || schema;
  if (!isPlainObject(schema)) return false;
  let ok = true;
  for (const [keyword, argument] of Object.entries(schema)) {
    if (ANNOTATIONS.has(keyword)) continue;
    if (keyword === "const") ok = ok && (!present || jsonEqual(value, argument));
    else if (keyword === "enum") {
      if (!Array.isArray(argument)) return false;
      ok = ok && (!present || argument.some((option) => jsonEqual(value, option)));
    } else return false;
  }
  return ok;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === "object" && !Array.isArray(value);
}

/** JSON equality: same type and value, objects compared by keys regardless of their order. */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && jsonEqual(a[k], b[k]));
  }
  return false;
}

interface Context {
  key: string;
  path: string[];
  required: boolean;
  expression?: boolean;
  expressionFields?: readonly string[];
  /** The value being edited at this field, if known (nested objects' if/then rules use it). */
  value?: unknown;
}

/** How node types name nested expression fields: `cases[].expression`. */
function expressionName(path: readonly string[]): string {
  return path.join(".").replace(/\.\*/g, "[]");
}

export function describeField(schema: JsonSchema, ctx: Context): FieldDescriptor {
  const base: FieldBase = {
    key: ctx.key,
    path: ctx.path,
    label: schema.title ?? humanize(ctx.key),
    description: schema.description,
    required: ctx.required,
    default: schema.default,
  };
  if (schema.enum) return { ...base, kind: "enum", options: schema.enum as (string | number)[] };
  const [type, nullable] = primaryType(schema);
  switch (type) {
    case "string":
      return {
        ...base,
        kind: "string",
        multiline: MULTILINE_KEYS.has(ctx.key) || schema.format === "textarea",
        expression: !!ctx.expression,
        nullable,
      };
    case "number":
    case "integer":
      return {
        ...base,
        kind: "number",
        integer: type === "integer",
        minimum: schema.minimum,
        maximum: schema.maximum,
      };
    case "boolean":
      return { ...base, kind: "boolean" };
    case "array":
      return {
        ...base,
        kind: "array",
        item: describeField(schema.items ?? {}, {
          key: "item",
          path: [...ctx.path, "*"],
          required: false,
          expression: (ctx.expressionFields ?? []).includes(expressionName([...ctx.path, "*"])),
          expressionFields: ctx.expressionFields,
        }),
      };
    case "object":
      return describeObject(schema, base, ctx);
    default:
      return { ...base, kind: "json" };
  }
}

function describeObject(schema: JsonSchema, base: FieldBase, ctx: Context): FieldDescriptor {
  if (schema.properties && Object.keys(schema.properties).length) {
    return { ...base, kind: "object", fields: fieldsFromSchema(schema, ctx.expressionFields, ctx.path, ctx.value) };
  }
  const extra = schema.additionalProperties;
  if (extra && typeof extra === "object" && primaryType(extra)[0] === "string") {
    const value = describeField(extra, { key: "value", path: [...ctx.path, "*"], required: false });
    return { ...base, kind: "map", value };
  }
  return { ...base, kind: "json" };
}

/** The one concrete type of a schema (`["string", "null"]` is a nullable string), if any. */
function primaryType(schema: JsonSchema): [string | null, boolean] {
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  const concrete = types.filter((t) => t !== "null");
  if (concrete.length !== 1) return [null, types.includes("null")];
  return [concrete[0], types.includes("null")];
}

export function humanize(key: string): string {
  return humanLabel(key);
}

/** The value a blank form starts with: schema defaults, else an empty value per kind. */
export function initialValue(field: FieldDescriptor): unknown {
  if (field.default !== undefined) return field.default;
  switch (field.kind) {
    case "boolean":
      return false;
    case "array":
      return [];
    case "map":
      return {};
    case "object":
      return Object.fromEntries(field.fields.filter((f) => f.required).map((f) => [f.key, initialValue(f)]));
    default:
      return undefined;
  }
}

export type Parsed = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * Turn what a user typed into the config value. Numbers accept `{{ }}` templates as text, so an
 * expression can supply any value; blank optional inputs are removed from the config.
 */
export function parseFieldInput(field: FieldDescriptor, text: string): Parsed {
  const trimmed = text.trim();
  if (trimmed === "") {
    if (field.required && field.kind !== "string") return fail(`${field.label} is required`);
    return { ok: true, value: field.kind === "string" ? (field.nullable ? null : "") : undefined };
  }
  if (field.kind === "number") return parseNumber(field, trimmed);
  if (field.kind === "json") return parseJson(field.label, text);
  return { ok: true, value: text };
}

function parseNumber(field: Extract<FieldDescriptor, { kind: "number" }>, text: string): Parsed {
  if (/^\{\{.*\}\}$/s.test(text)) return { ok: true, value: text };
  const value = Number(text);
  if (!Number.isFinite(value)) return fail(`${field.label} must be a number`);
  if (field.integer && !Number.isInteger(value)) return fail(`${field.label} must be a whole number`);
  if (field.minimum !== undefined && value < field.minimum) {
    return fail(`${field.label} must be at least ${field.minimum}`);
  }
  if (field.maximum !== undefined && value > field.maximum) {
    return fail(`${field.label} must be at most ${field.maximum}`);
  }
  return { ok: true, value };
}

/**
 * A value of any JSON type typed as text: JSON when it reads as JSON (`{"a": 1}`, `[1]`, `3`,
 * `true`), else the text itself, so `Hello {{ inputs.name }}` needs no quotes. Text that
 * starts like an object or a list must parse.
 */
export function parseAnyValue(label: string, text: string): Parsed {
  const trimmed = text.trim();
  if (trimmed === "") return { ok: true, value: undefined };
  if (/^(\[|\{(?!\{))/.test(trimmed)) return parseJson(label, text);
  try {
    return { ok: true, value: JSON.parse(trimmed) };
  } catch {
    return { ok: true, value: text };
  }
}

/** The text shown for a value of any JSON type (the inverse of parseAnyValue). */
export function formatAnyValue(value: unknown): string {
  if (value === undefined) return "";
  if (typeof value === "string") {
    const reread = parseAnyValue("", value);
    if (reread.ok && reread.value === value) return value;
  }
  return JSON.stringify(value, null, 2);
}

function parseJson(label: string, text: string): Parsed {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return fail(`${label} is not valid JSON: ${(error as Error).message}`);
  }
}

function fail(error: string): Parsed {
  return { ok: false, error };
}

/** Set `value` at `path` in a nested config, returning a new object (undefined removes it). */
export function setIn(obj: Record<string, unknown>, path: readonly string[], value: unknown) {
  const [head, ...rest] = path;
  const copy: Record<string, unknown> = { ...obj };
  if (rest.length === 0) {
    if (value === undefined) delete copy[head];
    else copy[head] = value;
    return copy;
  }
  const child = (obj[head] && typeof obj[head] === "object" ? obj[head] : {}) as Record<string, unknown>;
  copy[head] = setIn(child, rest, value);
  return copy;
}

export function getIn(obj: unknown, path: readonly string[]): unknown {
  return path.reduce<unknown>(
    (value, key) => (value && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined),
    obj,
  );
}
