/** The thin strip beside a side panel that hides or shows it (kept across reloads by the editor). */
export function PanelToggle({
  side,
  collapsed,
  name,
  testId,
  onToggle,
}: {
  side: "left" | "right";
  collapsed: boolean;
  name: string;
  testId: string;
  onToggle(): void;
}) {
  // the arrow points where the panel goes
  const towardsLeft = (side === "left") !== collapsed;
  return (
    <button
      className={`panel-rail panel-rail-${side}`}
      data-testid={testId}
      aria-expanded={!collapsed}
      aria-label={`${collapsed ? "Show" : "Hide"} the ${name}`}
      title={`${collapsed ? "Show" : "Hide"} the ${name}`}
      onClick={onToggle}
    >
      {towardsLeft ? "‹" : "›"}
    </button>
  );
}
