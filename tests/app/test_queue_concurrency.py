"""16 annotators at once through a real HTTP server: nothing labeled twice, nothing lost."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import select

from labelapp.db import session_scope
from labelapp.models import Annotation, QueueEntry
from tests.app.factories import add_items, expire_leases, make_project, make_user

ANNOTATORS = 16


def annotate_until_empty(base: str, project_id: int, token: str, wait: bool = True) -> list[int]:
    """One annotator's loop: next, then label, until the queue has nothing for them."""
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    labeled = []
    while True:
        res = http.post(f"{base}/api/projects/{project_id}/next", timeout=30)
        if res.status_code == 204 and wait and "Retry-After" in res.headers:
            time.sleep(0.05)  # items others hold may still come to us: ask again soon
            continue
        if res.status_code == 204:
            return labeled
        assert res.status_code == 200, res.text
        item_id = res.json()["item"]["id"]
        body = {"labels": ["spam"], "client_id": str(uuid.uuid4())}
        sent = http.post(f"{base}/api/items/{item_id}/annotations", json=body, timeout=30)
        assert sent.status_code == 201, sent.text
        # A network retry of the same submit must not store a second label.
        again = http.post(f"{base}/api/items/{item_id}/annotations", json=body, timeout=30)
        assert again.status_code == 200
        labeled.append(item_id)


def run_team(base: str, project_id: int, tokens: list[str], wait: bool = True) -> list[list[int]]:
    with ThreadPoolExecutor(len(tokens)) as pool:
        return list(pool.map(lambda t: annotate_until_empty(base, project_id, t, wait), tokens))


def stored_labels(sessions, project_id: int) -> dict[int, list[int]]:
    with session_scope(sessions) as session:
        rows = session.execute(
            select(Annotation.item_id, Annotation.user_id).where(
                Annotation.project_id == project_id, Annotation.kind == "label"
            )
        ).all()
    by_item: dict[int, list[int]] = defaultdict(list)
    for item_id, user_id in rows:
        by_item[item_id].append(user_id)
    return by_item


def team(sessions, project_id: int, n: int = ANNOTATORS) -> list:
    return [make_user(sessions, f"a{i}", "annotator", (project_id,)) for i in range(n)]


@pytest.mark.slow
def test_overlap_one_labels_each_item_exactly_once(server, sessions, tmp_path) -> None:
    project_id = make_project(sessions, "k1", ("ham", "spam"))
    items = add_items(sessions, project_id, [f"comment {i}" for i in range(120)], tmp_path)
    people = team(sessions, project_id)
    results = run_team(server, project_id, [p.token for p in people])
    served = Counter(i for r in results for i in r)
    assert sorted(served) == sorted(items)
    assert set(served.values()) == {1}
    by_item = stored_labels(sessions, project_id)
    assert {i: len(u) for i, u in by_item.items()} == dict.fromkeys(items, 1)
    assert sum(1 for r in results if r) > 1  # the work really was shared


@pytest.mark.slow
def test_overlap_three_gives_three_distinct_annotators(server, sessions, tmp_path) -> None:
    project_id = make_project(sessions, "k3", ("ham", "spam"), overlap_k=3)
    items = add_items(sessions, project_id, [f"comment {i}" for i in range(40)], tmp_path)
    people = team(sessions, project_id)
    run_team(server, project_id, [p.token for p in people])
    by_item = stored_labels(sessions, project_id)
    assert sorted(by_item) == sorted(items)
    for users in by_item.values():
        assert len(users) == 3 == len(set(users))
    with session_scope(sessions) as session:
        left = session.scalars(
            select(QueueEntry.remaining).where(QueueEntry.project_id == project_id)
        )
        assert set(left) == {0}


@pytest.mark.slow
def test_abandoned_leases_come_back(server, sessions, tmp_path) -> None:
    project_id = make_project(sessions, "abandon", ("ham", "spam"))
    items = add_items(sessions, project_id, [f"comment {i}" for i in range(50)], tmp_path)
    people = team(sessions, project_id)
    quitters, workers = people[:4], people[4:]
    abandoned = []
    for person in quitters:
        res = requests.post(
            f"{server}/api/projects/{project_id}/next", headers=person.headers, timeout=30
        )
        abandoned.append(res.json()["item"]["id"])
    results = run_team(server, project_id, [p.token for p in workers], wait=False)
    assert not set(abandoned) & {i for r in results for i in r}  # leased: nobody else got them
    expire_leases(sessions, abandoned)  # time passes: the quitters' leases run out
    results = run_team(server, project_id, [p.token for p in workers])
    assert sorted(i for r in results for i in r) == sorted(abandoned)
    assert sorted(stored_labels(sessions, project_id)) == sorted(items)


def test_a_submit_sent_many_times_at_once_stores_one_label(server, sessions, tmp_path) -> None:
    """A double click or a retrying network: 8 copies of one submit arrive together."""
    project_id = make_project(sessions, "burst", ("ham", "spam"))
    add_items(sessions, project_id, ["one", "two"], tmp_path)
    (alice,) = team(sessions, project_id, 1)
    headers = {"Authorization": f"Bearer {alice.token}"}
    item_id = requests.post(
        f"{server}/api/projects/{project_id}/next", headers=headers, timeout=30
    ).json()["item"]["id"]
    body = {"labels": ["ham"], "client_id": str(uuid.uuid4())}
    start = threading.Barrier(8)

    def send(_: int) -> requests.Response:
        start.wait()
        return requests.post(
            f"{server}/api/items/{item_id}/annotations", json=body, headers=headers, timeout=30
        )

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, range(8)))
    assert sorted(a.status_code for a in answers) == [200] * 7 + [201]
    assert len({a.json()["id"] for a in answers}) == 1
    assert stored_labels(sessions, project_id) == {item_id: [alice.id]}
