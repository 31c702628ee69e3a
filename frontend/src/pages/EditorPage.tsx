/** The editor of one workflow at `/workflows/N/`, and a run of it at `/workflows/N/runs/R/`. */
import { ReactFlowProvider, useReactFlow } from "@xyflow/react";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { api } from "../api/client";
import { ApprovalDialog } from "../components/ApprovalDialog";
import { Canvas } from "../components/Canvas";
import { RunDialog, ShortcutsHelp } from "../components/Dialogs";
import { MergeDialog } from "../components/MergeDialog";
import { Gantt } from "../components/Gantt";
import { InspectPanel } from "../components/InspectPanel";
import { NodeMenu, type NodeMenuAt } from "../components/NodeMenu";
import { RunLog } from "../components/NodeLog";
import { NodeSettings } from "../components/NodeSettings";
import { Palette } from "../components/Palette";
import { PanelToggle } from "../components/PanelToggle";
import { ProblemsList } from "../components/ProblemsList";
import { RunDiffPanel } from "../components/RunDiffPanel";
import { RunHistory } from "../components/RunHistory";
import { Scrubber } from "../components/Scrubber";
import { ShareDialog } from "../components/ShareDialog";
import { ParentRunLink } from "../components/RunLink";
import { StatusBar } from "../components/StatusBar";
import { Toolbar } from "../components/Toolbar";
import { VersionHistory } from "../components/VersionHistory";
import { NodePicker } from "../components/NodePicker";
import { WorkflowSettings } from "../components/WorkflowSettings";
import { useEditorActions, useLiveValidation, useUnsavedWarning } from "../hooks/useEditorActions";
import { useFitAll } from "../hooks/useFitAll";
import { useRemoteChanges } from "../hooks/useRemoteChanges";
import { useRunEvents } from "../hooks/useRunEvents";
import { useShortcuts } from "../hooks/useShortcuts";
import { useStoredFlag } from "../hooks/useStoredFlag";
import { approvalWaitKeys } from "../lib/approval";
import { needsLayout } from "../lib/flow";
import { readOnlyReason, workflowAccess } from "../lib/ownership";
import { isLargeGraph, type Viewport } from "../lib/viewport";
import { timelineSummary, type RunTimeline } from "../lib/timeline";
import { ReuseNote, RootCauses } from "../components/RootCauses";
import { TERMINAL_RUN_STATES, type RunReport } from "../lib/types";
import { CanvasProvider, useCanvas, useCanvasApi } from "../store/context";
import { approvalRunOf } from "../store/slices/approvals";
import { liveRunOf } from "../store/slices/replay";
import { triggerStore } from "../store/triggers";

interface Props {
  workflowId: number;
  runId: number | null;
  /** Two runs compared on the canvas (`/workflows/N/diff/A/B/`). */
  diff?: { a: number; b: number } | null;
}

export function EditorPage(props: Props) {
  return (
    <CanvasProvider>
      <ReactFlowProvider>
        <Editor {...props} />
      </ReactFlowProvider>
    </CanvasProvider>
  );
}

type Overlay = "run" | "help" | "share" | null;

const NO_INPUTS = {};

