"""The review loop over the API and pages: the filtered, sorted list in keyset pages, an item's
history, corrections (appended, top priority everywhere), sending items to adjudication or back
to the labeling queue; on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from labelapp.db import session_scope
from labelapp.models import (
    Annotation,
    Flag,
    LabelCorrection,
    LabelIssue,
    LabelIssueRun,
    ProbLabel,
    Project,
    QueueEntry,
)
from labelapp.services.labels import refresh_item_labels, resolve_labels
from tests.app.factories import add_items, add_labels, make_project, make_user


@pytest.fixture
def world(sessions, tmp_path):
    """20 items: 0-13 answered by ann (spam on even), 10-13 also by bob (ham: 10 and 12 disagree),
    14-15 only a label-model label, the rest nothing; a scan scored 0-13; item 3 is flagged."""
    pid = make_project(sessions, "rev", allow_ambiguous=True)
    ids = add_items(sessions, pid, [f"message {i} with some words" for i in range(20)], tmp_path)
    ann = make_user(sessions, "ann", "annotator", (pid,))
    bob = make_user(sessions, "bob", "annotator", (pid,))
    sme = make_user(sessions, "sam", "sme", (pid,))
    with session_scope(sessions) as session:
        add_labels(session, pid, ann.id, ids[:14], ["spam", "ham"] * 7)
        add_labels(session, pid, bob.id, ids[10:14], ["ham"] * 4)
        for item, conf in ((ids[14], 0.8), (ids[15], 0.6)):
            session.add(
                ProbLabel(
                    project_id=pid,
                    item_id=item,
                    source="label_model",
                    label="spam",
                    confidence=conf,
                    probs=[1 - conf, conf],
                )
            )
        run = LabelIssueRun(project_id=pid, n_scored=14, n_flagged=2)
        session.add(run)
        session.flush()
        for n, item in enumerate(ids[:14]):
            session.add(
                LabelIssue(
                    run_id=run.id,
                    item_id=item,
                    label="spam",
                    suggested="ham",
                    score=n / 20,
                    flagged=n >= 12,
                    reasons=[f"reason {n}"],
                )
            )
        session.add(
            Flag(
                project_id=pid,
                item_id=ids[3],
                user_id=ann.id,
                reason="broken_item",
                comment="cut off",
                client_id="f1",
            )
        )
        session.flush()
        # The rows above bypass the services: refresh the resolved-label table as they would.
        refresh_item_labels(session, session.get(Project, pid))
    return {"pid": pid, "ids": ids, "sme": sme, "ann": ann}


def _list(client, w, query: str = "") -> dict:
    response = client.get(f"/api/projects/{w['pid']}/review?{query}", headers=w["sme"].headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_filters_sorts_and_keyset_pages(client, world) -> None:
    ids = world["ids"]
    everything = _list(client, world, "limit=200")
    assert everything["total"] == 20 and everything["next_after"] is None
    top = everything["items"][0]  # the highest issue score first
    assert (top["item_id"], top["issue"]["score"], top["issue"]["reasons"]) == (
        ids[13],
        0.65,
        ["reason 13"],
    )
    # Keyset pages of 6 walk the same order without gaps or repeats.
    seen, after = [], ""
    while True:
        page = _list(client, world, f"limit=6&after={after}")
        seen += [r["item_id"] for r in page["items"]]
        if not page["next_after"]:
            break
        after = page["next_after"]
    assert seen == [r["item_id"] for r in everything["items"]]
    disagree = _list(client, world, "disagreement=true")
    assert {r["item_id"] for r in disagree["items"]} == {ids[10], ids[12]}
    assert {a["user"] for a in disagree["items"][0]["answers"]} == {"ann", "bob"}
    assert [r["item_id"] for r in _list(client, world, "flagged=true")["items"]] == [ids[3]]
    assert _list(client, world, "flagged=true")["items"][0]["flags"] == [
        {"reason": "broken_item", "comment": "cut off"}
    ]
    weak = _list(client, world, "source=label_model&sort=confidence&order=asc")
    assert [r["item_id"] for r in weak["items"]] == [ids[15], ids[14]]
    assert weak["items"][0]["weak"] == {
        "labels": ["spam"],
        "source": "label_model",
        "confidence": 0.6,
    }
    assert _list(client, world, "min_confidence=0.7&max_confidence=0.9")["total"] == 1
    assert _list(client, world, "min_score=0.6")["total"] == 2
    assert _list(client, world, "annotator=bob")["total"] == 4
    assert _list(client, world, "label=ham&source=human")["total"] == 7
    assert _list(client, world, "unlabeled=true")["total"] == 6  # 4 + 2 ties
    bad = client.get(
        f"/api/projects/{world['pid']}/review?after=nonsense", headers=world["sme"].headers
    )
    assert bad.status_code == 400 and "cursor" in bad.get_json()["error"]["message"]


def test_corrections_are_appended_and_win_everywhere(client, sessions, world) -> None:
    item, sme = world["ids"][0], world["sme"]  # ann said spam
    url = f"/api/items/{item}/corrections"
    refused = client.post(
        url, headers=world["ann"].headers, json={"labels": ["ham"], "reason": "x"}
    )
    assert refused.status_code == 403
    unknown = client.post(url, headers=sme.headers, json={"labels": ["eggs"], "reason": "x"})
    assert unknown.status_code == 400 and "unknown label" in unknown.get_json()["error"]["message"]
    assert (
        client.post(
            url, headers=sme.headers, json={"labels": ["ambiguous"], "reason": "x"}
        ).status_code
        == 400
    )
    first = client.post(url, headers=sme.headers, json={"labels": ["ham"], "reason": "no link"})
    assert first.status_code == 201
    assert (first.get_json()["previous_labels"], first.get_json()["previous_source"]) == (
        ["spam"],
        "human",
    )
    second = client.post(
        url, headers=sme.headers, json={"labels": ["spam"], "reason": "on reflection"}
    )
    assert second.get_json()["previous_source"] == "corrected"
    with session_scope(sessions) as session:
        assert session.scalar(
            select(LabelCorrection.id).where(LabelCorrection.item_id == item).limit(1)
        )
        assert (
            len(
                session.scalars(
                    select(LabelCorrection).where(LabelCorrection.item_id == item)
                ).all()
            )
            == 2
        )
        # An adjudication after the correction does not override it: corrections come first.
        session.add(
            Annotation(
                item_id=item,
                project_id=world["pid"],
                user_id=sme.id,
                kind="adjudicate",
                source="adjudication",
                labels=["ham"],
            )
        )
    with session_scope(sessions) as session:
        resolved = resolve_labels(session, session.get(Project, world["pid"])).labels[item]
    assert resolved == (["spam"], "corrected", 1.0)
    detail = client.get(
        f"/api/projects/{world['pid']}/review/items/{item}", headers=sme.headers
    ).get_json()
    assert (detail["item"]["labels"], detail["item"]["source"]) == (["spam"], "corrected")
    kinds = [e["kind"] for e in detail["history"]]
    assert kinds.count("correction") == 2 and "answer" in kinds and "label-issue scan" in kinds
    corrections = [e for e in detail["history"] if e["kind"] == "correction"]
    assert [c["labels"] for c in corrections] == [["ham"], ["spam"]]  # in order, both kept
    assert (
        "no link" in corrections[0]["detail"] and "was spam from human" in corrections[0]["detail"]
    )


@pytest.mark.slow
def test_send_to_adjudication_and_back_to_the_queue(
    client, sessions, world, tmp_path, inline_jobs
) -> None:
    pid, ids, sme = world["pid"], world["ids"], world["sme"]
    url = f"/api/projects/{pid}/review/actions"
    sent = client.post(
        url,
        headers=sme.headers,
        json={"item_ids": [ids[1], ids[2]], "action": "adjudicate", "reason": "check links"},
    )
    assert sent.status_code == 200 and sent.get_json()["items"] == 2
    backlog = client.get(
        f"/api/projects/{pid}/adjudication?limit=50", headers=sme.headers
    ).get_json()
    entries = {e["item_id"]: e for e in backlog["entries"]}
    assert {ids[1], ids[2]} <= set(entries) and entries[ids[1]]["reason"] == "sent by a reviewer"
    # Corrected since: out of the backlog.
    client.post(
        f"/api/items/{ids[1]}/corrections",
        headers=sme.headers,
        json={"labels": ["ham"], "reason": "ok"},
    )
    backlog = client.get(
        f"/api/projects/{pid}/adjudication?limit=50", headers=sme.headers
    ).get_json()
    assert ids[1] not in {e["item_id"] for e in backlog["entries"]}

    again = client.post(
        url, headers=sme.headers, json={"item_ids": [ids[4]], "action": "requeue", "k": 2}
    )
    assert again.status_code == 200
    with session_scope(sessions) as session:
        assert session.get(QueueEntry, ids[4]).remaining == 2
    other = make_project(sessions, "other")
    foreign = add_items(sessions, other, ["elsewhere"], tmp_path)
    refused = client.post(url, headers=sme.headers, json={"item_ids": foreign, "action": "requeue"})
    assert refused.status_code == 400 and "not in project" in refused.get_json()["error"]["message"]
    assert (
        client.post(
            url, headers=world["ann"].headers, json={"item_ids": [ids[4]], "action": "requeue"}
        ).status_code
        == 403
    )


def test_review_pages_render_for_reviewers(client, world) -> None:
    from tests.conftest import login

    assert login(client, "sam", world["sme"].password).status_code == 302
    page = client.get(f"/projects/{world['pid']}/review?disagreement=true&sort=confidence")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count('class="review-row"') == 2 and "Annotators disagree" in html
    bad = client.get(f"/projects/{world['pid']}/review?min_confidence=7")
    assert bad.status_code == 200 and "filters ignored" in bad.get_data(as_text=True)
    item = client.get(
        f"/projects/{world['pid']}/review/items/{world['ids'][3]}?back=//evil.example"
    )
    text = item.get_data(as_text=True)
    assert item.status_code == 200 and "History" in text and "broken_item: cut off" in text
    assert "evil.example" not in text
