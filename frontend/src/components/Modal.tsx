import { useEffect, type ReactNode } from "react";

interface ModalProps {
  title: string;
  testId?: string;
  onClose: () => void;
  children: ReactNode;
  actions: ReactNode;
}

/** A dialog over the page; Escape or a click outside closes it. */
export function Modal({ title, testId, onClose, children, actions }: ModalProps) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && onClose();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className="modal" role="dialog" aria-modal="true" aria-label={title} data-testid={testId}>
        <h2>{title}</h2>
        <div className="modal-body">{children}</div>
        <div className="modal-actions">{actions}</div>
      </div>
    </div>
  );
}
