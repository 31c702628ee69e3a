/** Template text helpers for expression fields: `{{ }}` highlighting and name suggestions. */

export interface Segment {
  text: string;
  expression: boolean;
}

/** Split text into literal and `{{ ... }}` segments (an unclosed `{{` stays literal). */
export function splitTemplate(text: string): Segment[] {
  const segments: Segment[] = [];
  const pattern = /\{\{[\s\S]*?\}\}/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    const start = match.index ?? 0;
    if (start > last) segments.push({ text: text.slice(last, start), expression: false });
    segments.push({ text: match[0], expression: true });
    last = start + match[0].length;
  }
  if (last < text.length) segments.push({ text: text.slice(last), expression: false });
  return segments;
}

/** The identifier being typed at `cursor` when it is inside an expression, else null. */
export function expressionPrefix(text: string, cursor: number, bare = false): string | null {
  const before = text.slice(0, cursor);
  if (!bare) {
    const open = before.lastIndexOf("{{");
    if (open < 0 || before.lastIndexOf("}}") > open) return null;
  }
  const match = /[A-Za-z_][A-Za-z0-9_.]*$/.exec(before);
  return match ? match[0] : "";
}

export const SCOPE_NAMES = ["inputs", "vars", "input", "loop", "node", "run", "env", "secrets"];

/** What an expression field can name: upstream node ids, and the fields under a name. */
export interface ExpressionScope {
  upstream: readonly string[];
  fieldsOf(base: string): readonly string[];
}

/**
 * Names that complete `prefix`: upstream node ids first, then the built-in scope names; after
 * a dot, the fields known under what comes before it (`fetch.` -> status, headers, body).
 */
export function suggestNames(prefix: string, scope: ExpressionScope, limit = 8): string[] {
  const dot = prefix.lastIndexOf(".");
  const candidates = dot < 0 ? [...scope.upstream, ...SCOPE_NAMES] : scope.fieldsOf(prefix.slice(0, dot));
  const part = prefix.slice(dot + 1);
  return candidates.filter((name) => name.startsWith(part) && name !== part).slice(0, limit);
}

/** The fields known under a name in a node's scope. */
export function scopeFields(
  base: string,
  context: { upstreamTypes: Record<string, string>; inputs: readonly string[]; variables: readonly string[] },
): string[] {
  const fixed: Record<string, string[]> = {
    inputs: [...context.inputs],
    vars: [...context.variables],
    loop: ["index", "iteration", "item", "count"],
    node: ["id", "attempt"],
    run: ["id"],
  };
  if (fixed[base]) return fixed[base];
  return OUTPUT_FIELDS[context.upstreamTypes[base] ?? ""] ?? [];
}

/** Output fields of the node types whose output has a known shape (SPEC §3). */
export const OUTPUT_FIELDS: Record<string, string[]> = {
  http: ["status", "headers", "body"],
  approval: ["approved", "data", "by", "at"],
};

/** Replace the identifier before `cursor` with `name`; returns the new text and cursor. */
export function insertSuggestion(text: string, cursor: number, name: string): [string, number] {
  const before = text.slice(0, cursor);
  const match = /[A-Za-z_][A-Za-z0-9_]*$/.exec(before);
  const start = match ? cursor - match[0].length : cursor;
  return [text.slice(0, start) + name + text.slice(cursor), start + name.length];
}
