/** Sticky notes on the canvas: plain text the workflow keeps (document `notes`), never run.
 * Drawn in React Flow's viewport (they pan and zoom with the graph, behind the nodes); moved by
 * their bar, resized by their corner, edited in place. */
import { ViewportPortal, useReactFlow, useStore } from "@xyflow/react";
import { memo, useCallback, useState, type PointerEvent as ReactPointerEvent } from "react";
import type { StickyNote } from "../lib/document.generated";
import { NOTE_DEFAULT_SIZE, clampNoteSize, nextNoteId } from "../lib/notes";
import { useCanvas, useCanvasApi } from "../store/context";

const NO_NOTES: StickyNote[] = [];

/** Add an empty note near the top-left corner of the view (the canvas's "add note" control). */
export function useAddNote(): () => void {
  const store = useCanvasApi();
  const flow = useReactFlow();
  return useCallback(() => {
    // near the top-left corner of the view: a fitted graph sits in the middle
    const box = document.querySelector(".canvas")?.getBoundingClientRect();
    const corner = flow.screenToFlowPosition(box ? { x: box.left + 70, y: box.top + 60 } : { x: 100, y: 100 });
    const current = store.getState().meta.notes ?? [];
    const shift = (current.length % 5) * 24; // each new note a little lower and to the right
    const position = { x: Math.round(corner.x + shift), y: Math.round(corner.y + shift) };
    store.getState().setNotes([...current, { id: nextNoteId(current), text: "", position, size: { ...NOTE_DEFAULT_SIZE } }]);
  }, [flow, store]);
}

export const StickyNotes = memo(function StickyNotes({ editable }: { editable: boolean }) {
  const notes = useCanvas((s) => s.meta.notes ?? NO_NOTES);
  return (
    <ViewportPortal>
      {notes.map((note) => (
        <Note key={note.id} note={note} editable={editable} />
      ))}
    </ViewportPortal>
  );
});

type Gesture = { kind: "move" | "resize"; startX: number; startY: number; dx: number; dy: number };

const Note = memo(function Note({ note, editable }: { note: StickyNote; editable: boolean }) {
  const store = useCanvasApi();
  const zoom = useStore((s) => s.transform[2]);
  const [gesture, setGesture] = useState<Gesture | null>(null);
  const change = (patch: Partial<StickyNote> | null, editKey?: string) => {
    const notes = store.getState().meta.notes ?? [];
    const next = patch === null ? notes.filter((n) => n.id !== note.id) : notes.map((n) => (n.id === note.id ? { ...n, ...patch } : n));
    store.getState().setNotes(next, editKey);
  };
  const size = note.size ?? NOTE_DEFAULT_SIZE;
  const begin = (kind: Gesture["kind"]) => (event: ReactPointerEvent) => {
    if (!editable || event.button !== 0) return;
    event.stopPropagation();
    (event.currentTarget as HTMLElement).setPointerCapture(event.pointerId);
    setGesture({ kind, startX: event.clientX, startY: event.clientY, dx: 0, dy: 0 });
  };
  const move = (event: ReactPointerEvent) => {
    if (!gesture) return;
    setGesture({ ...gesture, dx: (event.clientX - gesture.startX) / zoom, dy: (event.clientY - gesture.startY) / zoom });
  };
  const end = () => {
    if (!gesture) return;
    setGesture(null);
    if (Math.abs(gesture.dx) < 1 && Math.abs(gesture.dy) < 1) return;
    if (gesture.kind === "move")
      change({ position: { x: Math.round(note.position.x + gesture.dx), y: Math.round(note.position.y + gesture.dy) } });
    else change({ size: clampNoteSize({ width: size.width + gesture.dx, height: size.height + gesture.dy }) });
  };
  const moving = gesture?.kind === "move" ? gesture : null;
  const resizing = gesture?.kind === "resize" ? clampNoteSize({ width: size.width + gesture.dx, height: size.height + gesture.dy }) : null;
  const shown = resizing ?? size;
  return (
    <div
      className="sticky-note nodrag nopan nowheel"
      data-testid="sticky-note"
      data-note-id={note.id}
      style={{
        transform: `translate(${note.position.x + (moving?.dx ?? 0)}px, ${note.position.y + (moving?.dy ?? 0)}px)`,
        width: shown.width,
        height: shown.height,
      }}
    >
      <div
        className="sticky-note-bar"
        data-testid="note-bar"
        title={editable ? "Drag to move" : undefined}
        onPointerDown={begin("move")}
        onPointerMove={move}
        onPointerUp={end}
        onPointerCancel={() => setGesture(null)}
      >
        <span>Note</span>
        {editable && (
          <button
            className="icon-button"
            data-testid="note-delete"
            title="Delete the note"
            onPointerDown={(e) => e.stopPropagation()}
            onClick={() => change(null)}
          >
            ✕
          </button>
        )}
      </div>
      <textarea
        className="sticky-note-text"
        data-testid="note-text"
        aria-label="Note text"
        value={note.text ?? ""}
        readOnly={!editable}
        maxLength={5000}
        placeholder={editable ? "Write a note…" : ""}
        onChange={(e) => change({ text: e.target.value }, `text:${note.id}`)}
      />
      {editable && (
        <div
          className="sticky-note-resize"
          data-testid="note-resize"
          title="Drag to resize"
          onPointerDown={begin("resize")}
          onPointerMove={move}
          onPointerUp={end}
          onPointerCancel={() => setGesture(null)}
        />
      )}
    </div>
  );
});
