/** A node's log lines as the inspector shows them: per attempt, for the iteration picked. */
import type { LogLine } from "./runEvents";

export interface LogGroup {
  attempt: number | null;
  lines: LogLine[];
}

/**
 * The lines of one node (of `iteration` when given: a body node's picked iteration; else all of
 * them), in order, grouped into runs of the same attempt (attempt 1, attempt 2 after a retry…).
 */
export function logGroups(lines: readonly LogLine[] | undefined, iteration: string | null = null): LogGroup[] {
  const groups: LogGroup[] = [];
  for (const line of lines ?? []) {
    if (iteration !== null && line.iteration !== iteration) continue;
    const last = groups[groups.length - 1];
    if (last && last.attempt === line.attempt) last.lines.push(line);
    else groups.push({ attempt: line.attempt, lines: [line] });
  }
  return groups;
}

/** `10:00:01.250` of an ISO time (the log's own clock), "" without one. */
export function logClock(at: string | null): string {
  const match = at ? /T(\d\d:\d\d:\d\d(?:\.\d{1,3})?)/.exec(at) : null;
  return match ? match[1] : "";
}
