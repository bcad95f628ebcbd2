"""Earlier answers: listed newest first, searchable, changed by appending; progress counts."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from labelapp.db import session_scope
from labelapp.models import Annotation
from tests.app.factories import add_items, make_project, make_user

TEXTS = ["Cool video", "Subscribe to my channel", "nice song", "Check my channel out", "meh"]


def cid() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def world(sessions, tmp_path):
    project_id = make_project(sessions, "history", ("ham", "spam"), overlap_k=2)
    items = add_items(sessions, project_id, TEXTS, tmp_path)
    alice = make_user(sessions, "alice", "annotator", (project_id,))
    bob = make_user(sessions, "bob", "annotator", (project_id,))
    return project_id, items, alice, bob


def answer(client, who, project_id: int, labels=("ham",), kind: str = "annotations") -> int:
    claim = client.post(f"/api/projects/{project_id}/next", headers=who.headers).get_json()
    item_id = claim["item"]["id"]
    res = client.post(
        f"/api/items/{item_id}/{kind}",
        headers=who.headers,
        json={"labels": list(labels), "client_id": cid(), "duration_ms": 3000},
    )
    assert res.status_code == 201, res.get_json()
    return item_id


def test_my_answers_list_search_and_change(client, world, sessions) -> None:
    project_id, items, alice, bob = world
    answer(client, alice, project_id, ["ham"])  # Cool video
    answer(client, alice, project_id, ["spam"])  # Subscribe to my channel
    answer(client, alice, project_id, kind="skip")  # nice song
    answer(client, alice, project_id, ["spam"])  # Check my channel out
    answer(client, bob, project_id, ["spam"])  # bob's answers are not alice's
    undo = client.post(
        f"/api/projects/{project_id}/undo", headers=alice.headers, json={"client_id": cid()}
    )
    assert undo.get_json()["item"]["text"] == "Check my channel out"

    url = f"/api/projects/{project_id}/my-answers"
    page = client.get(url, headers=alice.headers).get_json()
    # Newest first; the undone answer is not listed; skips are.
    assert page["total"] == 3
    assert [
        (a["item"]["text"], a["annotation"]["kind"], a["annotation"]["labels"])
        for a in page["answers"]
    ] == [
        ("nice song", "skip", []),
        ("Subscribe to my channel", "label", ["spam"]),
        ("Cool video", "label", ["ham"]),
    ]
    found = client.get(f"{url}?q=CHANNEL", headers=alice.headers).get_json()
    assert [a["item"]["text"] for a in found["answers"]] == ["Subscribe to my channel"]
    by_label = client.get(f"{url}?label=ham", headers=alice.headers).get_json()
    assert [a["item"]["text"] for a in by_label["answers"]] == ["Cool video"]
    assert (
        client.get(f"{url}?q=%25", headers=alice.headers).get_json()["total"] == 0
    )  # LIKE escaped
    paged = client.get(f"{url}?limit=1&offset=1", headers=alice.headers).get_json()
    assert paged["total"] == 3 and len(paged["answers"]) == 1

    # Change the answer on "Cool video" (the item is finished for alice: no lease needed).
    cool = items[0]
    changed = client.post(
        f"/api/items/{cool}/annotations",
        headers=alice.headers,
        json={"labels": ["spam"], "client_id": cid(), "note": "changed"},
    )
    assert changed.status_code == 201
    page = client.get(url, headers=alice.headers).get_json()
    assert page["total"] == 3
    assert (page["answers"][0]["item"]["id"], page["answers"][0]["annotation"]["labels"]) == (
        cool,
        ["spam"],
    )
    # Appended, never overwritten.
    with session_scope(sessions) as session:
        rows = session.execute(
            select(Annotation.kind, Annotation.labels)
            .where(Annotation.item_id == cool, Annotation.user_id == alice.id)
            .order_by(Annotation.id)
        ).all()
    assert [(k, list(v)) for k, v in rows] == [("label", ["ham"]), ("label", ["spam"])]
    # A skip can be changed into a label too.
    song = items[2]
    assert (
        client.post(
            f"/api/items/{song}/annotations",
            headers=alice.headers,
            json={"labels": ["ham"], "client_id": cid()},
        ).status_code
        == 201
    )
    kinds = {
        a["item"]["id"]: a["annotation"]["kind"]
        for a in client.get(url, headers=alice.headers).get_json()["answers"]
    }
    assert kinds[song] == "label"


def test_progress_counts_are_the_annotators_and_the_projects(client, world) -> None:
    project_id, items, alice, bob = world
    url = f"/api/projects/{project_id}/progress"
    start = client.get(url, headers=alice.headers).get_json()
    # 5 items x 2 annotators each.
    assert start["left_in_queue"] == 10 and start["labels_needed_total"] == 10
    assert start["left_for_me"] == 5 and start["done_total"] == 0 and start["rate_per_hour"] is None
    answer(client, alice, project_id, ["ham"])
    answer(client, alice, project_id, kind="skip")
    after = client.get(url, headers=alice.headers).get_json()
    # Counted within one answer: no delay, no cache.
    assert after["done_today"] == 1 and after["answered_today"] == 2 and after["done_total"] == 1
    assert after["left_for_me"] == 3 and after["left_in_queue"] == 9
    assert after["seconds_on_items_today"] == 6.0 and after["rate_per_hour"] == 1200.0
    # Bob answers the two alice did, then holds one she could still get: counted as such.
    answer(client, bob, project_id, ["ham"])
    answer(client, bob, project_id, ["ham"])
    client.post(f"/api/projects/{project_id}/next", headers=bob.headers)
    held = client.get(url, headers=alice.headers).get_json()
    assert held["held_by_others"] == 1 and held["left_for_me"] == 3 and held["leased_now"] == 1
    assert held["left_in_queue"] == 7 and held["done_total"] == 1
    # Bob's view of the same project: his own counts, the project's the same.
    bobs = client.get(url, headers=bob.headers).get_json()
    assert bobs["done_total"] == 2 and bobs["left_for_me"] == 3 and bobs["left_in_queue"] == 7
    assert bobs["held_by_others"] == 0
