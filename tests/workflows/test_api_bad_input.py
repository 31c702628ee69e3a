"""Bad input never answers 500 and never stores anything (issue 13, defect 7): NaN and
Infinity, NUL characters and lone surrogates, deep nesting, YAML types JSON does not have,
non-ASCII digits and unbounded numbers in query strings each get a 400 in the SPEC's error shape
naming what is wrong; PATCH checks a document like PUT; every API error is JSON, even an
unexpected one with DEBUG on."""

from __future__ import annotations

import json

import pytest

from tests.factories import RunFactory, chain_document, workflow_for
from workflows import selectors
from workflows.models import Workflow, WorkflowNode, WorkflowRun

pytestmark = pytest.mark.django_db

DEEP = 10_000


def error_body(response) -> list[dict]:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    errors = response.json()["errors"]
    assert errors and all({"code", "message"} <= set(error) for error in errors)
    return errors


def refused(response, code: str, *words: str) -> dict:
    """The response is a 400 whose first error has `code` and names every one of `words`."""
    assert response.status_code == 400, response.content[:300]
    error = error_body(response)[0]
    assert error["code"] == code, error
    for word in words:
        assert word in error["message"], error
    return error


def post_json(api, path: str, text: str):
    return api.post(path, data=text, content_type="application/json")


def one_node(**node) -> dict:
    return {"name": "w", "nodes": [{"id": "a", "type": "transform", **node}], "edges": []}


# --- JSON bodies --------------------------------------------------------------------------------

NON_FINITE = [
    ('{"name": "w", "variables": {"limit": NaN}}', "variables.limit"),
    ('{"name": "w", "variables": {"limit": -Infinity}}', "variables.limit"),
    (
        '{"name": "w", "nodes": [{"id": "a", "type": "transform", "timeout_s": 1e999}]}',
        "nodes[0].timeout_s",
    ),
    (
        '{"name": "w", "nodes": [{"id": "a", "type": "transform", '
        '"position": {"x": 1e400, "y": 0}}]}',
        "nodes[0].position.x",
    ),
]


@pytest.mark.parametrize(("text", "field"), NON_FINITE)
def test_nan_and_infinity_in_a_json_body_are_refused_naming_the_field(api, text, field):
    error = refused(post_json(api, "/api/workflows/", text), "bad_number", field)
    assert error["field"] == field
    assert not Workflow.objects.exists()


BAD_TEXT = [
    (json.dumps({"name": "a\u0000b"}), "name"),
    (json.dumps(one_node(id="a\u0000")), "nodes[0].id"),
    (json.dumps(one_node(config={"output": "x\u0000"})), "nodes[0].config.output"),
    (json.dumps(one_node(config={"k\u0000": 1})), "nodes[0].config"),
    ('{"name": "a\\ud800b"}', "name"),
    ('{"name": "w", "tags": ["\\udfff"]}', "tags[0]"),
    ('{"name": "w", "variables": {"\\ud800": 1}}', "variables"),
]


@pytest.mark.parametrize(("text", "field"), BAD_TEXT)
def test_nul_and_lone_surrogates_in_a_json_body_are_refused_naming_the_field(api, text, field):
    error = refused(post_json(api, "/api/workflows/", text), "bad_text", field)
    assert error["field"].startswith(field)
    assert not Workflow.objects.exists()


@pytest.mark.parametrize("text", ["[" * DEEP + "]" * DEEP, '{"a":' * DEEP + "1" + "}" * DEEP])
def test_json_nested_ten_thousand_levels_is_refused(api, text):
    refused(post_json(api, "/api/workflows/", text), "too_deep", "100")
    assert not Workflow.objects.exists()


def test_nesting_under_the_limit_is_accepted(api):
    deep = json.loads('{"a":' * 90 + "1" + "}" * 90)
    response = api.post("/api/workflows/", {"name": "w", "variables": {"v": deep}}, format="json")
    assert response.status_code == 201


def test_integers_beyond_64_bits_are_refused(api):
    text = '{"name": "w", "variables": {"n": ' + "9" * 30 + "}}"
    refused(post_json(api, "/api/workflows/", text), "bad_number", "variables.n")
    text = '{"name": "w", "variables": {"n": ' + "9" * 5000 + "}}"
    assert post_json(api, "/api/workflows/", text).status_code == 400
    assert not Workflow.objects.exists()


