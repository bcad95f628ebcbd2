"""Overlap for items already imported: an admin previews how many items a new overlap would queue
for more answers, saves it with "apply to existing items", and the queue then serves those items
to a second and third annotator; items already answered count their answers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from labelapp.db import session_scope
from labelapp.models import Item, Project, QueueEntry
from labelapp.services.imports import import_path
from tests.app.factories import make_project, make_user
from tests.app.test_overlap_gold import label_all
from tests.conftest import csrf_token_from, login


def _project(sessions, tmp_path) -> int:
    project_id = make_project(sessions, "existing", ("ham", "spam"))
    path = tmp_path / "items.csv"
    path.write_text("id,text\n" + "".join(f"i{i},text number {i}\n" for i in range(40)))
    with session_scope(sessions) as session:
        import_path(session, session.get(Project, project_id), path)  # overlap 1 at import
    return project_id


def _remaining(sessions, project_id: int) -> dict[int, int]:
    with session_scope(sessions) as session:
        return dict(
            session.execute(
                select(QueueEntry.item_id, QueueEntry.remaining).where(
                    QueueEntry.project_id == project_id
                )
            ).all()
        )


@pytest.mark.slow
def test_preview_then_apply_queues_existing_items_for_more_answers(
    client, sessions, tmp_path, inline_jobs
) -> None:
    project_id = _project(sessions, tmp_path)
    admin = make_user(sessions, "root", "admin", (project_id,))
    alice = make_user(sessions, "alice", "annotator", (project_id,))
    bob = make_user(sessions, "bob", "annotator", (project_id,))
    first = label_all(client, project_id, alice)[:10]  # alice answers everything once
    assert len(first) == 10 and set(_remaining(sessions, project_id).values()) == {0}

    url = f"/api/projects/{project_id}/overlap/preview"
    plan = client.get(f"{url}?overlap_k=2&overlap_share=1", headers=admin.headers).get_json()
    assert plan == {
        "overlap_k": 2,
        "overlap_share": 1.0,
        "n_items": 40,
        "n_overlap": 40,
        "n_queued": 40,
        "n_answers": 40,
        "n_released": 0,
    }
    half = client.get(f"{url}?overlap_k=3&overlap_share=0.5", headers=admin.headers).get_json()
    assert 8 <= half["n_overlap"] <= 32 and half["n_queued"] == half["n_overlap"]
    assert half["n_answers"] == 2 * half["n_overlap"]  # each had one answer of the three
    bad = client.get(f"{url}?overlap_k=0&overlap_share=0.5", headers=admin.headers)
    assert bad.status_code == 400 and "overlap_k" in bad.get_json()["error"]["message"]
    assert (
        client.get(f"{url}?overlap_k=2&overlap_share=1", headers=alice.headers).status_code == 403
    )
    assert set(_remaining(sessions, project_id).values()) == {0}  # a preview changes nothing

    assert login(client, "root", admin.password).status_code == 302
    token = csrf_token_from(client.get(f"/projects/{project_id}/agreement").get_data(as_text=True))
    saved = client.post(
        f"/projects/{project_id}/agreement/settings",
        follow_redirects=True,
        data={
            "csrf_token": token,
            "overlap_k": "2",
            "overlap_share": "1",
            "gold_rate": "0",
            "apply_existing": "1",
        },
    )
    assert "40 items already imported were queued for 40 more answers" in saved.get_data(
        as_text=True
    )
    assert set(_remaining(sessions, project_id).values()) == {1}
    with session_scope(sessions) as session:
        assert set(session.scalars(select(Item.target_k).where(Item.project_id == project_id))) == {
            2
        }

    served = label_all(client, project_id, bob)  # bob now gets every item for a second answer
    assert len(served) == 40
    assert label_all(client, project_id, alice) == []  # alice never gets an item twice
    assert set(_remaining(sessions, project_id).values()) == {0}

    lower = client.get(f"{url}?overlap_k=1&overlap_share=0", headers=admin.headers).get_json()
    assert lower["n_queued"] == 0 and lower["n_released"] == 0  # answered items stay answered


@pytest.mark.slow
def test_saving_without_the_box_leaves_existing_items_alone(
    client, sessions, tmp_path, inline_jobs
) -> None:
    project_id = _project(sessions, tmp_path)
    admin = make_user(sessions, "root", "admin", (project_id,))
    assert login(client, "root", admin.password).status_code == 302
    token = csrf_token_from(client.get(f"/projects/{project_id}/agreement").get_data(as_text=True))
    saved = client.post(
        f"/projects/{project_id}/agreement/settings",
        follow_redirects=True,
        data={"csrf_token": token, "overlap_k": "3", "overlap_share": "1", "gold_rate": "0"},
    )
    assert "overlap applies to items imported from now on" in saved.get_data(as_text=True)
    assert set(_remaining(sessions, project_id).values()) == {1}
    applied = client.post(f"/api/projects/{project_id}/overlap/apply", headers=admin.headers)
    assert applied.status_code == 200 and applied.get_json()["n_queued"] == 40
    assert set(_remaining(sessions, project_id).values()) == {3}