function Editor({ workflowId, runId, diff = null }: Props) {
  const store = useCanvasApi();
  const flow = useReactFlow();
  const [loadError, setLoadError] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [overlay, setOverlay] = useState<Overlay>(null);
  const [showHistory, setShowHistory] = useState(runId !== null || diff !== null);
  const [showVersions, setShowVersions] = useState(false);
  const [menu, setMenu] = useState<NodeMenuAt | null>(null);
  const openMenu = useCallback((node: string, x: number, y: number) => setMenu({ node, x, y }), []);
  const actions = useEditorActions(workflowId);
  const fitAll = useFitAll();
  const socket = useRunEvents(loaded ? runId : null);
  const report = useRunReport(runId);
  const { inputs, selectedIds, inspecting, notice, inRun, readOnly, replaying, dirty } = useCanvas((s) => ({
    inputs: s.meta.inputs ?? NO_INPUTS,
    // a string, so the shallow comparison sees an unchanged selection as equal
    selectedIds: s.nodes
      .filter((n) => n.selected)
      .map((n) => n.id)
      .join(" "),
    inspecting: s.inspecting,
    notice: s.notice,
    inRun: s.run !== null,
    readOnly: s.readOnly,
    replaying: s.replay !== null,
    dirty: s.dirty,
  }));
  const approval = useApprovalDialog();
  const [paletteCollapsed, togglePalette] = useStoredFlag("paletteCollapsed");
  const [inspectorCollapsed, toggleInspector] = useStoredFlag("inspectorCollapsed");
  const [miniMapHidden, toggleMiniMap] = useStoredFlag("miniMapHidden");
  const remote = useRemoteChanges(workflowId, loaded && runId === null && !diff && readOnly === null);
  useLiveValidation(workflowId);
  useUnsavedWarning();

  useEffect(() => {
    // who the user is decides whether the workflow is theirs to change (else read-only here)
    const me = api.me().then(
      (m) => m.username,
      () => null,
    );
    Promise.all([api.getWorkflow(workflowId), api.nodeTypes(), me]).then(
      ([workflow, types, username]) => {
        const access = workflowAccess(username, workflow.owner);
        store.getState().setReadOnly(!access.owned && access.owner ? readOnlyReason(access.owner) : null);
        store.getState().setNodeTypes(types);
        store.getState().load(workflow, needsLayout(workflow));
        triggerStore.getState().show(workflow);
        setLoaded(true);
        // The saved problems may predate the node types now registered: ask again.
        api.validateWorkflow(workflowId).then(
          (r) => store.getState().setProblems(r.errors ?? []),
          () => undefined,
        );
      },
      (e: Error) => setLoadError(e.message),
    );
  }, [workflowId, store]);

  useEffect(() => {
    if (runId === null) store.getState().closeRunView();
  }, [runId, store]);

  // The palette comes and goes with run mode: refit the graph to the canvas it leaves, unless
  // the user zoomed or panned since the last fit (their view is kept between edit and run); a
  // large graph keeps the viewport it opened at (see lib/viewport).
  const lastFit = useRef<Viewport | null>(null);
  useEffect(() => {
    if (!loaded || isLargeGraph(store.getState().nodes.length)) return;
    if (lastFit.current && !sameViewport(flow.getViewport(), lastFit.current)) return;
    const frame = window.requestAnimationFrame(() => {
      flow.fitView({ padding: 0.2, maxZoom: 1.2 });
      lastFit.current = flow.getViewport();
    });
    return () => window.cancelAnimationFrame(frame);
  }, [inRun, loaded, flow, store]);

  const addAtCenter = useCallback(
    (type: string) => {
      const bounds = document.querySelector(".canvas")?.getBoundingClientRect();
      const center = bounds ? { x: bounds.left + bounds.width / 2, y: bounds.top + bounds.height / 2 } : { x: 400, y: 300 };
      store.getState().addNode(type, flow.screenToFlowPosition(center));
    },
    [store, flow],
  );

  const startRun = useCallback(() => {
    if (Object.keys(inputs).length) setOverlay("run");
    else actions.run({});
  }, [inputs, actions]);

  const state = store.getState;
  useShortcuts({
    save: () => runId === null && actions.save(), // refused with the reason when read-only
    undo: () => state().undo(),
    redo: () => state().redo(),
    copy: () => state().copySelection(),
    paste: () => runId === null && state().paste(),
    layout: () => runId === null && state().layout(),
    fit: fitAll,
    run: startRun,
    help: () => setOverlay("help"),
  });

  if (loadError)
    return (
      <main className="page-message">
        <h1>Cannot open workflow {workflowId}</h1>
        <p>{loadError}</p>
        <a href="/">Back to the workflows</a>
      </main>
    );
  const selected = selectedIds ? selectedIds.split(" ") : [];
  if (!loaded) return <main className="page-message muted">Loading workflow {workflowId}…</main>;
  const single = selected.length === 1 ? selected[0] : null;
  const inspectNode = inspecting ?? single;
  return (
    <div className={`editor ${inRun ? "run-mode" : ""} ${replaying ? "replaying" : ""}`} data-testid="editor" data-loaded={loaded}>
      <Toolbar
        workflowId={workflowId}
        runId={runId}
        saveState={actions.saveState}
        onSave={() => actions.save()}
        onRun={startRun}
        onHistory={() => setShowHistory(!showHistory)}
        onVersions={() => setShowVersions(!showVersions)}
        onHelp={() => setOverlay("help")}
        onShare={() => setOverlay("share")}
      />
      {remote.remote !== null && actions.saveState !== "conflict" && (
        <div className="read-only-banner" role="status" data-testid="remote-change-banner">
          <strong>Changed elsewhere</strong>
          <span>Someone saved this workflow (revision {remote.remote}) since you opened it.</span>
          <button
            className="small"
            data-testid="remote-change-merge"
            onClick={() => (remote.dismiss(), dirty ? actions.save() : actions.reload())}
          >
            {dirty ? "Merge with my changes…" : "Load their version"}
          </button>
        </div>
      )}
      {readOnly !== null && (
        <div className="read-only-banner" role="status" data-testid="read-only-banner">
          <strong>Read-only</strong>
          <span>{readOnly}</span>
        </div>
      )}
      <div className="editor-body">
        {!inRun && !diff && readOnly === null && (
          <>
            {!paletteCollapsed && <Palette onAdd={addAtCenter} />}
            <PanelToggle side="left" collapsed={paletteCollapsed} name="palette" testId="toggle-palette" onToggle={togglePalette} />
          </>
        )}
        <div className="canvas-column">
          <Canvas onNodeMenu={openMenu} miniMapHidden={miniMapHidden} onToggleMiniMap={toggleMiniMap} />
          {notice && <Toast kind={notice.kind} text={notice.text} onClose={() => store.getState().notify(null)} />}
          {inRun ? <RunFooter report={report} socket={socket} /> : <ProblemsList />}
        </div>
        <PanelToggle side="right" collapsed={inspectorCollapsed} name="inspector" testId="toggle-inspector" onToggle={toggleInspector} />
        <aside className="side-panel" data-testid="side-panel" hidden={inspectorCollapsed}>
          {diff ? (
            <RunDiffPanel key={`${diff.a}-${diff.b}`} workflowId={workflowId} a={diff.a} b={diff.b} />
          ) : inRun && inspectNode ? (
            // a past moment shows what the events said then, not the final report
            <InspectPanel nodeId={inspectNode} report={replaying ? null : report.data} onDecide={approval.open} />
          ) : !inRun && single ? (
            <fieldset className="read-only-fields" disabled={readOnly !== null} title={readOnly ?? undefined}>
              <NodeSettings key={single} nodeId={single} />
            </fieldset>
          ) : inRun ? (
            <>
              <p className="muted panel-hint">Click a node to inspect its input, output, error and log.</p>
              <RunLog />
            </>
          ) : (
            <fieldset className="read-only-fields" disabled={readOnly !== null} title={readOnly ?? undefined}>
              <WorkflowSettings key={workflowId} />
            </fieldset>
          )}
        </aside>
        {showHistory && (
          <RunHistory workflowId={workflowId} currentRunId={runId} refreshKey={report.data?.status} onClose={() => setShowHistory(false)} />
        )}
        {showVersions && runId === null && !diff && <VersionHistory workflowId={workflowId} onClose={() => setShowVersions(false)} />}
      </div>
      {menu && runId !== null && (
        <NodeMenu
          at={menu}
          workflowId={workflowId}
          runId={runId}
          onClose={() => setMenu(null)}
          onError={(text) => store.getState().notify({ kind: "error", text })}
        />
      )}
      {approval.nodeId && runId !== null && <ApprovalDialog runId={runId} />}
      {runId === null && readOnly === null && <NodePicker />}
      {overlay === "run" && (
        <RunDialog inputs={inputs} onClose={() => setOverlay(null)} onRun={(values) => (setOverlay(null), actions.run(values))} />
      )}
      {overlay === "help" && <ShortcutsHelp onClose={() => setOverlay(null)} />}
      {overlay === "share" && (
        <ShareDialog
          workflowId={workflowId}
          onClose={() => setOverlay(null)}
          onSaved={(sharing) => {
            setOverlay(null);
            const text = sharing.shared_with.length ? `Shared with ${sharing.shared_with.join(", ")}` : "Not shared with anyone";
            store.getState().notify({ kind: "info", text });
          }}
        />
      )}
      {actions.saveState === "conflict" && (
        <MergeDialog
          conflict={actions.conflict}
          onClose={() => actions.setSaveState("idle")}
          onReload={actions.reload}
          onSave={actions.saveMerged}
        />
      )}
    </div>
  );
}