def test_put_with_a_nul_character_keeps_the_saved_document(api, user):
    workflow = workflow_for(user, chain_document(2))
    document = {**chain_document(2, name="renamed\u0000"), "revision": workflow.revision}
    response = api.put(f"/api/workflows/{workflow.pk}/", document, format="json")
    refused(response, "bad_text", "name")
    workflow.refresh_from_db()
    assert (workflow.name, workflow.revision) == ("chain", 1)


def test_sharing_with_a_nul_username_is_refused(api, user, other_user):
    workflow = workflow_for(user)
    response = api.put(
        f"/api/workflows/{workflow.pk}/sharing/", {"shared_with": ["bob\u0000"]}, format="json"
    )
    refused(response, "bad_text", "shared_with[0]")
    assert not workflow.shared_with.exists()


def test_run_inputs_and_approval_data_with_bad_values_are_refused(api, user):
    workflow = workflow_for(user, chain_document(2, inputs={"s": {"type": "string"}}))
    path = f"/api/workflows/{workflow.pk}/runs/"
    refused(post_json(api, path, '{"inputs": {"s": "\\u0000"}}'), "bad_text", "inputs.s")
    refused(post_json(api, path, '{"inputs": {"s": NaN}}'), "bad_number", "inputs.s")
    assert not WorkflowRun.objects.exists()
    run = RunFactory(workflow=workflow)
    response = post_json(
        api, f"/api/runs/{run.pk}/nodes/n0/approve/", '{"approved": true, "data": Infinity}'
    )
    refused(response, "bad_number", "data")


def test_token_login_with_a_nul_character_is_refused(client, user):
    response = client.post(
        "/api/auth/token/",
        data=json.dumps({"username": "alice\u0000", "password": "x"}),
        content_type="application/json",
    )
    refused(response, "bad_text", "username")


# --- YAML (and JSON) import ---------------------------------------------------------------------


def import_yaml(api, text: str):
    return api.post("/api/workflows/import/", data=text, content_type="application/yaml")


YAML_REFUSED = [
    ("nodes:\n- {id: a, type: transform, timeout_s: .inf}\n", "bad_number", "nodes[0].timeout_s"),
    ("variables: {x: .nan}\n", "bad_number", "variables.x"),
    ("variables: {x: -.INF}\n", "bad_number", "variables.x"),
    ("variables: {when: 2024-01-01}\n", "unsupported_yaml", "variables.when"),
    ("variables: {when: 2024-01-01 10:00:00}\n", "unsupported_yaml", "variables.when"),
    ("variables: {blob: !!binary aGVsbG8=}\n", "unsupported_yaml", "variables.blob"),
    ("variables: {s: !!set {a, b}}\n", "unsupported_yaml", "variables.s"),
    ("variables: {1: one}\n", "unsupported_yaml", "variables"),
    ('name: "a\\0b"\n', "bad_text", "name"),
    ('name: "\\ud800"\n', "bad_text", "name"),
    ("variables: {x: " + "[" * DEEP + "]" * DEEP + "}\n", "too_deep", "100"),
    ("variables:\n" + "".join("  " * i + "- \n" for i in range(1, 200)), "too_deep", "100"),
]


@pytest.mark.parametrize(("text", "code", "word"), YAML_REFUSED)
def test_yaml_import_of_non_json_values_is_refused_and_nothing_saved(api, text, code, word):
    refused(import_yaml(api, "name: w\n" + text if "name" not in text else text), code, word)
    assert not Workflow.objects.exists()
    assert not WorkflowNode.objects.exists()


