"""LFs as an SME manages them through the API: a Python LF written in the browser is previewed and
saved through the sandbox (its limits stop a preview, and say so), saving over a name is asked
for, LFs are renamed, deleted (votes gone, history kept) and their versions compared, and the
page marks results stale with what changed since and shows every rate with its count."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from labelapp.db import session_scope
from labelapp.models import LabelingFunction, LabelModelRun, WeakLabel
from tests.app.factories import add_labels, import_rows, lf_page, make_project, make_user

pytestmark = pytest.mark.one_backend  # its subject is not storage (tests/conftest.py)

# "free" hits t0, t2, t4; humans say t0 spam, t2 ham: 3/6 covered, 1 of 2 labeled hits right.
TINY = [
    ("t0", "FREE gift card, click now"),
    ("t1", "great song, love it"),
    ("t2", "free concert in my town was great"),
    ("t3", "check out my channel"),
    ("t4", "get free subscribers"),
    ("t5", "the bridge at 2:10 is amazing"),
]
HUMAN = {"t0": "spam", "t2": "ham", "t1": "ham"}
PY_FREE = """from snorkel.labeling import labeling_function

SPAM = 1
ABSTAIN = -1


@labeling_function()
def py_free(x):
    return SPAM if "free" in x.text.lower() else ABSTAIN
"""
PY_LOOP = """from snorkel.labeling import labeling_function


@labeling_function()
def py_forever(x):
    while True:
        pass
