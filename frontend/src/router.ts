/** Stable addresses: `/` (list), `/secrets/` (stored secrets), `/runs/` (runs of every workflow), `/workflows/N/` (editor), `/workflows/N/runs/R/` (a run),
 * `/workflows/N/diff/A/B/` (two runs compared). */
import { useEffect, useState } from "react";

export type Route =
  | { page: "list" }
  | { page: "secrets" }
  | { page: "runs" }
  | { page: "editor"; workflowId: number; runId: number | null; diff?: { a: number; b: number } }
  | { page: "missing"; path: string };

export function parseRoute(path: string): Route {
  if (path === "/" || path === "") return { page: "list" };
  if (/^\/secrets\/?$/.test(path)) return { page: "secrets" };
  if (/^\/runs\/?$/.test(path)) return { page: "runs" };
  const diff = /^\/workflows\/(\d+)\/diff\/(\d+)\/(\d+)\/?$/.exec(path);
  if (diff) return { page: "editor", workflowId: Number(diff[1]), runId: null, diff: { a: Number(diff[2]), b: Number(diff[3]) } };
  const match = /^\/workflows\/(\d+)\/?(?:runs\/(\d+)\/?)?$/.exec(path);
  if (!match) return { page: "missing", path };
  return { page: "editor", workflowId: Number(match[1]), runId: match[2] ? Number(match[2]) : null };
}

export const paths = {
  list: () => "/",
  secrets: () => "/secrets/",
  runs: () => "/runs/",
  editor: (workflowId: number) => `/workflows/${workflowId}/`,
  run: (workflowId: number, runId: number) => `/workflows/${workflowId}/runs/${runId}/`,
  diff: (workflowId: number, a: number, b: number) => `/workflows/${workflowId}/diff/${a}/${b}/`,
};

const NAVIGATE = "switchyard:navigate";

export function navigate(path: string, replace = false): void {
  if (path === window.location.pathname) return;
  if (replace) window.history.replaceState(null, "", path);
  else window.history.pushState(null, "", path);
  window.dispatchEvent(new Event(NAVIGATE));
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.pathname));
  useEffect(() => {
    const update = () => setRoute(parseRoute(window.location.pathname));
    window.addEventListener("popstate", update);
    window.addEventListener(NAVIGATE, update);
    return () => {
      window.removeEventListener("popstate", update);
      window.removeEventListener(NAVIGATE, update);
    };
  }, []);
  return route;
}
