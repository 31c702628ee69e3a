/** Stored secrets (SPEC §8): the pure parts of the Secrets screen. A value is write-only: the
 * API answers `••••` for it and nothing here keeps or shows a typed value after it is sent. */

export interface SecretSummary {
  name: string;
  value: string;
  created_at: string;
  updated_at: string;
}

/** The one way a stored value is shown. */
export const MASK = "••••";

/** The list sorted by name, each value masked whatever the server sent. */
export function maskedSecrets(secrets: SecretSummary[]): SecretSummary[] {
  return [...secrets].map((s) => ({ ...s, value: MASK })).sort((a, b) => a.name.localeCompare(b.name));
}

/** `2026-12-06 14:05` (UTC) from an ISO timestamp; the raw text when it does not parse. */
export function secretDate(iso: string): string {
  const time = Date.parse(iso);
  if (Number.isNaN(time)) return iso;
  return new Date(time).toISOString().slice(0, 16).replace("T", " ");
}

/** An API error's text with any occurrence of the value just typed removed (an error never
 * echoes a value back on the page). */
export function safeErrorText(message: string, value: string): string {
  return value ? message.split(value).join(MASK) : message;
}
