"""The queue honours overlap on a sampled share of items, and serves gold items at a rate."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from labelapp.db import session_scope
from labelapp.models import Annotation, Item, Project, QueueEntry
from labelapp.services.imports import ImportOptions, import_path
from labelapp.services.projects import update_settings
from tests.app.factories import make_project, make_user, post_answer
from tests.conftest import csrf_token_from, login


def label_all(client, project_id: int, who, answer="spam") -> list[int]:
    served = []
    while (
        res := client.post(f"/api/projects/{project_id}/next", headers=who.headers)
    ).status_code == 200:
        item_id = res.get_json()["item"]["id"]
        post_answer(client, who, item_id, answer)
        served.append(item_id)
    return served


@pytest.mark.slow
def test_overlap_on_a_sampled_share(client, sessions, tmp_path) -> None:
    project_id = make_project(sessions, "share", ("ham", "spam"))
    path = tmp_path / "items.csv"
    path.write_text("id,text\n" + "".join(f"i{i},text number {i}\n" for i in range(60)))
    with session_scope(sessions) as session:
        project = session.get(Project, project_id)
        update_settings(project, {"overlap_k": 3, "overlap_share": 0.5})
        import_path(session, project, path)
    with session_scope(sessions) as session:
        targets = dict(
            session.execute(
                select(Item.id, Item.target_k).where(Item.project_id == project_id)
            ).all()
        )
    shared = {i for i, k in targets.items() if k == 3}
    assert set(targets.values()) == {1, 3}
    assert 15 <= len(shared) <= 45  # about half, chosen by a seeded hash
    people = [make_user(sessions, f"u{i}", "annotator", (project_id,)) for i in range(3)]
    for person in people:
        label_all(client, project_id, person)
    with session_scope(sessions) as session:
        rows = session.execute(
            select(Annotation.item_id, Annotation.user_id).where(
                Annotation.project_id == project_id
            )
        ).all()
    by_item: dict[int, set[int]] = {}
    for item_id, user_id in rows:
        by_item.setdefault(item_id, set()).add(user_id)
    assert {i: len(u) for i, u in by_item.items()} == targets


@pytest.mark.slow
def test_gold_items_reach_every_annotator_and_stay_out_of_the_count(
    client, sessions, tmp_path
) -> None:
    project_id = make_project(sessions, "gold", ("ham", "spam"))
    work = tmp_path / "work.csv"
    work.write_text("id,text\n" + "".join(f"w{i},work item {i}\n" for i in range(5)))
    gold = tmp_path / "gold.csv"
    gold.write_text("id,text,answer\ng1,known spam,spam\ng2,known ham,ham\n")
    with session_scope(sessions) as session:
        project = session.get(Project, project_id)
        update_settings(project, {"gold_rate": 1.0})
        import_path(session, project, work)
        report = import_path(session, project, gold, ImportOptions(label_col="answer", gold=True))
    assert report.gold_items == 2
    with session_scope(sessions) as session:
        gold_ids = set(
            session.scalars(select(QueueEntry.item_id).where(QueueEntry.is_gold.is_(True)))
        )
        assert session.scalar(select(Item.gold_labels).where(Item.external_id == "g1")) == ["spam"]
    alice = make_user(sessions, "alice", "annotator", (project_id,))
    bob = make_user(sessions, "bob", "annotator", (project_id,))
    # Both get the same gold item at once: gold items are not leased away from anyone.
    a = client.post(f"/api/projects/{project_id}/next", headers=alice.headers).get_json()
    b = client.post(f"/api/projects/{project_id}/next", headers=bob.headers).get_json()
    assert a["item"]["id"] == b["item"]["id"] and a["item"]["id"] in gold_ids
    assert "gold" not in str(a["queued_by"])  # annotators cannot tell which answers are checked
    progress = client.get(f"/api/projects/{project_id}/progress", headers=alice.headers).get_json()
    assert progress["left_in_queue"] == 5
    served_a = [a["item"]["id"], *label_all(client, project_id, alice)]
    served_b = [b["item"]["id"], *label_all(client, project_id, bob)]
    assert gold_ids <= set(served_a) and gold_ids <= set(served_b)
    assert len(set(served_a) - gold_ids) == 5  # alice (first) took all work items
    # The project page counts like the queue: gold answers are not work left or labels given.
    # Reviewers see the gold answers apart; annotators are not told there are any.
    lead = make_user(sessions, "lead", "sme", (project_id,))
    login(client, lead.username, lead.password)
    page = client.get(f"/projects/{project_id}").get_data(as_text=True)
    assert re.search(r'>0</div><div class="label">still to label<', page)  # (issue 17's words)
    assert re.search(r'>9</div><div class="label">labels given by annotators', page)  # 7 + 2
    assert "(+ 2 gold answers)" in page
    client.post("/logout", data={"csrf_token": csrf_token_from(page)})
    login(client, alice.username, alice.password)
    page = client.get(f"/projects/{project_id}").get_data(as_text=True)
    assert re.search(r'>9</div><div class="label">labels given by annotators', page)
    assert "gold answers" not in page and "gold.csv" not in page
