import pytest

from tests.observability.conftest import at
from workflows.models import NodeRun
from workflows.observability import timeline

pytestmark = pytest.mark.django_db


def test_timeline_finds_critical_path_through_the_longest_branch(diamond_run):
    data = timeline.timeline(diamond_run)

    assert data["critical_path"] == ["a", "b", "d", "gate"]
    assert data["critical_path_ms"] == 6500
    assert data["wall_ms"] == 6500


def test_parallel_efficiency_is_busy_time_over_wall_times_parallelism(diamond_run):
    data = timeline.timeline(diamond_run)

    assert data["busy_ms"] == 7500
    assert data["max_parallel_used"] == 2
    assert data["efficiency"] == pytest.approx(7.5 / (6.5 * 2), abs=1e-4)


def test_timeline_spans_are_offsets_from_run_start_and_skip_nodes_that_never_ran(diamond_run):
    spans = {span["node"]: span for span in timeline.timeline(diamond_run)["spans"]}

    assert set(spans) == {"a", "b", "c", "d", "gate"}
    assert spans["c"]["offset_ms"] == 2000
    assert spans["c"]["duration_ms"] == 1000


def test_critical_path_counts_retries_and_backoff_of_a_node(diamond_run):
    NodeRun.objects.filter(run=diamond_run, node_id="c").update(
        status="failed", finished_at=at(2.5), reason="retried"
    )
    NodeRun.objects.create(
        run=diamond_run,
        node_id="c",
        attempt=2,
        status="succeeded",
        started_at=at(4.5),
        finished_at=at(5.5),
        handles=["out"],
    )
    NodeRun.objects.filter(run=diamond_run, node_id="d").update(started_at=at(5.5))

    data = timeline.timeline(diamond_run)

    assert data["critical_path"][:3] == ["a", "c", "d"]
    assert [s["attempt"] for s in data["spans"] if s["node"] == "c"] == [1, 2]


def test_critical_path_follows_only_taken_edges(diamond_run):
    # `never` ran, but the edge into it leaves gate's `false` handle, which gate did not take.
    NodeRun.objects.filter(run=diamond_run, node_id="never").update(
        attempt=1,
        status="succeeded",
        started_at=at(6.5),
        finished_at=at(9),
        handles=["out"],
    )
    diamond_run.finished_at = at(9)

    data = timeline.timeline(diamond_run)

    # Through the untaken edge the chain would be 9 s long; without it `never` stands alone.
    assert data["critical_path"] == ["a", "b", "d", "gate"]
    assert data["critical_path_ms"] == 6500


def test_a_sequential_chain_is_fully_efficient(diamond_run):
    NodeRun.objects.filter(run=diamond_run, node_id="c").delete()

    data = timeline.timeline(diamond_run)

    assert data["max_parallel_used"] == 1
    assert data["efficiency"] == 1.0


def test_timeline_text_shows_total_efficiency_bars_and_critical_path(diamond_run):
    text = timeline.timeline_text(timeline.timeline(diamond_run))

    assert "Total: 6.5s | Parallel efficiency: 58%" in text
    assert "00:02" in text and "c (1.0s)" in text
    assert "Critical path: a → b → d → gate (6.5s)" in text
    assert "█" in text


def test_timeline_api_answers_spans_critical_path_and_efficiency(api, diamond_run):
    response = api.get(f"/api/runs/{diamond_run.pk}/timeline/")

    assert response.status_code == 200
    body = response.json()
    assert body["critical_path"] == ["a", "b", "d", "gate"]
    assert body["efficiency"] == pytest.approx(0.5769, abs=1e-4)
    assert len(body["spans"]) == 5


def test_timeline_api_hides_other_users_runs(other_user, diamond_run):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(other_user)

    assert client.get(f"/api/runs/{diamond_run.pk}/timeline/").status_code == 404
