/**
 * Renaming a node id (SPEC §1: the id is the name expressions use): rewrite every reference to
 * it in other nodes' config, in `{{ }}` templates and in plain-expression fields alike.
 */

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;

/**
 * `expr` with every free use of the name `from` replaced by `to`. Names inside string literals
 * and key lookups after a dot (`x.from`) are left alone.
 */
export function renameInExpression(expr: string, from: string, to: string): string {
  let out = "";
  let i = 0;
  let previous = ""; // the last non-space character outside a string
  while (i < expr.length) {
    const ch = expr[i];
    if (ch === "'" || ch === '"') {
      const end = stringEnd(expr, i);
      out += expr.slice(i, end);
      previous = ch;
      i = end;
    } else if (IDENT_START.test(ch)) {
      let end = i + 1;
      while (end < expr.length && IDENT_PART.test(expr[end])) end++;
      const name = expr.slice(i, end);
      out += name === from && previous !== "." ? to : name;
      previous = "a";
      i = end;
    } else if (/[0-9]/.test(ch)) {
      // a number such as 1e5 or 0x1f: its letters are not names
      let end = i + 1;
      while (end < expr.length && /[0-9A-Za-z_.]/.test(expr[end])) end++;
      out += expr.slice(i, end);
      previous = "0";
      i = end;
    } else {
      out += ch;
      if (!/\s/.test(ch)) previous = ch;
      i++;
    }
  }
  return out;
}

/** Index just past the string literal starting at `start` (an unclosed one runs to the end). */
function stringEnd(text: string, start: number): number {
  const quote = text[start];
  const triple = text.startsWith(quote.repeat(3), start);
  const close = triple ? quote.repeat(3) : quote;
  let i = start + close.length;
  while (i < text.length) {
    if (text[i] === "\\") i += 2;
    else if (text.startsWith(close, i)) return i + close.length;
    else i++;
  }
  return text.length;
}

/** A template string with the name rewritten inside each `{{ }}` (literal text untouched). */
export function renameInTemplate(text: string, from: string, to: string): string {
  if (!text.includes(from)) return text;
  return text.replace(/\{\{([\s\S]*?)\}\}/g, (_, inner: string) => `{{${renameInExpression(inner, from, to)}}}`);
}

/** Config paths of plain expressions as the registry declares them (`cases[].expression`). */
function splitPath(path: string): string[] {
  return path.split(".").flatMap((part) => (part.endsWith("[]") ? [part.slice(0, -2), "[]"].filter(Boolean) : [part]));
}

/**
 * A node's config with references to `from` renamed to `to`: fields at `expressionPaths`
 * are plain expressions; every other string is a template. Unchanged parts keep their identity.
 */
export function renameInConfig<T>(config: T, from: string, to: string, expressionPaths: readonly string[] = []): T {
  const paths = expressionPaths.map(splitPath);
  const walk = (value: unknown, at: string[]): unknown => {
    if (typeof value === "string") {
      const plain = paths.some((p) => p.length === at.length && p.every((part, k) => part === at[k]));
      return plain ? renameInExpression(value, from, to) : renameInTemplate(value, from, to);
    }
    if (Array.isArray(value)) {
      const next = value.map((item) => walk(item, [...at, "[]"]));
      return next.every((item, k) => item === value[k]) ? value : next;
    }
    if (value && typeof value === "object") {
      let changed = false;
      const next: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        next[key] = walk(item, [...at, key]);
        changed ||= next[key] !== item;
      }
      return changed ? next : value;
    }
    return value;
  };
  return walk(config, []) as T;
}
