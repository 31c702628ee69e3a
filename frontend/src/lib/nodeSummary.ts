/** A node's config in one short line, shown under its name on the canvas ("3 s", "score > 5",
 * "GET api.x.com"): what it does, readable without opening its settings. */

type Config = Record<string, unknown>;

const MAX = 40;

/** The one-line summary of a node of `type` with `config` ("" when there is nothing to say). */
export function nodeSummary(type: string | undefined, config: Config | undefined): string {
  const summarise = SUMMARIES[type ?? ""];
  const text = summarise ? summarise(config ?? {}) : "";
  return text.length > MAX ? `${text.slice(0, MAX - 1)}…` : text;
}

const SUMMARIES: Record<string, (config: Config) => string> = {
  delay: (c) => (c.seconds === undefined || c.seconds === "" ? "" : `${seconds(c.seconds)}`),
  condition: (c) => bare(c.expression),
  error: (c) => (c.when ? `when ${bare(c.when)}` : text(c.message)),
  http: (c) => [text(c.method ?? "GET"), host(c.url)].filter(Boolean).join(" "),
  router: (c) => {
    const cases = Array.isArray(c.cases) ? c.cases : [];
    return cases.length ? `${cases.length} route${cases.length > 1 ? "s" : ""} + ${text(c.default ?? "other")}` : "";
  },
  transform: (c) => value(c.output),
  output: (c) => value(c.value),
  merge: (c) => text(c.mode ?? "object"),
  approval: (c) => (c.prompt ? text(c.prompt) : c.timeout_s ? `decides by itself after ${seconds(c.timeout_s)}` : ""),
  subworkflow: (c) => (c.workflow === undefined || c.workflow === "" ? "" : `workflow ${text(c.workflow)}`),
  fan_out: (c) => items(c.items),
  map: (c) => items(c.items),
  loop: (c) => {
    const mode = text(c.mode ?? "count");
    if (mode === "count") return c.count === undefined ? "" : `${text(c.count)} times`;
    if (mode === "for_each") return items(c.items);
    return c.condition ? `${mode.replace("_", " ")} ${bare(c.condition)}` : mode.replace("_", " ");
  },
};

/** "3 s", "1.5 s", "2 min", "1 h 30 min"; an expression as it is. */
function seconds(raw: unknown): string {
  const n = typeof raw === "number" ? raw : Number(raw);
  if (typeof raw !== "number" && (typeof raw !== "string" || raw.trim() === "" || Number.isNaN(n))) return bare(raw);
  if (n < 60) return `${n} s`;
  if (n < 3600) return n % 60 ? `${Math.floor(n / 60)} min ${n % 60} s` : `${n / 60} min`;
  const minutes = Math.round((n % 3600) / 60);
  return minutes ? `${Math.floor(n / 3600)} h ${minutes} min` : `${n / 3600} h`;
}

/** An expression without its `{{ }}`. */
function bare(raw: unknown): string {
  return text(raw)
    .replace(/^\s*\{\{\s*([\s\S]*?)\s*\}\}\s*$/, "$1")
    .trim();
}

function text(raw: unknown): string {
  if (raw === undefined || raw === null) return "";
  return (typeof raw === "string" ? raw : JSON.stringify(raw)).replace(/\s+/g, " ").trim();
}

/** A URL's host (and path when short), or the expression it is made of. */
function host(raw: unknown): string {
  const url = text(raw);
  const match = /^[a-z]+:\/\/([^/?#]+)([^?#]*)/i.exec(url);
  if (!match) return bare(url);
  const path = match[2] && match[2] !== "/" && match[1].length + match[2].length <= 30 ? match[2] : "";
  return match[1] + path;
}

function value(raw: unknown): string {
  return typeof raw === "string" ? bare(raw) : text(raw);
}

function items(raw: unknown): string {
  if (Array.isArray(raw)) return `${raw.length} item${raw.length === 1 ? "" : "s"}`;
  return raw ? `each of ${bare(raw)}` : "";
}
