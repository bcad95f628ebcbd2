"""The annotation queue through the JSON API: leases, idempotent submits, skip, undo, overlap."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from labelapp.db import session_scope
from labelapp.models import Annotation, QueueEntry, utcnow
from tests.app.factories import add_items, expire_leases, make_project, make_user


def cid() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def setup(sessions, client, tmp_path):
    project_id = make_project(sessions, "q", ("ham", "spam"), allow_ambiguous=True)
    items = add_items(sessions, project_id, [f"text {i}" for i in range(5)], tmp_path)
    alice = make_user(sessions, "alice", "annotator", (project_id,))
    bob = make_user(sessions, "bob", "annotator", (project_id,))
    return project_id, items, alice, bob


def nxt(client, project_id: int, who):
    return client.post(f"/api/projects/{project_id}/next", headers=who.headers)


def label(client, item_id: int, who, labels=("spam",), client_id=None):
    return client.post(
        f"/api/items/{item_id}/annotations",
        json={"labels": list(labels), "client_id": client_id or cid(), "duration_ms": 1500},
        headers=who.headers,
    )


def test_next_serves_import_order_and_leases(client, setup, sessions) -> None:
    project_id, items, alice, bob = setup
    first = nxt(client, project_id, alice)
    assert first.status_code == 200
    body = first.get_json()
    assert body["item"]["id"] == items[0]
    assert body["item"]["text"] == "text 0"
    assert body["lease_expires_at"]
    with session_scope(sessions) as s:  # the lease is about to run out
        s.execute(
            update(QueueEntry)
            .where(QueueEntry.item_id == items[0])
            .values(lease_expires_at=utcnow() + timedelta(seconds=5))
        )
    # Asking again resumes the same lease (a reloaded page shows the same item) and renews it.
    assert nxt(client, project_id, alice).get_json()["item"]["id"] == items[0]
    with session_scope(sessions) as s:
        entry = s.get(QueueEntry, items[0])
        assert entry.leased_by_id == alice.id
        assert entry.lease_expires_at > utcnow() + timedelta(seconds=60)
    # Someone else gets the next one: a leased item is not handed out twice.
    assert nxt(client, project_id, bob).get_json()["item"]["id"] == items[1]


def test_submit_is_idempotent_and_records_context(client, setup, sessions) -> None:
    project_id, items, alice, _ = setup
    item_id = nxt(client, project_id, alice).get_json()["item"]["id"]
    client_id = cid()
    first = label(client, item_id, alice, client_id=client_id)
    assert first.status_code == 201
    again = label(client, item_id, alice, client_id=client_id)
    assert again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]
    with session_scope(sessions) as session:
        rows = session.scalars(select(Annotation).where(Annotation.item_id == item_id)).all()
        assert len(rows) == 1
        row = rows[0]
        assert (row.user_id, row.labels, row.duration_ms, row.guideline_version) == (
            alice.id,
            ["spam"],
            1500,
            1,
        )
        entry = session.get(QueueEntry, item_id)
        assert entry.remaining == 0 and entry.leased_by_id is None
    # The finished item is not served again; the next one is.
    assert nxt(client, project_id, alice).get_json()["item"]["id"] == items[1]


def test_bad_submits_are_rejected_and_store_nothing(client, setup, sessions) -> None:
    project_id, items, alice, _ = setup
    item_id = nxt(client, project_id, alice).get_json()["item"]["id"]
    unknown = label(client, item_id, alice, labels=("eggs",))
    assert unknown.status_code == 400
    assert "eggs" in unknown.get_json()["error"]["message"]
    two = label(client, item_id, alice, labels=("ham", "spam"))
    assert two.status_code == 400
    no_id = client.post(
        f"/api/items/{item_id}/annotations", json={"labels": ["ham"]}, headers=alice.headers
    )
    assert no_id.status_code == 400 and "client_id" in no_id.get_json()["error"]["message"]
    with session_scope(sessions) as session:
        assert session.scalars(select(Annotation)).all() == []


def test_skip_is_not_served_again_to_the_same_annotator(client, setup) -> None:
    project_id, items, alice, bob = setup
    item_id = nxt(client, project_id, alice).get_json()["item"]["id"]
    skipped = client.post(
        f"/api/items/{item_id}/skip", json={"client_id": cid()}, headers=alice.headers
    )
    assert skipped.status_code == 201
    assert nxt(client, project_id, alice).get_json()["item"]["id"] == items[1]
    # Still needs a label: the next annotator gets it.
    assert nxt(client, project_id, bob).get_json()["item"]["id"] == item_id


def test_undo_retracts_and_gives_the_item_back(client, setup, sessions) -> None:
    project_id, items, alice, _ = setup
    item_id = nxt(client, project_id, alice).get_json()["item"]["id"]
    assert label(client, item_id, alice).status_code == 201
    undone = client.post(
        f"/api/projects/{project_id}/undo", json={"client_id": cid()}, headers=alice.headers
    )
    assert undone.status_code == 200
    assert undone.get_json()["item"]["id"] == item_id
    assert nxt(client, project_id, alice).get_json()["item"]["id"] == item_id
    assert label(client, item_id, alice, labels=("ham",)).status_code == 201
    with session_scope(sessions) as session:
        kinds = session.scalars(
            select(Annotation.kind).where(Annotation.item_id == item_id).order_by(Annotation.id)
        ).all()
        assert kinds == ["label", "retract", "label"]  # history kept, nothing overwritten
        assert session.get(QueueEntry, item_id).remaining == 0
    nothing = client.post(
        f"/api/projects/{project_id}/undo", json={"client_id": cid()}, headers=alice.headers
    )
    assert nothing.status_code == 200  # undoes the relabel in turn


@pytest.mark.slow
def test_expired_lease_returns_and_the_late_submit_is_refused(client, setup, sessions) -> None:
    project_id, items, alice, bob = setup
    item_id = nxt(client, project_id, alice).get_json()["item"]["id"]
    expire_leases(sessions, [item_id])
    assert nxt(client, project_id, bob).get_json()["item"]["id"] == item_id
    late = label(client, item_id, alice)
    assert late.status_code == 409
    assert late.get_json()["error"]["code"] == "lease_lost"
    beat = client.post(f"/api/items/{item_id}/heartbeat", headers=alice.headers)
    assert beat.status_code == 409
    assert client.post(f"/api/items/{item_id}/heartbeat", headers=bob.headers).status_code == 200
    assert label(client, item_id, bob).status_code == 201


def test_expired_lease_nobody_took_still_accepts_the_label(client, setup, sessions) -> None:
    project_id, items, alice, _ = setup
    item_id = nxt(client, project_id, alice).get_json()["item"]["id"]
    expire_leases(sessions, [item_id])
    assert label(client, item_id, alice).status_code == 201


@pytest.mark.slow
def test_overlap_needs_distinct_annotators(client, sessions, tmp_path) -> None:
    project_id = make_project(sessions, "k2", ("a", "b"), overlap_k=2)
    items = add_items(sessions, project_id, ["x", "y"], tmp_path)
    people = [make_user(sessions, f"u{i}", "annotator", (project_id,)) for i in range(3)]
    seen: dict[int, list[int]] = {i: [] for i in items}
    for person in people:
        while (res := nxt(client, project_id, person)).status_code == 200:
            item_id = res.get_json()["item"]["id"]
            assert label(client, item_id, person, labels=("a",)).status_code == 201
            seen[item_id].append(person.id)
    assert all(len(v) == 2 == len(set(v)) for v in seen.values())
    assert nxt(client, project_id, people[0]).status_code == 204


def test_annotations_listing_is_paginated_and_members_only(client, setup, sessions) -> None:
    project_id, items, alice, _ = setup
    for _ in range(3):
        item_id = nxt(client, project_id, alice).get_json()["item"]["id"]
        label(client, item_id, alice)
    page = client.get(
        f"/api/projects/{project_id}/annotations?limit=2", headers=alice.headers
    ).get_json()
    assert page["total"] == 3 and len(page["annotations"]) == 2
    assert page["annotations"][0]["username"] == "alice"
    outsider = make_user(sessions, "mallory", "annotator")
    for method, url in [
        ("get", f"/api/projects/{project_id}/annotations"),
        ("post", f"/api/projects/{project_id}/next"),
        ("post", f"/api/items/{items[4]}/annotations"),
        ("post", f"/api/items/{items[4]}/skip"),
        ("post", f"/api/items/{items[4]}/heartbeat"),
        ("get", f"/api/projects/{project_id}/progress"),
    ]:
        res = getattr(client, method)(
            url, json={"labels": ["ham"], "client_id": cid()}, headers=outsider.headers
        )
        assert res.status_code == 404, url
    progress = client.get(f"/api/projects/{project_id}/progress", headers=alice.headers).get_json()
    assert progress["done_today"] == 3 and progress["left_in_queue"] == 2


def test_a_claim_reads_the_annotators_membership_once(setup, client, app):
    """The claim's project lookup reads the caller's membership; choosing the metadata they may
    see must not read it again (one round trip on every item an annotator sees)."""
    from sqlalchemy import event

    project_id, _items, alice, _bob = setup
    engine = app.extensions["labelapp.engine"]
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        response = nxt(client, project_id, alice)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert response.status_code == 200
    assert "meta" in response.get_json()["item"]
    reads = [s for s in statements if "memberships" in s and s.startswith("SELECT")]
    assert len(reads) == 1, reads
