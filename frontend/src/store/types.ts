/**
 * The store's public shape: four slices, each its State and Actions, composed into one store by
 * `createCanvasStore()`. Components select from the whole (`useCanvas(selector)`).
 */
import type { Connection, EdgeChange, NodeChange } from "@xyflow/react";
import type { StateCreator } from "zustand/vanilla";
import type { ApprovalAction, ApprovalFlowState } from "../lib/approvalFlow";
import type { CanvasEdge, CanvasNode, DocumentMeta } from "../lib/flow";
import type { History } from "../lib/history";
import type { RunViewState } from "../lib/runEvents";
import type { StickyNote } from "../lib/document.generated";
import type { NodeTypeInfo, Position, Problem, RunEvent, RunReport, SavedWorkflow, WorkflowDocument, WorkflowNode } from "../lib/types";

export interface Snapshot {
  meta: DocumentMeta;
  nodes: CanvasNode[];
  edges: CanvasEdge[];
}

/** Where the "+" of an output handle opened the node-type picker (page pixels). */
export interface PickerAt {
  node: string;
  handle: string;
  x: number;
  y: number;
}

export interface Notice {
  kind: "error" | "info";
  text: string;
}

/* ---- document: the workflow being edited, its undo history, the node types ------------------ */

export interface DocumentState extends Snapshot {
  workflowId: number | null;
  revision: number;
  nodeTypes: Record<string, NodeTypeInfo>;
  problems: Problem[];
  dirty: boolean;
  history: History<Snapshot>;
  lastEditKey: string | null;
  clipboard: { nodes: CanvasNode[]; edges: CanvasEdge[] } | null;
  notice: Notice | null;
  /** The node-type picker a "+" on an output handle opened, else null. */
  picker: PickerAt | null;
}

export interface DocumentActions {
  load(workflow: SavedWorkflow, layout?: boolean): void;
  setNodeTypes(types: NodeTypeInfo[]): void;
  onNodesChange(changes: NodeChange<CanvasNode>[]): void;
  onEdgesChange(changes: EdgeChange<CanvasEdge>[]): void;
  beginDrag(): void;
  /** After a drag: body nodes dropped outside their container leave it, others dropped on one join it. */
  dropNodes(ids: string[]): void;
  connect(connection: Connection): boolean;
  addNode(type: string, position: Position): string;
  /** Open (or close: null) the node-type picker of an output handle's "+". */
  openPicker(at: PickerAt | null): void;
  /** Add a node of `type` to the right of `source`, connected from its `handle`: one undo step. */
  addConnectedNode(type: string, source: string, handle: string): string;
  /** Replace the sticky notes; edits with the same `editKey` in a row are one undo step. */
  setNotes(notes: StickyNote[], editKey?: string): void;
  updateNode(id: string, patch: Partial<WorkflowNode>, editKey?: string): void;
  renameNode(id: string, newId: string): string | null;
  updateMeta(patch: Partial<DocumentMeta>): void;
  selectNode(id: string | null): void;
  deleteSelected(): void;
  copySelection(): void;
  paste(): void;
  undo(): void;
  redo(): void;
  layout(): void;
  document(): WorkflowDocument;
  markSaved(saved: SavedWorkflow): void;
  /** A pin changed on the server (a new revision): the node shows it; no undo step, no edit. */
  applyPin(nodeId: string, pinned: WorkflowNode["pinned"] | null, revision: number): void;
  setProblems(problems: Problem[]): void;
  notify(notice: Notice | null): void;
  isContainer(type: string | undefined): boolean;
}

/* ---- runView: the shown run's live state and what the user inspects in it ------------------- */

export interface RunViewSliceState {
  run: RunViewState | null;
  /** The shown run's latest fetched report (full values, every attempt; lags the live events). */
  runReport: RunReport | null;
  inspecting: string | null;
  /** Per container: the iteration path its body nodes show in the run view (else the latest). */
  iterationPicks: Record<string, string>;
}

export interface RunViewActions {
  startRunView(runId: number): void;
  applyEvents(events: RunEvent[]): void;
  /** The shown run's report, as fetched. */
  setRunReport(report: RunReport | null): void;
  closeRunView(): void;
  inspect(nodeId: string | null): void;
  pickIteration(container: string, path: string | null): void;
}

/* ---- replay: a past moment of the shown run (the scrubber) --------------------------------- */

export interface ReplayState {
  /** The moment shown (`seq` of `last`, the run's last event), or null: the live state. */
  replay: { seq: number; last: number } | null;
  /** While a moment is shown: the live state (new events go here). */
  liveRun: RunViewState | null;
}

export interface ReplayActions {
  /** Show the run as it was after event `moment.lastSeq` (a state from `lib/replay`). */
  showReplay(moment: RunViewState, last: number): void;
  /** Back to the live state. */
  exitReplay(): void;
}

/* ---- approvals: decisions on the approvals the shown run waits for --------------------------- */

/** The approval flow's state (`lib/approvalFlow.ts`): the dialog, what was decided, what was seen. */
export type ApprovalsState = ApprovalFlowState;

export interface ApprovalsActions {
  /** One step of the approval flow (`approvalFlow`); a decision the server took also says so in the notice. */
  dispatchApproval(action: ApprovalAction): void;
  /** Open (a node id; `offer`: the iteration to offer first) or close (null) the approval dialog. */
  requestApproval(nodeId: string | null, offer?: string | null): void;
  /** Note an approval (`approvalKey`) as decided, before the events say so. */
  markApprovalDecided(key: string, approved: boolean): void;
}

/* ---- access: who owns the workflow, and whether it can be changed here ---------------------- */

export interface AccessState {
  /** Who owns the loaded workflow (null: the server did not say). */
  owner: string | null;
  /**
   * Why the workflow cannot be changed here (shared with the current user by its owner), else
   * null: every edit is refused, with this as the notice. Runs, inspection and approvals work.
   */
  readOnly: string | null;
}

export interface AccessActions {
  /** Make the editor read-only (the reason) or editable again (null). */
  setReadOnly(reason: string | null): void;
  /** True (and the reason shown unless `quiet`) when the workflow is read-only here: the edit is refused. */
  refusedEdit(quiet?: boolean): boolean;
}

export type CanvasState = DocumentState & RunViewSliceState & ApprovalsState & AccessState & ReplayState;
export type CanvasActions = DocumentActions & RunViewActions & ApprovalsActions & AccessActions & ReplayActions;
export type CanvasStore = CanvasState & CanvasActions;

/** One slice of the store: it reads and writes the whole store (a run's growth adds nodes). */
export type SliceCreator<Slice> = StateCreator<CanvasStore, [], [], Slice>;
