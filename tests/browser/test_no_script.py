"""No user-written text runs script: the probe's payloads go into every field a user writes
(project name and description, labels, guidelines, item text and metadata, LF names and
descriptions, notes and adjudication reasons, display names, file names), then every page that
shows them is opened in real Chromium and every link is clicked.

A payload that ran would set ``window.__xss``; one that reached the page as markup would also be
reported by the Content-Security-Policy (``securitypolicyviolation``). Both must stay empty.
"""

from __future__ import annotations

import csv
import uuid

from sqlalchemy import select

from labelapp.db import session_scope
from labelapp.models import Item, Project, User
from labelapp.services.imports import ImportOptions, import_path
from labelapp.services.projects import create_project
from tests.app.factories import make_user
from tests.browser.conftest import log_in, shot

RUN = "window.__xss=(window.__xss||0)+1"
PAYLOADS = [
    f"<script>{RUN}</script>",
    f'<img src=x onerror="{RUN}">',
    f'"><svg onload="{RUN}">',
    f"[click me](javascript:{RUN})",
    f"[click me too](JaVaScRiPt:{RUN})",
    f'<a href="javascript:{RUN}">click html</a>',
    f"' onmouseover='{RUN}' x='",
]
ALL = " ".join(PAYLOADS)

WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI));
"""


def _payload_csv(path, prefix: str, meta: str):
    """A CSV whose items' text and one metadata column are the payloads."""
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "text", meta])
        for i, payload in enumerate(PAYLOADS):
            writer.writerow([f"{prefix}{i}", payload, payload])
    return path


def _plant(client, sessions, tmp_path) -> tuple[int, list[User]]:
    with session_scope(sessions) as session:
        project = create_project(
            session,
            f"p {PAYLOADS[1]}"[:120],
            ["ham", "spam <b>x</b>"],
            allow_ambiguous=True,
            description=ALL,
            guidelines="\n\n".join(PAYLOADS),
            overlap_k=2,
        )
        pid = project.id
    path = _payload_csv(tmp_path / "x<img src=x onerror=alert(1)>.csv", "i", "note")
    with session_scope(sessions) as session:
        import_path(session, session.get(Project, pid), path, ImportOptions(text_col="text"))
    sme = make_user(sessions, "sid", "sme", (pid,))
    people = [make_user(sessions, n, "annotator", (pid,)) for n in ("ann", "bob", "cat")]
    with session_scope(sessions) as session:
        for user in session.scalars(select(User)):
            user.display_name = PAYLOADS[2]
        item_ids = list(session.scalars(select(Item.id).where(Item.project_id == pid)))
    for item_id in item_ids:  # two annotators disagree with notes: adjudication shows them
        for person, label in zip(people[:2], ("ham", "spam <b>x</b>"), strict=True):
            res = client.post(
                f"/api/items/{item_id}/annotations",
                headers=person.headers,
                json={"labels": [label], "client_id": str(uuid.uuid4()), "note": ALL},
            )
            assert res.status_code == 201, res.get_json()
    more = _payload_csv(tmp_path / "more.csv", "j", "source")  # fresh items to label
    with session_scope(sessions) as session:
        import_path(
            session,
            session.get(Project, pid),
            more,
            ImportOptions(text_col="text", schema="evolve"),
        )  # other columns: evolve
    lf = {
        "name": "kw_x",
        "kind": "keyword",
        "keywords": [PAYLOADS[1]],
        "label": "ham",
        "description": ALL,
    }
    assert client.post(f"/api/projects/{pid}/lfs", json=lf, headers=sme.headers).status_code in (
        200,
        201,
    )
    return pid, [sme, *people]


def _check(page, what: str) -> None:
    page.wait_for_timeout(150)
    ran = page.evaluate("window.__xss || 0")
    violations = page.evaluate("window.__csp || []")
    assert ran == 0, f"{what}: a payload ran"
    assert violations == [], f"{what}: markup reached the page: {violations}"


def _visit(page, url: str, what: str) -> None:
    page.goto(url)
    _check(page, what)
    links = page.locator("main a")
    for i in range(links.count()):
        link = links.nth(i)
        if link.is_visible() and "click" in (link.inner_text() or ""):
            link.click(timeout=2000)
            _check(page, f"{what}, after clicking {link.inner_text()!r}")
    for el in page.locator("main [title]").all()[:20]:
        if el.is_visible():
            el.hover(timeout=2000)
    _check(page, f"{what}, after hovering")


def test_no_payload_runs_anywhere(browser, live_server, client, sessions, tmp_path) -> None:
    pid, (sme, ann, _, cat) = _plant(client, sessions, tmp_path)
    admin = make_user(sessions, "root", "admin")
    for who, pages in (
        (ann, ["/", f"/projects/{pid}", f"/projects/{pid}/label"]),
        (cat, []),
        (
            sme,
            [
                f"/projects/{pid}",
                f"/projects/{pid}/adjudicate",
                f"/projects/{pid}/lfs",
                f"/projects/{pid}/export",
            ],
        ),
        (admin, ["/", f"/projects/{pid}", f"/projects/{pid}/agreement"]),
    ):
        context = browser.new_context(viewport={"width": 1366, "height": 860})
        context.add_init_script(WATCH)
        page = context.new_page()
        page.set_default_timeout(10_000)
        log_in(page, live_server, who.username, who.password)
        for path in pages:
            _visit(page, live_server + path, f"{who.username} on {path}")
        if who is cat:  # the labeling page draws item text and metadata, and the guidelines
            page.goto(f"{live_server}/projects/{pid}/label")
            page.wait_for_selector("#item-body .item-text")
            _check(page, "the labeling page with an item")
            page.keyboard.press("g")
            for link in page.locator("#guidelines a").all():
                link.click(timeout=2000)
                _check(page, f"the guidelines drawer, after clicking {link.inner_text()!r}")
            shot(page, "no-script-labeling")
            body = page.locator("body").inner_text()
            assert "onerror" in body  # the payloads are shown as text, not dropped silently
        if who is sme:
            page.goto(f"{live_server}/projects/{pid}/adjudicate")
            page.wait_for_timeout(500)
            _check(page, "adjudication after its items loaded")
        context.close()
