/** Expression preview (issue 17): what `POST /api/workflows/{id}/preview/` answered, as one line. */

export interface PreviewAnswer {
  run: number | null;
  value?: unknown;
  text?: string;
  truncated?: boolean;
  error?: string;
}

/** Whether a field's text is worth previewing: a bare expression, or text with a `{{ }}`. */
export function wantsPreview(text: string, bare: boolean): boolean {
  return bare ? text.trim().length > 0 : /\{\{[\s\S]*?\}\}/.test(text);
}

/** `= 42 (last run #7)`, `⚠ unknown name nothing (last run #7)`, or the same without a run. */
export function previewLine(answer: PreviewAnswer, maxChars = 160): { text: string; error: boolean } {
  const where = answer.run === null ? " (no run yet)" : ` (last run #${answer.run})`;
  if (answer.error !== undefined) return { text: `⚠ ${answer.error}${where}`, error: true };
  const shown = answer.text ?? JSON.stringify(answer.value);
  const cut = shown.length > maxChars ? `${shown.slice(0, maxChars - 1)}…` : shown;
  return { text: `= ${cut}${where}`, error: false };
}
