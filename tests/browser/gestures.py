"""One helper per user gesture on the canvas; tests read state from data-* attributes."""

from playwright.sync_api import Page


def at(x: int, y: int) -> dict:
    """A node position in a workflow document."""
    return {"x": x, "y": y}


def login(page: Page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("[data-testid=login-submit]")
    page.wait_for_url("**/")


def open_editor(page: Page, workflow_id: int) -> None:
    page.goto(f"/workflows/{workflow_id}/")
    page.wait_for_selector("[data-testid=editor][data-loaded=true]")


def node_ids(page: Page) -> list[str]:
    return page.locator("[data-node-id]").evaluate_all("els => els.map(e => e.dataset.nodeId)")


def node(page: Page, node_id: str):
    return page.locator(f"[data-node-id='{node_id}']")


def drag_node_from_palette(page: Page, node_type: str, x: float, y: float) -> str:
    """Drag a palette entry onto the canvas at (x, y) in page pixels; returns the new node's id."""
    before = set(node_ids(page))
    source = page.locator(f"[data-testid=palette-{node_type}]")
    canvas = page.locator("[data-testid=canvas]")
    box = canvas.bounding_box()
    source.drag_to(canvas, target_position={"x": x - box["x"], "y": y - box["y"]})
    page.wait_for_function(
        "n => document.querySelectorAll('[data-node-id]').length > n", arg=len(before)
    )
    (added,) = set(node_ids(page)) - before
    return added


def handle_center(page: Page, node_id: str, handle: str, kind: str) -> tuple[float, float]:
    selector = f".react-flow__handle.{kind}[data-nodeid='{node_id}'][data-handleid='{handle}']"
    box = page.locator(selector).bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def connect(page: Page, source: str, target: str, handle: str = "out") -> None:
    """Drag from `source`'s output handle to `target`'s input handle."""
    sx, sy = handle_center(page, source, handle, "source")
    tx, ty = handle_center(page, target, "in", "target")
    page.mouse.move(sx, sy)
    page.mouse.down()
    page.mouse.move((sx + tx) / 2, (sy + ty) / 2, steps=8)
    page.mouse.move(tx, ty, steps=8)
    page.mouse.up()


def select_node(page: Page, node_id: str) -> None:
    node(page, node_id).locator(".wf-node-name").click()
    page.wait_for_selector("[data-testid=node-settings]")


def save(page: Page) -> None:
    page.keyboard.press("Control+s")
    wait_saved(page)


def wait_saved(page: Page) -> None:
    page.wait_for_selector("[data-testid=save-indicator][data-state=saved]")


def statuses(page: Page) -> dict[str, str]:
    return dict(
        page.locator("[data-node-id]").evaluate_all(
            "els => els.map(e => [e.dataset.nodeId, e.dataset.status])"
        )
    )


def drag_node_onto(page: Page, node_id: str, target_id: str, dx: float = 0, dy: float = 40) -> None:
    """Drag a canvas node by its title and drop it over `target_id` (a container's body)."""
    grip = node(page, node_id).locator(".wf-node-name").first.bounding_box()
    target = node(page, target_id).bounding_box()
    sx, sy = grip["x"] + grip["width"] / 2, grip["y"] + grip["height"] / 2
    tx, ty = target["x"] + target["width"] / 2 + dx, target["y"] + target["height"] / 2 + dy
    page.mouse.move(sx, sy)
    page.mouse.down()
    page.mouse.move((sx + tx) / 2, (sy + ty) / 2, steps=10)
    page.mouse.move(tx, ty, steps=10)
    page.mouse.up()


def wait_for_run_end(page: Page) -> str:
    page.wait_for_function(
        "() => ['succeeded', 'failed', 'cancelled'].includes("
        "document.querySelector('[data-testid=status-bar]')?.dataset.runStatus)",
        timeout=30_000,
    )
    return page.get_attribute("[data-testid=status-bar]", "data-run-status")