/**
 * The approval flow (`lib/approvalFlow.ts`, kept in the store) is told when the shown run's
 * approval waits, pauses or report change: the dialog may open by itself then. Which node the
 * dialog is for lives in the store (`approvalRequest`), so a canvas node can ask for it too.
 */
function useApprovalDialog() {
  const store = useCanvasApi();
  const { keys, nodeId, pauses, paused } = useCanvas((s) => {
    const flowRun = approvalRunOf(s);
    // a wait in a body opens the dialog once the run has paused (other items may still run)
    const keys = approvalWaitKeys(flowRun.run, flowRun.records, flowRun.approvals, { bodyWhenPaused: true, decided: s.decidedApprovals });
    const live = liveRunOf(s);
    return { keys: keys.join("\n"), nodeId: s.approvalRequest, pauses: live?.pauses ?? 0, paused: live?.status === "paused" };
  });
  useEffect(() => store.getState().dispatchApproval({ type: "waitsChanged" }), [keys, pauses, paused, store]);
  const open = useCallback((node: string) => store.getState().requestApproval(node), [store]);
  return { nodeId, open };
}

function RunFooter({ report, socket }: { report: { data: RunReport | null }; socket: string }) {
  const inspect = useCanvas((s) => s.inspect);
  const live = useCanvas((s) => {
    const run = liveRunOf(s);
    return { runId: run?.runId ?? null, last: run?.lastSeq ?? 0, status: run?.status ?? null, startedAt: run?.startedAt ?? null };
  });
  // a past run (or one that waits) can be replayed; a running one is watched live
  const replayable =
    live.runId !== null && live.last > 0 && (live.status === "paused" || (live.status !== null && TERMINAL_RUN_STATES.has(live.status)));
  const timeline = useRunTimeline(report.data);
  const critical = useMemo(() => new Set(timeline?.critical_path ?? []), [timeline]);
  return (
    <div className="run-footer">
      {replayable && live.runId !== null && <Scrubber key={live.runId} runId={live.runId} last={live.last} startedAt={live.startedAt} />}
      <ParentRunLink report={report.data} />
      <StatusBar socket={socket} reportUsage={report.data && report.data.id === live.runId ? (report.data.usage ?? null) : null} />
      <RootCauses causes={report.data?.root_causes} onPick={inspect} />
      <ReuseNote reuse={report.data?.reuse} />
      {report.data?.node_runs?.length ? (
        <details className="timeline" open>
          <summary>Timeline</summary>
          <Gantt
            records={report.data.node_runs}
            onPick={inspect}
            critical={critical}
            summary={timelineSummary(timeline)}
            runStartedAt={report.data.started_at ?? null}
          />
        </details>
      ) : null}
    </div>
  );
}

