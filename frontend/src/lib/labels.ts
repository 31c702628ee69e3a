/** Human labels for what the document spells for machines: config keys ("timeout_s" →
 * "Timeout (seconds)", "url" → "URL") and join rules ("none_failed_min_one_success" → words). */

const ACRONYMS: Record<string, string> = {
  url: "URL",
  http: "HTTP",
  https: "HTTPS",
  json: "JSON",
  id: "ID",
  ids: "IDs",
  ttl: "TTL",
  api: "API",
  llm: "LLM",
  cron: "Cron",
};
const UNITS: Record<string, string> = { s: "seconds", ms: "milliseconds", min: "minutes" };

/** A config key as a label: words, acronyms in capitals, a unit suffix in brackets. */
export function humanLabel(key: string): string {
  const words = key.split(/[_\s]+/).filter(Boolean);
  if (!words.length) return key;
  const last = words[words.length - 1].toLowerCase();
  const unit = words.length > 1 ? UNITS[last] : undefined;
  const shown = (unit ? words.slice(0, -1) : words).map((word, i) => {
    const acronym = ACRONYMS[word.toLowerCase()];
    if (acronym) return acronym;
    return i === 0 ? word.charAt(0).toUpperCase() + word.slice(1) : word;
  });
  if (words.length > 1 && last === "per" && shown.length) return shown.join(" ");
  return unit ? `${shown.join(" ")} (${unit})` : shown.join(" ");
}

/** What each join rule means, in words (engine/planner.py's rules). */
export const JOIN_LABELS: Record<string, string> = {
  none_failed_min_one_success: "None failed, at least one succeeded (default)",
  all_success: "All succeeded",
  one_success: "At least one succeeded",
  all_done: "All finished, whatever the outcome",
  none_failed: "None failed (skipped is fine)",
  one_failed: "At least one failed",
  all_failed: "All failed",
};

export function joinLabel(rule: string): string {
  return JOIN_LABELS[rule] ?? humanLabel(rule);
}