def test_yaml_alias_bomb_is_refused(api):
    lines = ["name: w", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    refused(import_yaml(api, "\n".join(lines) + "\n"), "too_many_values")
    assert not Workflow.objects.exists()


def test_json_import_with_nan_is_refused(api):
    response = api.post(
        "/api/workflows/import/",
        data='{"name": "w", "variables": {"x": NaN}}',
        content_type="application/json",
    )
    refused(response, "bad_number", "variables.x")
    assert not Workflow.objects.exists()


def test_multipart_yaml_import_with_inf_is_refused(api):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("w.yaml", b"name: w\nvariables: {x: .inf}\n")
    response = api.post("/api/workflows/import/", {"file": upload}, format="multipart")
    refused(response, "bad_number", "variables.x")
    assert not Workflow.objects.exists()


def test_yaml_import_of_plain_json_types_still_works(api):
    text = (
        "name: w\nvariables: {n: 1, f: 2.5, s: text, b: true, z: null, l: [1, two]}\n"
        "nodes:\n- {id: a, type: transform, timeout_s: 5, config: {output: '2024-01-01'}}\n"
    )
    response = import_yaml(api, text)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["variables"] == {
        "n": 1,
        "f": 2.5,
        "s": "text",
        "b": True,
        "z": None,
        "l": [1, "two"],
    }
    assert body["nodes"][0]["config"] == {"output": "2024-01-01"}


# --- a row with a non-finite number, stored before this fix --------------------------------------


def test_a_stored_infinite_timeout_reads_exports_and_runs_without_500(api, user):
    workflow = workflow_for(user, chain_document(2))
    WorkflowNode.objects.filter(workflow=workflow, node_id="n0").update(
        timeout_s=float("inf"), position_x=float("nan")
    )
    for path in (
        f"/api/workflows/{workflow.pk}/",
        f"/api/workflows/{workflow.pk}/export/?format=json",
        f"/api/workflows/{workflow.pk}/export/?format=yaml",
        "/api/workflows/",
    ):
        response = api.get(path)
        assert response.status_code == 200, (path, response.content[:300])
    node = api.get(f"/api/workflows/{workflow.pk}/").json()["nodes"][0]
    assert node["timeout_s"] is None
    assert node["position"] == {"x": 0, "y": 0}
    response = api.post(f"/api/workflows/{workflow.pk}/runs/", {}, format="json")
    assert response.status_code == 201, response.content[:300]
    assert api.post(f"/api/workflows/{workflow.pk}/validate/").status_code == 200


# --- query strings, paths, headers ----------------------------------------------------------------


@pytest.fixture
def run(user):
    workflow = workflow_for(user, chain_document(2))
    return RunFactory(workflow=workflow, document=selectors.workflow_document(workflow=workflow))


BAD_QUERIES = [
    ("/api/runs/?status=%00", "status"),
    ("/api/runs/?status=%ED%A0%80", "status"),
    ("/api/runs/?status=sleeping", "status"),
    ("/api/runs/?workflow=%C2%B2", "workflow"),
    ("/api/runs/?workflow=99999999999999999999999", "workflow"),
    ("/api/runs/?workflow=%D9%A3", "workflow"),  # an Arabic-Indic 3: int() takes it
    ("/api/runs/?page=%C2%B2", "page"),
    ("/api/runs/?page=0", "page"),
    ("/api/runs/?page=10000000000", "page"),
    ("/api/runs/?page_size=%C2%B2", "page_size"),
    ("/api/runs/?page_size=0", "page_size"),
    ("/api/runs/?page_size=100000", "page_size"),
    ("/api/runs/{run}/events/?after=%C2%B2", "after"),
    ("/api/runs/{run}/events/?after=99999999999", "after"),
    ("/api/runs/{run}/events/?limit=100000", "limit"),
    ("/api/runs/{run}/nodes/n0/output/?attempt=%C2%B2", "attempt"),
    ("/api/runs/{run}/nodes/n0/output/?attempt=99999999999", "attempt"),
    ("/api/runs/{run}/nodes/n0/output/?attempt=0", "attempt"),
    ("/api/runs/{run}/nodes/n0/output/?iteration=%00", "iteration"),
    ("/api/workflows/{workflow}/export/?format=%00", "format"),
]


@pytest.mark.parametrize(("path", "field"), BAD_QUERIES)
def test_bad_query_parameters_get_a_400_naming_them(api, run, path, field):
    response = api.get(path.format(run=run.pk, workflow=run.workflow_id))
    assert response.status_code == 400, response.content[:300]
    error = error_body(response)[0]
    if field:
        assert error.get("field") == field and field in error["message"], error


def test_a_nul_character_in_a_path_is_refused(api, run):
    response = api.get(f"/api/runs/{run.pk}/nodes/n%000/output/")
    assert response.status_code == 400, response.content[:300]
    assert error_body(response)[0]["code"] == "bad_text"


def test_a_nul_character_in_a_token_or_session_cookie_is_refused(client, user):
    response = client.get("/api/runs/", HTTP_AUTHORIZATION="Token abc\u0000def")
    assert response.status_code in (400, 401), response.content[:300]
    error_body(response)
    client.cookies["sessionid"] = "abcdefghij\u0000"
    response = client.get("/api/runs/")
    assert response.status_code in (400, 401, 403), response.content[:300]
    error_body(response)


# --- PATCH checks a document exactly like PUT -----------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"name": 5}, "bad_type", "name"),
        ({"tags": ["ok", 3]}, "bad_type", "tags"),
        ({"settings": []}, "bad_type", "settings"),
        ({"description": None}, "bad_type", "description"),
        ({"revision": "1"}, "bad_type", "revision"),
        ({"nodes": []}, "unknown_field", "nodes"),
    ],
)
def test_patch_refuses_what_put_refuses(api, user, changes, code, field):
    workflow = workflow_for(user, chain_document(2))
    response = api.patch(f"/api/workflows/{workflow.pk}/", changes, format="json")
    error = refused(response, code, field)
    assert error["field"] == field
    workflow.refresh_from_db()
    assert (workflow.name, workflow.revision, workflow.tags) == ("chain", 1, [])


