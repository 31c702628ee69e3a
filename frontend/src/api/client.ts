/** The one module that talks HTTP: a typed function per SPEC §6 endpoint. */
import type { NodeTypeInfo, Problem, RunEvent, RunReport, SavedWorkflow, Sharing, WorkflowDocument, WorkflowSummary } from "../lib/types";
import type { RunTimeline } from "../lib/timeline";
import type { PreviewAnswer } from "../lib/preview";
import type { RunDiff } from "../lib/runDiff";
import type { SecretSummary } from "../lib/secrets";
import type { ListenState } from "../lib/listen";
import type { VersionDiff, VersionPage } from "../lib/versions";
import type { NodeTestAnswer, PinAnswer } from "../lib/pins";
import type { RunPage } from "../lib/runList";
import { takeEarly } from "./early";

export class ApiError extends Error {
  readonly status: number;
  readonly errors: Problem[];
  readonly body: Record<string, unknown>;

  constructor(status: number, body: Record<string, unknown>) {
    const errors = Array.isArray(body.errors) ? (body.errors as Problem[]) : [];
    super(errors.map((e) => e.message).join("; ") || String(body.detail ?? `request failed (${status})`));
    this.status = status;
    this.errors = errors;
    this.body = body;
  }
}

function csrfToken(): string {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

async function request<T>(method: string, path: string, body?: unknown, raw?: BodyInit): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const early = method === "GET" && typeof window !== "undefined" ? takeEarly(path, window.__switchyardEarly, performance.now()) : null;
  const response = await (early ??
    fetch(`/api/${path}`, {
      method,
      headers,
      credentials: "same-origin",
      body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    }));
  if (response.status === 401 || (response.status === 403 && (await isLoggedOut(response)))) {
    window.location.assign(`/accounts/login/?next=${encodeURIComponent(window.location.pathname)}`);
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const data = text ? safeJson(text) : {};
  if (!response.ok) throw new ApiError(response.status, data as Record<string, unknown>);
  return data as T;
}

async function isLoggedOut(response: Response): Promise<boolean> {
  const text = await response.clone().text();
  return /credentials were not provided|not_authenticated/i.test(text);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { errors: [{ code: "bad_response", message: text.slice(0, 200) }] };
  }
}

/** DRF list endpoints may be paginated ({results}) or plain arrays. */
function items<T>(data: T[] | { results?: T[]; events?: T[] }): T[] {
  if (Array.isArray(data)) return data;
  return data.results ?? data.events ?? [];
}

