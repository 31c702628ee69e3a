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

/** At most `shown` lines, the last ones (a node that logged thousands of lines draws a page of them). */
export function lastLines(groups: LogGroup[], shown: number): { groups: LogGroup[]; hidden: number } {
  const total = groups.reduce((n, g) => n + g.lines.length, 0);
  let skip = Math.max(0, total - shown);
  const hidden = skip;
  const kept: LogGroup[] = [];
  for (const group of groups) {
    if (skip >= group.lines.length) {
      skip -= group.lines.length;
      continue;
    }
    kept.push(skip ? { attempt: group.attempt, lines: group.lines.slice(skip) } : group);
    skip = 0;
  }
  return { groups: kept, hidden };
}