def test_patch_and_put_agree_on_a_wrong_name_type(api, user):
    workflow = workflow_for(user, chain_document(2))
    put = api.put(
        f"/api/workflows/{workflow.pk}/",
        {**chain_document(2), "name": 5, "revision": 1},
        format="json",
    )
    patch = api.patch(f"/api/workflows/{workflow.pk}/", {"name": 5}, format="json")
    assert put.status_code == patch.status_code == 400
    assert error_body(put) == error_body(patch)


def test_patch_of_good_metadata_still_works(api, user):
    workflow = workflow_for(user, chain_document(2))
    response = api.patch(
        f"/api/workflows/{workflow.pk}/",
        {"name": "new", "tags": ["x"], "revision": 1},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["revision"]) == ("new", 2)


# --- unexpected errors are JSON in every mode -----------------------------------------------------


@pytest.mark.parametrize("debug", [True, False])
def test_an_unexpected_error_answers_a_json_500_without_a_traceback(
    api, settings, monkeypatch, debug
):
    settings.DEBUG = debug
    api.raise_request_exception = False

    def broken(**kwargs):
        raise RuntimeError("secret internals at /srv/switchyard/x.py")

    monkeypatch.setattr(selectors, "workflow_list", broken)
    response = api.get("/api/workflows/")
    assert response.status_code == 500
    errors = error_body(response)
    assert errors[0]["code"] == "internal_error"
    assert "secret internals" not in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_an_error_page_from_outside_the_views_is_json_under_api(client, settings):
    settings.DEBUG = True
    response = client.get("/api/runs/", HTTP_HOST="evil.example")  # DisallowedHost: 400
    assert response.status_code == 400
    error_body(response)


def test_import_workflow_command_refuses_infinity_and_saves_nothing(tmp_path, user):
    from django.core.management import CommandError, call_command

    path = tmp_path / "w.yaml"
    path.write_text("name: w\nnodes:\n- {id: a, type: transform, timeout_s: .inf}\n")
    with pytest.raises(CommandError, match=r"bad_number: nodes\[0\]\.timeout_s"):
        call_command("import_workflow", str(path), "--owner", user.username)
    assert not Workflow.objects.exists()


def test_a_nul_character_in_a_page_request_is_a_400_not_a_500(client):
    client.cookies["sessionid"] = "abcdefghij\u0000"
    assert client.get("/").status_code == 400
    assert client.get("/admin/?q=%00").status_code == 400


def test_sharing_with_more_than_a_thousand_users_is_refused(api, user):
    workflow = workflow_for(user)
    names = [f"user{i}" for i in range(1001)]
    response = api.put(
        f"/api/workflows/{workflow.pk}/sharing/", {"shared_with": names}, format="json"
    )
    refused(response, "too_many", "1000")
    assert len(error_body(response)) == 1


@pytest.mark.parametrize("key", ["nodes", "edges"])
def test_a_graph_past_the_documented_size_is_refused_naming_it(api, key):
    from engine.limits import MAX_EDGES, MAX_NODES

    count = (MAX_NODES if key == "nodes" else MAX_EDGES) + 1
    nodes = [{"id": f"n{i}", "type": "transform"} for i in range(count if key == "nodes" else 2)]
    edges = [
        {"id": f"e{i}", "source": "n0", "target": "n1"}
        for i in range(count if key == "edges" else 0)
    ]
    answer = api.post(
        "/api/workflows/",
        {"version": 1, "name": "huge", "nodes": nodes, "edges": edges},
        format="json",
    )
    assert answer.status_code == 400
    (error,) = answer.json()["errors"]
    assert error["code"] == "too_large"
    assert error["field"] == key
    assert f"{key}: at most" in error["message"]
    assert not Workflow.objects.filter(name="huge").exists()
