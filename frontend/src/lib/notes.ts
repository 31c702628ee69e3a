/** Sticky notes (document `notes`): ids, default and bounded sizes (engine/limits.py's). */
import type { NoteSize, StickyNote } from "./document.generated";

export const NOTE_DEFAULT_SIZE: NoteSize = { width: 220, height: 140 };
export const NOTE_MIN = { width: 40, height: 30 };
export const NOTE_MAX = 4000;
export const MAX_NOTES = 200;

/** `note_1`, `note_2`, …: the first not taken. */
export function nextNoteId(notes: readonly StickyNote[]): string {
  const taken = new Set(notes.map((n) => n.id));
  let i = 1;
  while (taken.has(`note_${i}`)) i++;
  return `note_${i}`;
}

/** A size within the document's bounds, in whole pixels. */
export function clampNoteSize(size: NoteSize): NoteSize {
  const clamp = (value: number, min: number) => Math.round(Math.min(NOTE_MAX, Math.max(min, value)));
  return { width: clamp(size.width, NOTE_MIN.width), height: clamp(size.height, NOTE_MIN.height) };
}
