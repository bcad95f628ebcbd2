"""A retrained queue never serves near-duplicates back to back, whatever the strategy."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from sqlalchemy import update

from labelapp.db import session_scope
from labelapp.models import Project
from labelapp.services.batch_dedupe import duplicate_groups, spread_groups
from tests.app.factories import add_items, answer_queue, make_project, make_user


def test_groups_link_short_near_duplicates_and_same_content() -> None:
    texts = [
        "Cool",
        "cool",
        "cool cool...",
        "nice song",
        "I love this song",
        "i love this song so much",
    ]
    groups = duplicate_groups(texts, [f"h{i}" for i in range(len(texts))])
    assert groups[0] == groups[1] == groups[2]
    assert groups[4] == groups[5]
    assert len({groups[0], groups[3], groups[4]}) == 3
    # Images (no text): the same content hash is one group.
    assert list(duplicate_groups([None, None, None], ["a", "b", "a"])) == [0, 1, 0]


def test_spread_keeps_the_best_of_each_group_first_and_parts_neighbours() -> None:
    groups = np.array([0, 0, 0, 1, 2, 2, 3])
    perm = spread_groups(groups)
    assert sorted(perm.tolist()) == list(range(7))
    assert perm.tolist()[:4] == [0, 3, 4, 6]  # each group's best, in the given order
    ordered = groups[perm]
    assert all(a != b for a, b in zip(ordered, ordered[1:], strict=False))
    # A single group cannot be spread: the order is kept, nothing is lost.
    assert spread_groups(np.array([5, 5, 5])).tolist() == [0, 1, 2]


SPAMMY = ["Cool", "cool", "cool cool...", "COOL!!", "Cool.", "cool cool cool"]


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["margin", "least_confidence", "random"])
def test_retrained_queue_serves_no_near_duplicates_back_to_back(
    client, sessions, tmp_path, strategy
) -> None:
    from labelapp.services.retrain import retrain_project

    labeled = [f"check out my channel {w} free" for w in ("now", "today", "please", "here")] + [
        f"great song about {w}" for w in ("summer", "love", "rain", "home")
    ]
    pool = SPAMMY + [
        f"the {w} part of this video is great"
        for w in ("best", "worst", "first", "last", "middle", "funny")
    ]
    project_id = make_project(sessions, f"dedupe-{strategy}", ("ham", "spam"))
    add_items(sessions, project_id, labeled + pool, tmp_path)
    with session_scope(sessions) as session:
        session.execute(
            update(Project).where(Project.id == project_id).values(strategy=strategy, batch_size=6)
        )
    ann = make_user(sessions, "ann", "annotator", (project_id,))
    answer_queue(client, project_id, ann, len(labeled), "channel")
    retrain_project(sessions, project_id)

    served = []
    while True:
        res = client.post(f"/api/projects/{project_id}/next", headers=ann.headers)
        if res.status_code == 204:
            break
        claim = res.get_json()
        served.append(claim["item"]["text"])
        assert claim["queued_by"]["strategy"] == strategy
        client.post(
            f"/api/items/{claim['item']['id']}/skip",
            headers=ann.headers,
            json={"client_id": str(uuid.uuid4())},
        )
    assert sorted(served) == sorted(pool)
    # Two groups: the "cool"s and the "the ... part of this video is great"s (word sets alike).
    family = ["cool" if text in SPAMMY else "video" for text in served]
    assert all(a != b for a, b in zip(family, family[1:], strict=False)), served
