"""Annotators flag items for reviewers; reviewers list and resolve the flags (both databases)."""

from __future__ import annotations

import uuid

import pytest

from tests.app.factories import add_items, make_project, make_user
from tests.conftest import csrf_token_from, login


def _flag(client, item_id: int, who, **body):
    payload = {"reason": "unclear_guideline", "client_id": str(uuid.uuid4()), **body}
    return client.post(f"/api/items/{item_id}/flags", json=payload, headers=who.headers)


@pytest.mark.slow
def test_an_annotator_flags_an_item_the_queue_gave_them(client, sessions, tmp_path) -> None:
    pid = make_project(sessions, "p", ("ham", "spam"))
    items = add_items(sessions, pid, ["one", "two"], tmp_path)
    ann = make_user(sessions, "ann", "annotator", (pid,))
    sid = make_user(sessions, "sid", "sme", (pid,))
    claim = client.post(f"/api/projects/{pid}/next", headers=ann.headers).get_json()
    held = claim["item"]["id"]
    other = next(i for i in items if i != held)
    assert _flag(client, other, ann).status_code == 403  # never given to her
    body = {"reason": "broken_item", "comment": "the text is cut off", "client_id": "f-1"}
    first = client.post(f"/api/items/{held}/flags", json=body, headers=ann.headers)
    again = client.post(f"/api/items/{held}/flags", json=body, headers=ann.headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()["id"] == first.get_json()["id"]  # a retry stores one flag
    # The flag does not answer the item: it is still hers to label.
    label = {"labels": ["ham"], "client_id": str(uuid.uuid4())}
    assert (
        client.post(f"/api/items/{held}/annotations", json=label, headers=ann.headers).status_code
        == 201
    )
    bad = _flag(client, held, ann, reason="boring")
    assert bad.status_code == 400 and "reason" in bad.get_json()["error"]["message"]
    # Reviewers list the open flags; annotators may not.
    listed = client.get(f"/api/projects/{pid}/flags", headers=sid.headers).get_json()
    assert listed["total"] == 1
    row = listed["flags"][0]
    assert (row["item_id"], row["reason"], row["comment"], row["username"]) == (
        held,
        "broken_item",
        "the text is cut off",
        "ann",
    )
    assert client.get(f"/api/projects/{pid}/flags", headers=ann.headers).status_code == 403
    # Resolving closes it, with what was done; the full list keeps it.
    done = client.post(
        f"/api/flags/{row['id']}/resolve", json={"resolution": "item fixed"}, headers=sid.headers
    )
    assert done.status_code == 200 and done.get_json()["resolved_at"]
    assert client.get(f"/api/projects/{pid}/flags", headers=sid.headers).get_json()["total"] == 0
    everything = client.get(f"/api/projects/{pid}/flags?state=all", headers=sid.headers)
    assert everything.get_json()["flags"][0]["resolution"] == "item fixed"
    assert (
        client.post(
            f"/api/flags/{row['id']}/resolve", json={"resolution": "x"}, headers=ann.headers
        ).status_code
        == 403
    )


def test_reviewers_see_and_resolve_flags_on_the_project_page(
    app, client, sessions, tmp_path
) -> None:
    pid = make_project(sessions, "p", ("ham", "spam"))
    add_items(sessions, pid, ["one"], tmp_path)
    ann = make_user(sessions, "ann", "annotator", (pid,))
    sid = make_user(sessions, "sid", "sme", (pid,))
    held = client.post(f"/api/projects/{pid}/next", headers=ann.headers).get_json()["item"]["id"]
    flag = _flag(client, held, ann, comment="is sarcasm ham?").get_json()
    browser = app.test_client()
    login(browser, "ann", ann.password)
    assert "is sarcasm ham?" not in browser.get(f"/projects/{pid}").get_data(as_text=True)
    browser = app.test_client()
    login(browser, "sid", sid.password)
    page = browser.get(f"/projects/{pid}").get_data(as_text=True)
    assert "1 open" in page and "is sarcasm ham?" in page and "The guidelines do not say" in page
    resolved = browser.post(
        f"/projects/{pid}/flags/{flag['id']}/resolve",
        data={"resolution": "guideline v2 says: ham", "csrf_token": csrf_token_from(page)},
    )
    assert resolved.status_code == 302
    page = browser.get(f"/projects/{pid}").get_data(as_text=True)
    assert "0 open" in page and "is sarcasm ham?" not in page


def test_the_admin_overviews_count_open_flags_and_link_to_the_flagged_items(
    app, client, sessions, tmp_path
) -> None:
    pid = make_project(sessions, "p", ("ham", "spam"))
    other = make_project(sessions, "quiet", ("ham", "spam"))
    add_items(sessions, pid, ["one", "two"], tmp_path)
    ann = make_user(sessions, "ann", "annotator", (pid,))
    boss = make_user(sessions, "boss", "admin")
    held = client.post(f"/api/projects/{pid}/next", headers=ann.headers).get_json()["item"]["id"]
    assert _flag(client, held, ann, comment="cut off").status_code == 201
    assert _flag(client, held, ann, reason="offensive").status_code == 201
    browser = app.test_client()
    login(browser, "boss", boss.password)
    link = f'href="/projects/{pid}/review?flagged=true"'
    team = browser.get("/admin").get_data(as_text=True)
    row = team.split('data-project="p"')[1].split("</tr>")[0]
    assert link in row and ">2</a>" in row  # two open flags, linked to the flagged items
    quiet = team.split('data-project="quiet"')[1].split("</tr>")[0]
    assert 'class="num flags">0<' in quiet and "review?flagged" not in quiet
    overview = browser.get(f"/projects/{pid}").get_data(as_text=True)
    stat = overview.split('id="overview-flags"')[1].split("</div></div>")[0]
    assert ">2<" in stat and link in stat
    assert "review the flagged items" not in browser.get(f"/projects/{other}").get_data(
        as_text=True
    )
    listed = browser.get(f"/projects/{pid}/review?flagged=true").get_data(as_text=True)
    assert listed.count('class="review-row') == 1 and "cut off" in listed
