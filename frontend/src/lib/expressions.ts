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

/** Names that complete `prefix`: upstream node ids first, then the built-in scope names. */
export function suggestNames(prefix: string, upstream: readonly string[], limit = 8): string[] {
  if (prefix.includes(".")) return [];
  const candidates = [...upstream, ...SCOPE_NAMES];
  return candidates.filter((name) => name.startsWith(prefix) && name !== prefix).slice(0, limit);
}

/** Replace the identifier before `cursor` with `name`; returns the new text and cursor. */
export function insertSuggestion(text: string, cursor: number, name: string): [string, number] {
  const before = text.slice(0, cursor);
  const match = /[A-Za-z_][A-Za-z0-9_]*$/.exec(before);
  const start = match ? cursor - match[0].length : cursor;
  return [text.slice(0, start) + name + text.slice(cursor), start + name.length];
}
