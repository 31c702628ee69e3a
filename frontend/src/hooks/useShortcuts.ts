/** Editor keyboard shortcuts (see the shortcuts help). Typing in a field keeps its own keys. */
import { useEffect, useLayoutEffect, useRef } from "react";

export type ShortcutHandlers = Partial<Record<"save" | "undo" | "redo" | "copy" | "paste" | "layout" | "fit" | "run" | "help", () => void>>;

export function shortcutFor(
  e: Pick<KeyboardEvent, "key" | "ctrlKey" | "metaKey" | "shiftKey">,
  typing: boolean,
): keyof ShortcutHandlers | null {
  const mod = e.ctrlKey || e.metaKey;
  const key = e.key.toLowerCase();
  if (mod && key === "s") return "save";
  if (mod && key === "enter") return "run";
  if (typing) return null;
  if (mod && key === "z") return e.shiftKey ? "redo" : "undo";
  if (mod && key === "y") return "redo";
  if (mod && key === "c") return "copy";
  if (mod && key === "v") return "paste";
  if (!mod && e.shiftKey && key === "l") return "layout";
  if (!mod && e.shiftKey && key === "f") return "fit";
  if (!mod && e.key === "?") return "help";
  return null;
}

export function useShortcuts(handlers: ShortcutHandlers) {
  const latest = useRef(handlers);
  useLayoutEffect(() => {
    latest.current = handlers;
  });
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement;
      const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName) || target.isContentEditable;
      const action = shortcutFor(e, typing);
      const handler = action ? latest.current[action] : undefined;
      if (!handler) return;
      e.preventDefault();
      handler();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
}
