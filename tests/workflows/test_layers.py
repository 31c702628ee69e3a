"""The Django side's layers run one way (issue 14, docs/architecture.md): the edges (HTTP API,
websockets, admin, CLI) call control, control calls the runtime, the runtime calls services and
selectors, and everything reads models. conf, errors and parsing are importable from anywhere.
The scan reads the source (imports inside functions count, `if TYPE_CHECKING:` ones do not);
`lint-imports` (.importlinter) checks the same layers from the installed packages."""

from collections.abc import Iterator

from tests.imports import circles, import_graph, long_definitions, package_modules

# Top to bottom; a module may import its own layer and those below. A name covers the module
# and everything under it; the longest name that matches decides (a module may sit in another
# layer than its package).
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("project", ("switchyard",)),
    (
        "edges",
        (
            "workflows.api",
            "workflows.realtime",
            "workflows.admin",
            "workflows.management",
            "workflows.views",
            "workflows.middleware",
            "workflows.admission",
            "workflows.apps",
        ),
    ),
    ("control", ("workflows.control",)),
    (
        "runtime",
        (
            "workflows.runtime",
            "workflows.live",
        ),
    ),
    (
        "services",
        (
            "workflows.services",
            "workflows.run_insert",
            "workflows.selectors",
            "workflows.documents",
            "workflows.observability",
            "workflows.dispatch",
            "workflows.triggers",
            "workflows.secrets",
            "workflows.versions",
            "workflows.pins",
        ),
    ),
    ("models", ("workflows.models",)),
    ("anywhere", ("workflows.conf", "workflows.errors", "workflows.parsing")),
]
EDGES = dict(LAYERS)["edges"]
ANYWHERE = len(LAYERS) - 1

# Imports against the layers on main today, (importer, imported); each must still exist (an
# entry that no longer applies fails: delete it then).
KNOWN = {
    # `serve` starts the ASGI application switchyard/ assembles: the one way up, by design.
    ("workflows.management.commands.serve", "switchyard.asgi"),
}

# Circles among the Django side's modules, each allowed by one of its imports (importer,
# imported), as in tests/engine/test_architecture.py (the engine imports nothing of the Django
# side, so no circle runs through both). None today: a new circle fails, and so would an entry
# here that no longer applies.
KNOWN_CIRCLES: set[tuple[str, str]] = set()

MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 50


def django_side() -> dict[str, set[str]]:
    return import_graph(package_modules("workflows") | package_modules("switchyard"))


def layer_of(module: str, layers: list[tuple[str, tuple[str, ...]]] = LAYERS) -> int | None:
    """The index in `layers` of the longest name covering `module`; None when none does."""
    covering = [
        (len(name), index)
        for index, (_, names) in enumerate(layers)
        for name in names
        if module == name or module.startswith(name + ".")
    ]
    return max(covering)[1] if covering else None


def edge_of(module: str) -> str | None:
    return next((name for name in EDGES if module == name or module.startswith(name + ".")), None)


def across_edges(importer: str, imported: str) -> bool:
    """Two different edges (the API and the admin, say): they are independent of each other."""
    ours, theirs = edge_of(importer), edge_of(imported)
    return ours is not None and theirs is not None and ours != theirs


def upward(graph: dict[str, set[str]]) -> Iterator[tuple[str, str]]:
    """Imports of a higher layer, and between two different edges."""
    for importer, targets in graph.items():
        for imported in targets:
            low, high = layer_of(importer), layer_of(imported)
            if low is None or high is None or high == ANYWHERE:
                continue
            if high < low or across_edges(importer, imported):
                yield importer, imported


def test_the_layer_table_reads_the_longest_name():
    assert LAYERS[layer_of("workflows.runtime")][0] == "runtime"
    assert LAYERS[layer_of("workflows.runtime.recorder")][0] == "runtime"
    assert LAYERS[layer_of("workflows.api.urls")][0] == "edges"
    assert layer_of("workflows.apiary") is None
    table = [("high", ("a",)), ("low", ("a.b",))]
    assert [layer_of(name, table) for name in ("a", "a.c", "a.b", "a.b.c")] == [0, 0, 1, 1]


def test_the_scan_sees_the_django_side():
    graph = django_side()
    assert "workflows.api.base" in graph["workflows.api.runs"]  # from workflows.api.base import
    assert "workflows.selectors" in graph["workflows.api.runs"]  # from workflows import selectors
    assert "workflows.selectors" in graph["workflows.live"]  # imported inside a function
    assert "workflows.realtime.routing" in graph["switchyard.asgi"]


def test_every_module_has_a_layer():
    # Outside the layering: the app package itself and Django's generated migrations.
    unplaced = [
        module
        for module in django_side()
        if layer_of(module) is None
        and module != "workflows"
        and not (module + ".").startswith("workflows.migrations.")
    ]
    assert unplaced == [], "add each to LAYERS (docs/architecture.md says where things go)"


def test_layers_import_only_their_own_and_those_below():
    graph = django_side()
    for importer, imported in KNOWN:
        assert imported in graph.get(importer, ()), f"{importer} -> {imported}: remove from KNOWN"
    assert sorted(set(upward(graph)) - KNOWN) == []


def test_an_import_upward_or_across_edges_is_caught():
    graph = {
        "workflows.models": {"workflows.services"},
        "workflows.api.runs": {"workflows.realtime.consumers", "workflows.control"},
        "workflows.errors": {"workflows.models", "workflows.conf"},
        "workflows.runtime.drive": {"workflows.live", "workflows.dispatch", "workflows.parsing"},
    }
    assert sorted(upward(graph)) == [
        ("workflows.api.runs", "workflows.realtime.consumers"),
        ("workflows.errors", "workflows.models"),
        ("workflows.models", "workflows.services"),
    ]


def test_django_side_modules_import_each_other_without_circles():
    graph = django_side()
    for importer, imported in KNOWN_CIRCLES:
        assert imported in graph[importer], f"{importer} -> {imported}: remove from KNOWN_CIRCLES"
        graph[importer] = graph[importer] - {imported}
    assert circles(graph) == []


def test_the_edges_and_observability_stay_short():
    """What issue 14's split of the edges and of observability owns."""
    long = [
        entry
        for name, path in package_modules("workflows").items()
        if edge_of(name) or name.startswith("workflows.observability")
        for entry in long_definitions(name, path, MAX_MODULE_LINES, MAX_FUNCTION_LINES)
    ]
    assert long == [], f"over {MAX_MODULE_LINES} / {MAX_FUNCTION_LINES} lines"
