"""Projects run from the API (issue 17): members, archive and delete, label sets, the columns
annotators see, and counts that agree; on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from labelapp.db import session_scope
from labelapp.models import (
    Annotation,
    Item,
    Job,
    LabelChange,
    LabelingFunction,
    Project,
    QueueEntry,
)
from tests.app.factories import add_items, api_import, make_project, make_user
from tests.conftest import csrf_token_from, login


def _answer(client, headers: dict, project_id: int, label: str) -> dict:
    claim = client.post(f"/api/projects/{project_id}/next", headers=headers).get_json()
    sent = client.post(
        f"/api/items/{claim['item']['id']}/annotations",
        headers=headers,
        json={"labels": [label], "client_id": str(uuid.uuid4())},
    )
    assert sent.status_code in (200, 201), sent.get_json()
    return claim


def test_members_added_with_a_role_and_removed_keeping_answers(app, sessions, tmp_path) -> None:
    pid = make_project(sessions, "tickets", ("bug", "feature"))
    add_items(sessions, pid, ["crash on save", "dark mode please", "typo"], tmp_path)
    root = make_user(sessions, "root", "admin")
    ann = make_user(sessions, "ann", "annotator")
    sam = make_user(sessions, "sam", "sme", (pid,))
    api = app.test_client()
    assert api.get(f"/api/projects/{pid}", headers=ann.headers).status_code == 404
    added = api.post(f"/api/projects/{pid}/members", headers=root.headers, json={"username": "ann"})
    assert added.status_code == 201
    _answer(api, ann.headers, pid, "bug")
    leased = api.post(f"/api/projects/{pid}/next", headers=ann.headers).get_json()["item"]["id"]
    members = api.get(f"/api/projects/{pid}/members", headers=sam.headers).get_json()
    assert {m["username"]: m["role"] for m in members["members"]} == {
        "ann": "annotator",
        "sam": "sme",
    }
    # The project's smes may manage members only when the project allows it.
    assert (
        api.delete(f"/api/projects/{pid}/members/{ann.id}", headers=sam.headers).status_code == 403
    )
    api.patch(f"/api/projects/{pid}/team", headers=root.headers, json={"sme_manages_members": True})
    removed = api.delete(f"/api/projects/{pid}/members/{ann.id}", headers=sam.headers).get_json()
    assert removed == {"project_id": pid, "username": "ann", "leases_released": 1}
    with session_scope(sessions) as session:
        entry = session.get(QueueEntry, leased)
        assert entry.leased_by_id is None
        assert session.scalar(select(func.count()).where(Annotation.user_id == ann.id)) == 1
    assert api.get(f"/api/projects/{pid}", headers=ann.headers).status_code == 404
    # An sme cannot promote anyone; an admin can, with the role.
    assert (
        api.post(
            f"/api/projects/{pid}/members",
            headers=sam.headers,
            json={"username": "ann", "role": "sme"},
        ).status_code
        == 403
    )
    promoted = api.post(
        f"/api/projects/{pid}/members",
        headers=root.headers,
        json={"username": "ann", "role": "sme"},
    )
    assert promoted.get_json()["user"]["role"] == "sme"


@pytest.mark.slow
def test_archive_hides_from_annotators_and_is_read_only(app, sessions, tmp_path) -> None:
    pid = make_project(sessions, "old", ("bug", "feature"))
    add_items(sessions, pid, ["a", "b"], tmp_path)
    root = make_user(sessions, "root", "admin")
    ann = make_user(sessions, "ann", "annotator", (pid,))
    sam = make_user(sessions, "sam", "sme", (pid,))
    api = app.test_client()
    archived = api.post(
        f"/api/projects/{pid}/archive", headers=root.headers, json={"archived": True}
    )
    assert archived.get_json()["archived"] is True
    assert api.get("/api/projects", headers=ann.headers).get_json()["projects"] == []
    assert api.get(f"/api/projects/{pid}", headers=ann.headers).status_code == 404
    assert api.post(f"/api/projects/{pid}/next", headers=ann.headers).status_code == 404
    assert api.get(f"/api/projects/{pid}", headers=sam.headers).status_code == 200
    refused = api.post(f"/api/projects/{pid}/guidelines", headers=sam.headers, json={"body": "x"})
    assert refused.status_code == 409 and "archived" in refused.get_json()["error"]["message"]
    exported = api.post(f"/api/projects/{pid}/exports", headers=sam.headers, json={"format": "csv"})
    assert exported.status_code != 409
    api.post(f"/api/projects/{pid}/archive", headers=root.headers, json={"archived": False})
    assert api.post(f"/api/projects/{pid}/next", headers=ann.headers).status_code == 200


def test_delete_needs_the_name_and_no_running_job(app, sessions, tmp_path) -> None:
    pid = make_project(sessions, "scratch", ("bug", "feature"))
    keep = make_project(sessions, "keep", ("bug", "feature"))
    add_items(sessions, pid, ["a", "b", "c"], tmp_path)
    add_items(sessions, keep, ["x"], tmp_path)
    root = make_user(sessions, "root", "admin")
    ann = make_user(sessions, "ann", "annotator", (pid, keep))
    api = app.test_client()
    _answer(api, ann.headers, pid, "bug")
    wrong = api.post(
        f"/api/projects/{pid}/delete", headers=root.headers, json={"confirm": "scratc"}
    )
    assert (
        wrong.status_code == 400
        and "type the project's name" in wrong.get_json()["error"]["message"]
    )
    with session_scope(sessions) as session:
        session.add(Job(project_id=pid, kind="retrain", status="running"))
    busy = api.post(
        f"/api/projects/{pid}/delete", headers=root.headers, json={"confirm": "scratch"}
    )
    assert busy.status_code == 409 and "running" in busy.get_json()["error"]["message"]
    with session_scope(sessions) as session:
        session.query(Job).filter(Job.project_id == pid).update({"status": "done"})
    from labelapp.services.export import exports_dir

    written = exports_dir(pid) / "v1"
    written.mkdir(parents=True)
    (written / "train.csv").write_text("id,text\n")
    done = api.post(
        f"/api/projects/{pid}/delete", headers=root.headers, json={"confirm": "scratch"}
    )
    assert done.status_code == 200, done.get_json()
    assert not exports_dir(pid).exists() and done.get_json()["files"] >= 1
    rows = done.get_json()["rows"]
    assert rows["items"] == 3 and rows["annotations"] == 1 and rows["jobs"] == 1
    with session_scope(sessions) as session:
        assert session.get(Project, pid) is None
        assert session.scalar(select(func.count()).where(Item.project_id == pid)) == 0
        assert session.scalar(select(func.count()).where(Item.project_id == keep)) == 1
    assert api.get(f"/api/projects/{keep}", headers=ann.headers).status_code == 200


def test_label_set_rename_retire_merge_and_order(app, sessions, tmp_path) -> None:
    pid = make_project(sessions, "moods", ("pos", "neg", "meh"))
    add_items(sessions, pid, ["good", "bad", "fine", "great"], tmp_path)
    sam = make_user(sessions, "sam", "sme", (pid,))
    ann = make_user(sessions, "ann", "annotator", (pid,))
    api = app.test_client()
    for label in ("pos", "neg", "meh"):
        _answer(api, ann.headers, pid, label)
    url = f"/api/projects/{pid}/labels"
    assert api.get(url, headers=ann.headers).status_code == 403
    renamed = api.post(f"{url}/rename", headers=sam.headers, json={"old": "pos", "new": "positive"})
    assert renamed.get_json()["answers_changed"] == 1
    mine = api.get(f"/api/projects/{pid}/annotations", headers=ann.headers).get_json()[
        "annotations"
    ]
    assert sorted(a["labels"][0] for a in mine) == ["meh", "neg", "positive"]
    clash = api.post(f"{url}/rename", headers=sam.headers, json={"old": "neg", "new": "meh"})
    assert clash.status_code == 409 and "merge" in clash.get_json()["error"]["message"]
    preview = api.post(f"{url}/merge", headers=sam.headers, json={"source": "meh", "target": "neg"})
    assert preview.get_json()["answers_changed"] == 1
    assert api.get(f"/api/projects/{pid}/annotations", headers=ann.headers).get_json()[
        "annotations"
    ][-1]["labels"] == ["meh"]
    merged = api.post(
        f"{url}/merge",
        headers=sam.headers,
        json={"source": "meh", "target": "neg", "preview": False},
    ).get_json()
    assert merged["answers_changed"] == 1
    state = {lab["name"]: lab for lab in merged["labels"]}
    assert state["meh"]["retired"] and state["neg"]["answers"] == 2
    # A retired label is no longer offered: the labeling page and the API refuse it.
    claim = api.post(f"/api/projects/{pid}/next", headers=ann.headers).get_json()
    refused = api.post(
        f"/api/items/{claim['item']['id']}/annotations",
        headers=ann.headers,
        json={"labels": ["meh"], "client_id": str(uuid.uuid4())},
    )
    assert refused.status_code == 400
    browser = app.test_client()
    login(browser, "ann", ann.password)
    assert 'data-label="meh"' not in browser.get(f"/projects/{pid}/label").get_data(as_text=True)
    added = api.post(url, headers=sam.headers, json={"name": "mixed", "hotkey": "x"}).get_json()
    assert [lab["name"] for lab in added["labels"]] == ["positive", "neg", "meh", "mixed"]
    order = [
        {"name": "mixed", "hotkey": "m"},
        {"name": "positive", "hotkey": "p"},
        {"name": "neg", "hotkey": "n"},
        {"name": "meh", "hotkey": "3"},
    ]
    ordered = api.put(f"{url}/order", headers=sam.headers, json={"labels": order}).get_json()
    assert [(lab["name"], lab["hotkey"]) for lab in ordered["labels"]] == [
        (o["name"], o["hotkey"]) for o in order
    ]
    twice = api.put(
        f"{url}/order", headers=sam.headers, json={"labels": [{**o, "hotkey": "z"} for o in order]}
    )
    assert twice.status_code == 400
    kinds = [h["kind"] for h in ordered["history"]]
    assert kinds == ["hotkeys", "add", "merge", "rename"]
    # Python LFs vote by position: a new order is refused while there are any; hotkeys still change.
    with session_scope(sessions) as session:
        session.add(LabelingFunction(project_id=pid, name="lf_py", kind="python", source="x"))
    swapped = [order[1], order[0], *order[2:]]
    refused = api.put(f"{url}/order", headers=sam.headers, json={"labels": swapped})
    assert (
        refused.status_code == 409
        and "Python labeling functions" in refused.get_json()["error"]["message"]
    )
    rekeyed = [{**order[0], "hotkey": "0"}, *order[1:]]
    assert api.put(f"{url}/order", headers=sam.headers, json={"labels": rekeyed}).status_code == 200
    with session_scope(sessions) as session:
        rename = session.scalar(select(LabelChange).where(LabelChange.kind == "rename"))
        assert (rename.old_name, rename.new_name, rename.user_id) == ("pos", "positive", sam.id)


@pytest.mark.slow
def test_annotators_never_see_label_like_columns(app, sessions, tmp_path) -> None:
    pid = make_project(sessions, "reviews", ("positive", "negative"))
    path = tmp_path / "reviews.csv"
    path.write_text(
        "id,text,sentiment,mood,author\n"
        "r1,loved it,positive,negative,kim\nr2,awful,negative,positive,lee\n"
    )
    sam = make_user(sessions, "sam", "sme", (pid,))
    ann = make_user(sessions, "ann", "annotator", (pid,))
    api = app.test_client()
    with path.open("rb") as f:
        assert api_import(api, pid, sam.headers, {"file": (f, "reviews.csv")})["status"] == "done"
    claim = api.post(f"/api/projects/{pid}/next", headers=ann.headers).get_json()
    assert claim["item"]["meta"] == {"author": "kim"}
    again = api.get(f"/api/items/{claim['item']['id']}", headers=ann.headers).get_json()
    assert again["meta"] == {"author": "kim"}
    full = api.get(f"/api/items/{claim['item']['id']}", headers=sam.headers).get_json()
    assert set(full["meta"]) == {"sentiment", "mood", "author"}
    columns = api.get(f"/api/projects/{pid}/columns", headers=sam.headers).get_json()
    assert {c["name"]: c["shown"] for c in columns["columns"]} == {
        "sentiment": False,
        "mood": False,
        "author": True,
    }
    assert api.get(f"/api/projects/{pid}/columns", headers=ann.headers).status_code == 403
    api.put(f"/api/projects/{pid}/columns", headers=sam.headers, json={"columns": ["mood"]})
    assert api.get(f"/api/items/{claim['item']['id']}", headers=ann.headers).get_json()["meta"] == {
        "mood": "negative"
    }


def test_counts_agree_on_every_page(app, sessions, tmp_path) -> None:
    from labelapp.services.counts import project_counts

    pid = make_project(sessions, "counted", ("ham", "spam"))
    add_items(sessions, pid, [f"text {i}" for i in range(5)], tmp_path)
    gold = tmp_path / "gold.csv"
    gold.write_text("id,text,answer\ng1,known one,spam\n")
    root = make_user(sessions, "root", "admin")
    ann = make_user(sessions, "ann", "annotator", (pid,))
    api = app.test_client()
    from labelapp.services.imports import ImportOptions, import_path

    with session_scope(sessions) as session:
        import_path(
            session, session.get(Project, pid), gold, ImportOptions(label_col="answer", gold=True)
        )
    for _ in range(2):
        _answer(api, ann.headers, pid, "ham")
    with session_scope(sessions) as session:
        counts = project_counts(session, [pid])[pid]
    assert (counts.items, counts.to_label, counts.labeled, counts.gold) == (6, 3, 2, 1)
    browser = app.test_client()
    login(browser, "root", root.password)
    listing = browser.get("/").get_data(as_text=True)
    page = browser.get(f"/projects/{pid}").get_data(as_text=True)
    team = browser.get("/admin").get_data(as_text=True)
    for html in (listing, page, team):
        assert ">6<" in html and ">3<" in html and ">2<" in html
    assert csrf_token_from(page)
