/**
 * The reads the opening page needs, started by index.html's inline script while the bundle is
 * still loading (the editor's document, the node types and who is logged in): the first
 * `request` for each takes its answer instead of asking again. Each is taken once, and only
 * soon after the page opened, so nothing stale is ever served from here.
 */

/** What index.html leaves on `window`: the started fetch for each API path it read early. */
export type EarlyReads = Record<string, Promise<Response> | undefined>;

declare global {
  interface Window {
    __switchyardEarly?: EarlyReads;
  }
}

/** Early answers older than this (from the page's start) are not used. */
export const EARLY_FOR_MS = 10_000;

/** The early read of `path` (as `request` names it: "workflows/3/"), once; else null. */
export function takeEarly(path: string, early: EarlyReads | undefined, now: number): Promise<Response> | null {
  const started = early?.[path];
  if (!early || !started) return null;
  delete early[path];
  return now <= EARLY_FOR_MS ? started : null;
}

/** The API paths index.html reads early for a page at `pathname` (kept in step with it by a test). */
export function earlyPaths(pathname: string): string[] {
  const editor = /^\/workflows\/(\d+)\//.exec(pathname);
  return editor ? ["me/", "node-types/", `workflows/${editor[1]}/`] : [];
}
