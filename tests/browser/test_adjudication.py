"""Adjudicating in real Chromium: an SME decides disputed items with the keyboard; the admins'
agreement page shows the numbers and plots."""

from __future__ import annotations

import uuid
from pathlib import Path

import pandas as pd
from playwright.sync_api import expect
from sqlalchemy import select

import labelapp
from labelapp.db import session_scope
from labelapp.models import Annotation, Item
from tests.app.factories import add_items, make_project, make_user
from tests.browser.conftest import log_in, shot

DEMO_CSV = Path(labelapp.__file__).parent / "demo_data" / "youtube_spam.csv"
NAMES = ("ann", "bob", "cat")


def _comments() -> pd.DataFrame:
    """Twelve real YouTube comments: spam, ham, spam, ham, ..."""
    comments = pd.read_csv(DEMO_CSV).drop_duplicates("CONTENT")
    spam, ham = (comments[comments["CLASS"] == c].head(6) for c in (1, 0))
    return pd.concat([spam.reset_index(drop=True), ham.reset_index(drop=True)]).sort_index(
        kind="stable"
    )


def _labeled_project(client, sessions, tmp_path) -> tuple[int, dict[str, int], dict]:
    """Twelve real YouTube comments, three annotators each; bob errs on 3 items, cat calls one
    ambiguous. Returns the project, external id -> item id, and the truth."""
    frame = _comments()
    truth = ["spam" if c == 1 else "ham" for c in frame["CLASS"]]
    project_id = make_project(
        sessions, "comments", ("ham", "spam"), allow_ambiguous=True, overlap_k=3
    )
    ids = add_items(sessions, project_id, frame["CONTENT"].tolist(), tmp_path)
    refs = {f"t{i}": item_id for i, item_id in enumerate(ids)}
    with session_scope(sessions) as session:  # the comment's author, as the demo imports it
        for item_id, author in zip(ids, frame["AUTHOR"], strict=True):
            session.get(Item, item_id).meta = {"author": author}
    people = {name: make_user(sessions, name, "annotator", (project_id,)) for name in NAMES}
    flip = {"spam": "ham", "ham": "spam"}
    for i, item_id in enumerate(ids):
        answers = {
            "ann": truth[i],
            "bob": flip[truth[i]] if i in (1, 4, 7) else truth[i],
            "cat": "ambiguous" if i == 10 else truth[i],
        }
        for name, label in answers.items():
            res = client.post(
                f"/api/items/{item_id}/annotations",
                json={"labels": [label], "client_id": str(uuid.uuid4())},
                headers=people[name].headers,
            )
            assert res.status_code == 201
    return project_id, refs, dict(zip(refs, truth, strict=True))


def test_sme_adjudicates_with_the_keyboard(page, live_server, client, sessions, tmp_path) -> None:
    project_id, refs, truth = _labeled_project(client, sessions, tmp_path)
    sme = make_user(sessions, "sid", "sme", (project_id,))
    admin = make_user(sessions, "root", "admin")

    # The backlog comes from the agreement report, which a worker computes: wait for it.
    backlog = client.get(f"/api/projects/{project_id}/adjudication?wait=120", headers=sme.headers)
    by_id = {item_id: name for name, item_id in refs.items()}
    first, second, third = (by_id[e["item"]["id"]] for e in backlog.get_json()["entries"])
    assert {first, second, third} == {"t1", "t4", "t7"}  # where bob disagrees
    key = {"ham": "1", "spam": "2"}

    log_in(page, live_server, sme.username, sme.password)
    page.goto(f"{live_server}/projects/{project_id}")
    expect(page.locator("#agreement-link")).to_have_count(0)  # the report is for admins
    page.locator("#adjudicate-link").click()
    ref = page.locator("#item-ref")
    expect(ref).to_have_text(f"Item {first}")
    expect(page.locator("#left")).to_have_text("3")
    answers = page.locator("#answers li")
    expect(answers).to_have_count(3)
    expect(answers.filter(has_text="bob")).to_contain_text(
        {"spam": "ham", "ham": "spam"}[truth[first]]
    )
    expect(answers.filter(has_text="ann")).to_contain_text(truth[first])
    expect(page.locator("#suggestion")).to_contain_text("Dawid-Skene suggests")
    # The item as the labeling page shows it (page.js renderItem): text and metadata.
    authors = dict(zip(refs, _comments()["AUTHOR"], strict=True))
    expect(page.locator("#item-meta")).to_contain_text(f"author{authors[first]}")
    shot(page, "adjudicate-item")

    # Choose the final label by its key; the reason box takes the focus; Enter records.
    page.keyboard.press(key[truth[first]])
    expect(page.locator(".label-button.selected")).to_contain_text(truth[first])
    expect(page.locator("#reason")).to_be_focused()
    page.keyboard.type("bob misread it; the guideline calls self-promotion spam")
    shot(page, "adjudicate-reason")
    page.keyboard.press("Enter")
    expect(ref).to_have_text(f"Item {second}")
    expect(page.locator("#done-count")).to_have_text("1")
    expect(page.locator("#left")).to_have_text("2")

    # The next one: "n" leaves it for later, "a" takes the Dawid-Skene suggestion.
    page.keyboard.press("n")
    expect(ref).to_have_text(f"Item {third}")
    page.keyboard.press("a")
    expect(page.locator(".label-button.selected")).to_have_count(1)
    page.locator("#reason").fill("two of three, and ann is reliable")
    page.locator("#submit").click()
    expect(ref).to_have_text(f"Item {second}")  # the item left for later comes back
    page.keyboard.press("Escape")
    page.keyboard.press("Enter")  # no label chosen yet: Enter goes to the reason box
    expect(page.locator("#reason")).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press(key[truth[second]])
    page.keyboard.type("matches the majority")
    page.keyboard.press("Enter")
    expect(page.locator("#done")).to_be_visible()
    for gone in ("#item-card", "#labels", "#decision"):
        expect(page.locator(gone)).to_be_hidden()
    expect(page.locator("#left")).to_have_text("0")
    shot(page, "adjudicate-done")

    with session_scope(sessions) as session:
        rows = session.execute(
            select(Item.external_id, Annotation.labels, Annotation.note, Annotation.source)
            .join(Item, Item.id == Annotation.item_id)
            .where(Annotation.kind == "adjudicate", Annotation.user_id == sme.id)
            .order_by(Annotation.id)
        ).all()
    assert [r[0] for r in rows] == [first, third, second]
    assert rows[0][1:] == (
        [truth[first]],
        "bob misread it; the guideline calls self-promotion spam",
        "adjudication",
    )
    assert rows[1][1] == [backlog.get_json()["entries"][2]["suggestion"]]
    assert rows[2][1] == [truth[second]]

    # The admin's agreement page: numbers, the emptied backlog, plots that load.
    page.goto(f"{live_server}/login")
    page.context.clear_cookies()
    log_in(page, live_server, admin.username, admin.password)
    page.goto(f"{live_server}/projects/{project_id}/agreement")
    expect(page.locator("#stat-backlog")).to_have_text("0")
    expect(page.locator("#stat-ambiguous")).to_have_text("1")
    expect(page.locator("#annotator-table tbody tr")).to_have_count(3)
    expect(page.locator("#model-note")).to_contain_text("not stored")
    for img in page.locator("img.plot").all():
        expect(img).to_have_js_property("complete", True)
        assert img.evaluate("i => i.naturalWidth") > 100
    shot(page, "agreement-page")
