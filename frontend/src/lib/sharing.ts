/** The share dialog's logic: the names it holds, the PUT it sends, and what a 400 means per name. */
import type { Problem, Sharing } from "./types";

/** Usernames typed into one field: separated by commas or whitespace. */
export function parseNames(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((n) => n.trim())
    .filter(Boolean);
}

/**
 * `names` with the typed ones added (in order, each once). The owner is refused: a workflow is
 * always theirs (the server drops the owner's own name silently).
 */
export function addNames(names: readonly string[], text: string, owner: string | null): { names: string[]; refused: string[] } {
  const next = [...names];
  const refused: string[] = [];
  for (const name of parseNames(text)) {
    if (owner && name === owner) refused.push(name);
    else if (!next.includes(name)) next.push(name);
  }
  return { names: next, refused };
}

/** The body of `PUT /api/workflows/{id}/sharing/`: the whole list, each name once. */
export function sharingBody(names: readonly string[]): { shared_with: string[] } {
  return { shared_with: [...new Set(names.map((n) => n.trim()).filter(Boolean))] };
}

export interface SharingErrors {
  /** Per username the server does not know: its message. */
  perName: Record<string, string>;
  /** Messages that name no user (a 403 `read_only`, a malformed list, a server error). */
  other: string[];
}

const UNKNOWN_USER = /no user named (?:'(.*)'|"(.*)")\s*$/;

/**
 * A refused save's problems, by name: `unknown_user` ("shared_with: no user named 'zed'") goes
 * to the name it names; the rest stay general.
 */
export function sharingErrors(errors: readonly Problem[], fallback = "Sharing failed"): SharingErrors {
  const result: SharingErrors = { perName: {}, other: [] };
  for (const e of errors) {
    const match = e.code === "unknown_user" ? UNKNOWN_USER.exec(e.message) : null;
    const name = match ? (match[1] ?? match[2]) : null;
    if (name) result.perName[name] = `no user named ${name}`;
    else result.other.push(e.message);
  }
  if (!errors.length) result.other.push(fallback);
  return result;
}

export type SaveSharingResult = { ok: true; sharing: Sharing } | { ok: false; names: string[]; errors: SharingErrors };

/**
 * Save the list, with what is still typed in the field added to it. On a refusal the names
 * come back as sent (nothing typed is lost) with the errors mapped onto them.
 */
export async function saveSharing(
  put: (names: string[]) => Promise<Sharing>,
  names: readonly string[],
  typed: string,
  owner: string | null,
): Promise<SaveSharingResult> {
  const all = addNames(names, typed, owner).names;
  try {
    return { ok: true, sharing: await put(sharingBody(all).shared_with) };
  } catch (error) {
    const e = error as { errors?: Problem[]; message?: string };
    return { ok: false, names: all, errors: sharingErrors(e.errors ?? [], e.message || "Sharing failed") };
  }
}