"""


@pytest.fixture
def tiny(sessions, tmp_path) -> dict:
    project_id = make_project(sessions, "tiny", ("ham", "spam"))
    sme = make_user(sessions, "sme", "sme", (project_id,))
    ann = make_user(sessions, "ann", "annotator", (project_id,))
    ids = import_rows(sessions, project_id, tmp_path / "tiny.csv", [("id", "text"), *TINY])
    with session_scope(sessions) as session:
        add_labels(session, project_id, ann.id, [ids[ext] for ext in HUMAN], HUMAN.values())
    return {
        "project": project_id,
        "ids": ids,
        "sme": sme,
        "ann": ann,
        "url": f"/api/projects/{project_id}/lfs",
    }


@pytest.mark.slow
def test_python_lf_is_previewed_and_saved_through_the_sandbox(tiny, client) -> None:
    url, headers = tiny["url"], tiny["sme"].headers
    preview = client.post(f"{url}/python/preview", json={"source": PY_FREE}, headers=headers)
    assert preview.status_code == 200, preview.get_json()
    p = preview.get_json()
    assert p["name"] == "py_free" and p["n_items"] == 6 and p["n_hits"] == 3
    assert p["coverage"]["value"] == 0.5 and p["coverage"]["n"] == 6
    assert p["accuracy"]["value"] == 0.5 and p["accuracy"]["n"] == 2
    assert p["accuracy"]["headline"] is False  # 2 labeled hits: never a headline
    assert 0 < p["accuracy"]["low"] < 0.5 < p["accuracy"]["high"] < 1
    assert [h["external_id"] for h in p["hits"]] == ["t0", "t2", "t4"]
    assert {h["vote"] for h in p["hits"]} == {"spam"}

    saved = client.post(
        f"{url}/python", json={"source": PY_FREE, "description": "free"}, headers=headers
    )
    assert saved.status_code == 201 and saved.get_json()["kind"] == "python"
    assert saved.get_json()["name"] == "py_free" and saved.get_json()["version"] == 1

    changed = PY_FREE.replace('"free"', '"gift"')
    again = client.post(f"{url}/python", json={"source": changed}, headers=headers)
    assert again.status_code == 409
    assert "py_free' exists (version 1, python)" in again.get_json()["error"]["message"]
    v2 = client.post(f"{url}/python", json={"source": changed, "replace": True}, headers=headers)
    assert v2.status_code == 201 and v2.get_json()["version"] == 2

    diff = client.get(
        f"{url}/{v2.get_json()['id']}/compare?other={saved.get_json()['id']}", headers=headers
    ).get_json()
    assert diff["from_version"] == 1 and diff["to_version"] == 2
    assert '-    return SPAM if "free" in x.text.lower() else ABSTAIN' in diff["diff"]
    assert '+    return SPAM if "gift" in x.text.lower() else ABSTAIN' in diff["diff"]

    renamed = client.post(
        f"{url}/{v2.get_json()['id']}/rename", json={"name": "py_gift"}, headers=headers
    )
    assert (
        renamed.status_code == 400
        and "rename the function" in renamed.get_json()["error"]["message"]
    )


@pytest.mark.slow
def test_bad_python_is_refused_with_the_reason(tiny, client) -> None:
    url, headers = tiny["url"], tiny["sme"].headers
    two = PY_FREE + "\n\n@labeling_function()\ndef py_two(x):\n    return -1\n"
    cases = [
        (two, "defines 2 labeling functions (py_free, py_two)"),
        (
            PY_FREE.replace("SPAM = 1", "SPAM = 7"),
            "returned 7: return -1 to abstain or a class index 0-1",
        ),
        ("def broken(:\n", "SyntaxError"),
    ]
    for source, expected in cases:
        res = client.post(f"{url}/python/preview", json={"source": source}, headers=headers)
        assert res.status_code == 400, res.get_json()
        assert expected in res.get_json()["error"]["message"], res.get_json()
    annotator = client.post(
        f"{url}/python/preview", json={"source": PY_FREE}, headers=tiny["ann"].headers
    )
    assert annotator.status_code == 403


@pytest.mark.slow
def test_a_preview_that_hits_the_sandbox_limit_says_so(tiny, client, monkeypatch) -> None:
    monkeypatch.setenv("LABELAPP_LF_CPU_SECONDS", "3")
    monkeypatch.setenv("LABELAPP_LF_WALL_SECONDS", "8")
    res = client.post(
        f"{tiny['url']}/python/preview", json={"source": PY_LOOP}, headers=tiny["sme"].headers
    )
    assert res.status_code == 400
    message = res.get_json()["error"]["message"]
    assert message.startswith("stopped in the sandbox: "), message
    assert "limit (LABELAPP_LF_" in message and "a preview runs at most" in message, message


def test_saving_over_a_name_asks_and_rename_and_delete_keep_history(tiny, client, sessions) -> None:
    url, headers = tiny["url"], tiny["sme"].headers
    spec = {"kind": "keyword", "name": "kw_free", "label": "spam", "keywords": ["free"]}
    first = client.post(url, json=spec, headers=headers).get_json()
    asked = client.post(url, json={**spec, "keywords": ["free", "gift"]}, headers=headers)
    assert asked.status_code == 409
    second = client.post(
        f"{url}?replace=1", json={**spec, "keywords": ["free", "gift"]}, headers=headers
    ).get_json()
    assert second["version"] == 2
    other = client.post(
        url, json={**spec, "name": "kw_song", "label": "ham", "keywords": ["song"]}, headers=headers
    ).get_json()

    taken = client.post(f"{url}/{second['id']}/rename", json={"name": "kw_song"}, headers=headers)
    assert taken.status_code == 409 and "is taken" in taken.get_json()["error"]["message"]
    renamed = client.post(f"{url}/{first['id']}/rename", json={"name": "kw_gift"}, headers=headers)
    assert renamed.status_code == 200 and renamed.get_json()["version"] == 2
    with session_scope(sessions) as session:
        names = session.execute(
            select(LabelingFunction.name, LabelingFunction.version).order_by(LabelingFunction.id)
        ).all()
        assert [tuple(n) for n in names] == [("kw_gift", 1), ("kw_gift", 2), ("kw_song", 1)]
        for item_id in tiny["ids"].values():  # votes of both LFs, as an apply stores them
            session.add(WeakLabel(item_id=item_id, lf_id=second["id"], vote=1))
            session.add(WeakLabel(item_id=item_id, lf_id=other["id"], vote=0))

    gone = client.delete(f"{url}/{second['id']}", headers=headers)
    assert gone.status_code == 200
    assert gone.get_json() == {"name": "kw_gift", "versions": 2, "votes_removed": 6}
    with session_scope(sessions) as session:
        kept = session.scalars(
            select(LabelingFunction).where(LabelingFunction.name == "kw_gift")
        ).all()
        assert len(kept) == 2 and all(r.deleted_at is not None and not r.active for r in kept)
        assert session.scalar(select(func.count()).select_from(WeakLabel)) == 6  # kw_song's
    listing = client.get(url, headers=headers).get_json()
    assert [lf["name"] for lf in listing["lfs"]] == ["kw_song"]
    reborn = client.post(url, json={**spec, "name": "kw_gift"}, headers=headers)
    assert reborn.status_code == 201 and reborn.get_json()["version"] == 3  # no question: deleted


@pytest.mark.slow
def test_page_shows_not_applied_rates_with_counts_and_stale_results(
    tiny, client, sessions, inline_jobs
) -> None:
    url, headers = tiny["url"], tiny["sme"].headers
    spec = {"kind": "keyword", "name": "kw_free", "label": "spam", "keywords": ["free"]}
    lf = client.post(url, json=spec, headers=headers).get_json()
    page = lf_page(client, tiny["project"], headers)
    assert "not applied" in page and "0.0%" not in page

    with session_scope(sessions) as session:  # an apply and a fit that used kw_free v1
        for ext in ("t0", "t2", "t4"):
            session.add(WeakLabel(item_id=tiny["ids"][ext], lf_id=lf["id"], vote=1))
        for kind in ("apply", "label_model"):
            session.add(
                LabelModelRun(
                    project_id=tiny["project"],
                    kind=kind,
                    lf_ids=[lf["id"]],
                    metrics={
                        "n_votes": 3,
                        "n_items": 6,
                        "applier": "pandas",
                        "n_covered": 3,
                        "chosen": "majority",
                    },
                )
            )
    page = lf_page(client, tiny["project"], headers)
    assert 'id="stale-label_model"' not in page
    assert "50.0%</span>" in page and "n=6" in page  # coverage 3 of 6 with its count
    assert "n=2, too few to rely on" in page  # accuracy on 2 labeled hits: no headline
    assert "<mark>FREE</mark> gift card" in page  # the matched word marked in the examples

    client.post(f"{url}?replace=1", json={**spec, "keywords": ["free", "gift"]}, headers=headers)
    page = lf_page(client, tiny["project"], headers)
    assert 'id="stale-label_model"' in page
    assert "kw_free v2 saved or switched on; kw_free v1 replaced by a newer version" in page


@pytest.mark.slow
def test_the_page_hands_its_script_every_api_url(tiny, client, inline_jobs) -> None:
    """lfs.js builds no API URL itself: the page gives it each one (url_for), so the buttons
    follow the routes and keep working when the app is served under a path prefix."""
    url, headers = tiny["url"], tiny["sme"].headers
    spec = {"kind": "keyword", "name": "kw_free", "label": "spam", "keywords": ["free"]}
    first = client.post(url, json=spec, headers=headers).get_json()
    second = client.post(f"{url}?replace=1", json={**spec, "keywords": ["gift"]}, headers=headers)
    second = second.get_json()
    song = client.post(url, json={**spec, "name": "kw_song", "keywords": ["song"]}, headers=headers)
    song = song.get_json()
    off = client.patch(f"{url}/{song['id']}", json={"active": False}, headers=headers)
    assert off.status_code == 200
    lf_page(client, tiny["project"], headers)  # the analysis the page shows, computed

    prefixed = {"SCRIPT_NAME": "/lab"}  # as behind a proxy that serves the app at /lab
    page = client.get(
        f"/projects/{tiny['project']}/lfs", headers=headers, environ_overrides=prefixed
    ).get_data(as_text=True)
    given = set(re.findall(r'data-([a-z-]*url)="([^"]*)"', page))
    base = f"/lab/api/projects/{tiny['project']}"
    lfs = f"{base}/lfs"
    expected = {
        ("save-url", lfs),
        ("preview-url", f"{lfs}/preview"),
        ("python-url", f"{lfs}/python"),
        ("python-preview-url", f"{lfs}/python/preview"),
        *{("url", f"{base}/ws/{step}") for step in ("pipeline", "apply", "fit", "propagate")},
        ("url", f"{base}/ws/train"),
        ("url", f"{lfs}/{second['id']}"),  # deactivate and delete kw_free
        ("url", f"{lfs}/{second['id']}/rename"),
        ("url", f"{lfs}/{second['id']}/compare?other={first['id']}"),
        ("url", f"{lfs}/{song['id']}"),  # activate and delete the switched-off kw_song
    }
    assert expected <= given, sorted(expected - given)
    assert all(link.startswith("/lab/") for _, link in given), sorted(given)

    compare = client.get(
        f"{lfs}/{second['id']}/compare?other={first['id']}".removeprefix("/lab"), headers=headers
    )
    assert compare.status_code == 200 and compare.get_json()["diff"]
    script = (Path(__file__).parents[2] / "labelapp" / "static" / "lfs.js").read_text()
    code = "\n".join(line.split("//")[0] for line in script.splitlines())
    assert "/api/" not in code
