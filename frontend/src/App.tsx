import { SecretsPage } from "./components/SecretsPage";
import { EditorPage } from "./pages/EditorPage";
import { RunsPage } from "./pages/RunsPage";
import { WorkflowListPage } from "./pages/WorkflowListPage";
import { useRoute } from "./router";

export function App() {
  const route = useRoute();
  switch (route.page) {
    case "list":
      return <WorkflowListPage />;
    case "secrets":
      return <SecretsPage />;
    case "runs":
      return <RunsPage />;
    case "editor":
      return <EditorPage key={route.workflowId} workflowId={route.workflowId} runId={route.runId} diff={route.diff ?? null} />;
    default:
      return (
        <main className="page-message">
          <h1>Not found</h1>
          <p>
            Nothing lives at <code>{route.path}</code>. <a href="/">Back to the workflows</a>
          </p>
        </main>
      );
  }
}