export const api = {
  listWorkflows: async () => items(await request<WorkflowSummary[]>("GET", "workflows/")),
  createWorkflow: (doc: WorkflowDocument) => request<SavedWorkflow>("POST", "workflows/", doc),
  getWorkflow: (id: number) => request<SavedWorkflow>("GET", `workflows/${id}/`),
  saveWorkflow: (id: number, doc: WorkflowDocument, revision: number) =>
    request<SavedWorkflow>("PUT", `workflows/${id}/`, { ...doc, revision }),
  patchWorkflow: (id: number, patch: Partial<WorkflowDocument>) => request<SavedWorkflow>("PATCH", `workflows/${id}/`, patch),
  deleteWorkflow: (id: number) => request<void>("DELETE", `workflows/${id}/`),
  /** Turn a workflow's triggers on or off (400 with its errors when it is invalid). */
  setActive: (id: number, active: boolean) => request<SavedWorkflow>("POST", `workflows/${id}/${active ? "activate" : "deactivate"}/`, {}),
  /** A webhook node's one-shot test listener: start (or restart), read, cancel. */
  listen: (id: number, node: string, method: "POST" | "GET" | "DELETE") =>
    request<ListenState>(method, `workflows/${id}/nodes/${encodeURIComponent(node)}/listen/`),
  validateWorkflow: (id: number, doc?: WorkflowDocument) =>
    request<{ valid: boolean; errors: Problem[] }>("POST", `workflows/${id}/validate/`, doc ?? {}),
  exportUrl: (id: number, format: "json" | "yaml") => `/api/workflows/${id}/export/?format=${format}`,
  importWorkflow: (file: File) => {
    const form = new FormData();
    form.append("file", file);
    return request<SavedWorkflow>("POST", "workflows/import/", undefined, form);
  },
  /** A run started from the canvas: it records trigger `manual` (SPEC §8). */
  startRun: (id: number, inputs: Record<string, unknown>, mode = "normal") =>
    request<RunReport>("POST", `workflows/${id}/runs/`, { inputs, mode, trigger: "manual" }),
  listRuns: async (workflowId: number) => items(await request<RunReport[]>("GET", `runs/?workflow=${workflowId}`)),
  /** Runs of every workflow the user may see, newest first, a page at a time. */
  runPage: (params: { status?: string; trigger?: string; page?: number }) => {
    const query = new URLSearchParams({ page: String(params.page ?? 1), page_size: "50" });
    if (params.status) query.set("status", params.status);
    if (params.trigger) query.set("trigger", params.trigger);
    return request<RunPage>("GET", `runs/?${query}`);
  },
  getRun: (runId: number) => request<RunReport>("GET", `runs/${runId}/`),
  runEvents: async (runId: number, after = 0) => items(await request<RunEvent[]>("GET", `runs/${runId}/events/?after=${after}`)),
  /** At most `limit` (≤ 1000) stored events after `after`: one window of a replay. */
  runEventsWindow: async (runId: number, after: number, limit: number) =>
    items(await request<RunEvent[]>("GET", `runs/${runId}/events/?after=${after}&limit=${limit}`)),
  /** Two runs of one workflow compared (SPEC §8); `node`: that node alone, its output diff in full. */
  runDiff: (a: number, b: number, node?: string) =>
    request<RunDiff>("GET", `runs/${a}/diff/${b}/${node ? `?node=${encodeURIComponent(node)}` : ""}`),
  /** A template (or a bare expression) rendered for `node` with the workflow's last run's data. */
  previewExpression: (workflowId: number, template: string, node: string | null, bare: boolean) =>
    request<PreviewAnswer>("POST", `workflows/${workflowId}/preview/`, node ? { template, node, bare } : { template, bare }),
  /** Pin a node's output in a run (or given JSON) into the saved workflow: manual runs use it. */
  pinNode: (id: number, node: string, pin: { run: number } | { output: unknown; handles?: string[] }) =>
    request<PinAnswer>("POST", `workflows/${id}/nodes/${encodeURIComponent(node)}/pin/`, pin),
  unpinNode: (id: number, node: string) => request<PinAnswer>("DELETE", `workflows/${id}/nodes/${encodeURIComponent(node)}/pin/`),
  /** Run one node of the saved workflow alone, with the last run's (or pinned) upstream data. */
  testNode: (id: number, node: string) => request<NodeTestAnswer>("POST", `workflows/${id}/nodes/${encodeURIComponent(node)}/test/`, {}),
  cancelRun: (runId: number) => request<RunReport>("POST", `runs/${runId}/cancel/`, {}),
  resumeRun: (runId: number) => request<RunReport>("POST", `runs/${runId}/resume/`, {}),
  /** Pause on demand (SPEC §8): running nodes finish, nothing new starts, the run parks `paused`. */
  pauseRun: (runId: number) => request<RunReport>("POST", `runs/${runId}/pause/`, {}),
  /** `iteration` names the loop/map iteration of a body node (`M[2]`, `M[2]/L[1]`); sent only when given. */
  approve: (runId: number, node: string, approved: boolean, data: unknown = null, iteration?: string | null) =>
    request<RunReport>("POST", `runs/${runId}/nodes/${node}/approve/`, iteration ? { approved, data, iteration } : { approved, data }),
  retryNode: (runId: number, node: string) => request<unknown>("POST", `runs/${runId}/nodes/${node}/retry/`, {}),
  rerun: (runId: number, fromNode?: string) => request<RunReport>("POST", `runs/${runId}/rerun/`, fromNode ? { from_node: fromNode } : {}),
  timeline: (runId: number) => request<RunTimeline>("GET", `runs/${runId}/timeline/`),
  nodeTypes: () => request<NodeTypeInfo[]>("GET", "node-types/"),
  me: () => request<{ username: string }>("GET", "me/"),
  /** The signed-in user's secrets: names and dates, each value `••••` (write-only). */
  listSecrets: () => request<{ secrets: SecretSummary[] }>("GET", "secrets/"),
  /** Create (201) or replace (200) a secret; 400 `bad_secret` names the field that is wrong. */
  putSecret: (name: string, value: string) => request<SecretSummary>("POST", "secrets/", { name, value }),
  deleteSecret: (name: string) => request<void>("DELETE", `secrets/${encodeURIComponent(name)}/`),
  /** The workflow's kept revisions, newest first (paginated). */
  listVersions: (id: number, page = 1) => request<VersionPage>("GET", `workflows/${id}/versions/?page=${page}`),
  /** What changed from kept revision `revision` to the current document, node by node. */
  versionDiff: (id: number, revision: number) => request<VersionDiff>("GET", `workflows/${id}/versions/${revision}/diff/`),
  /** Save kept revision `revision` as a new revision; `current`: the revision edited (409 when stale). */
  restoreVersion: (id: number, revision: number, current: number) =>
    request<SavedWorkflow>("POST", `workflows/${id}/versions/${revision}/restore/`, { revision: current }),
  getSharing: (id: number) => request<Sharing>("GET", `workflows/${id}/sharing/`),
  /** The whole list (owner only): 400 `unknown_user` per name not found, and nothing changes. */
  setSharing: (id: number, sharedWith: string[]) => request<Sharing>("PUT", `workflows/${id}/sharing/`, { shared_with: sharedWith }),
};

export type Api = typeof api;