function Toast({ kind, text, onClose }: { kind: string; text: string; onClose(): void }) {
  useEffect(() => {
    if (kind === "error") return;
    const timer = window.setTimeout(onClose, 2500);
    return () => window.clearTimeout(timer);
  }, [kind, text, onClose]);
  return (
    <div className={`toast toast-${kind}`} role={kind === "error" ? "alert" : "status"} data-testid="notice">
      <span>{text}</span>
      <button className="icon-button" onClick={onClose} aria-label="Dismiss">
        ✕
      </button>
    </div>
  );
}

/** The critical path and parallel efficiency of the shown run, refetched with its report. */
function useRunTimeline(report: RunReport | null): RunTimeline | null {
  // a new report of the same run keeps the timeline shown until the new one comes
  const [fetched, setFetched] = useState<{ runId: number; timeline: RunTimeline } | null>(null);
  useEffect(() => {
    if (!report) return;
    let current = true;
    api.timeline(report.id).then(
      (timeline) => current && setFetched({ runId: report.id, timeline }),
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, [report]);
  return report && fetched?.runId === report.id ? fetched.timeline : null;
}

/**
 * The shown run's report (full values, every attempt), refetched as its events arrive: at most
 * once a second while it runs, and once when it ends. Read through a store subscription, so the
 * editor does not re-render for every applied event.
 */
function useRunReport(runId: number | null) {
  const store = useCanvasApi();
  const [data, setData] = useState<RunReport | null>(null);
  useEffect(() => {
    if (runId === null) return;
    let current = true;
    let timer: number | undefined;
    let lastFetch = 0;
    let fetchedFinal = false;
    const fetchReport = () => {
      timer = undefined;
      lastFetch = Date.now();
      api.getRun(runId).then(
        (r) => current && setData(r),
        () => undefined,
      );
    };
    const schedule = (finished: boolean) => {
      if (finished) {
        if (fetchedFinal) return;
        fetchedFinal = true;
        window.clearTimeout(timer);
        timer = window.setTimeout(fetchReport, REPORT_SETTLE_MS);
        return;
      }
      fetchedFinal = false; // running again (a retry, a resume): it will end again
      if (timer !== undefined) return;
      timer = window.setTimeout(fetchReport, Math.max(REPORT_SETTLE_MS, lastFetch + REPORT_EVERY_MS - Date.now()));
    };
    schedule(false);
    const unsubscribe = store.subscribe((state, previous) => {
      // the live run's events (a moment the scrubber shows is not news)
      const run = liveRunOf(state);
      const before = liveRunOf(previous);
      if (!run || (run.lastSeq === before?.lastSeq && run.status === before?.status)) return;
      schedule(run.status !== null && TERMINAL_RUN_STATES.has(run.status));
    });
    return () => {
      current = false;
      unsubscribe();
      window.clearTimeout(timer);
      setData(null); // another run (or none) shows no report of this one
    };
  }, [runId, store]);
  // the canvas reads it too (a node waiting for a child run links to it)
  useEffect(() => store.getState().setRunReport(data), [data, store]);
  return { data };
}

const REPORT_SETTLE_MS = 150;
const REPORT_EVERY_MS = 1000;

/** Two viewports alike to the eye (a fit recomputed for the same box differs by rounding). */
function sameViewport(a: Viewport, b: Viewport): boolean {
  return Math.abs(a.zoom - b.zoom) < 0.001 && Math.abs(a.x - b.x) < 1 && Math.abs(a.y - b.y) < 1;
}
