"""The LF analysis is computed once (by the ``lf_analysis`` job; here run in the test process)
and reused by page views and the API until what it reads changes: a human label, an LF switched
off, a new apply, new items."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import labelapp
from labelapp.db import session_scope
from labelapp.models import Annotation, Project
from labelapp.services.imports import import_path
from labelapp.services.weak.votes import apply_lfs
from tests.app.factories import add_items, make_project, make_user

DEMO_CSV = Path(labelapp.__file__).parent / "demo_data" / "youtube_spam.csv"


@pytest.fixture
def counted(monkeypatch, inline_jobs) -> list[int]:
    """Counts calls of the library's LF analysis (one per computation of the page's table)."""
    import weak_supervision.analysis as library

    calls: list[int] = []
    real = library.lf_analysis

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(library, "lf_analysis", counting)
    return calls


@pytest.mark.slow
def test_analysis_is_recomputed_only_when_its_inputs_change(
    counted, client, sessions, tmp_path
) -> None:
    comments = pd.read_csv(DEMO_CSV).drop_duplicates("CONTENT").head(200)
    texts = comments["CONTENT"].tolist()
    project_id = make_project(sessions, "yt", ("ham", "spam"))
    ids = add_items(sessions, project_id, texts, tmp_path)
    sme = make_user(sessions, "sme", "sme", (project_id,))
    ann = make_user(sessions, "ann", "annotator", (project_id,))
    url = f"/api/projects/{project_id}"
    lfs = [
        client.post(f"{url}/lfs", json=spec, headers=sme.headers).get_json()
        for spec in (
            {"kind": "keyword", "name": "kw_check", "label": "spam", "keywords": ["check"]},
            {"kind": "keyword", "name": "kw_song", "label": "ham", "keywords": ["song"]},
        )
    ]
    apply_lfs(sessions, project_id)

    def view() -> dict:
        page = client.get(f"/projects/{project_id}/lfs", headers=sme.headers)
        assert page.status_code == 200
        return client.get(f"{url}/lfs/analysis", headers=sme.headers).get_json()

    first = view()
    assert len(counted) == 1 and first["n_labeled"] == 0
    assert view() == first and len(counted) == 1  # page and API views reuse it

    spam = next(i for i, t in zip(ids, texts, strict=True) if "check" in t.lower())
    with session_scope(sessions) as session:
        session.add(
            Annotation(
                item_id=spam, project_id=project_id, user_id=ann.id, kind="label", labels=["spam"]
            )
        )
    labeled = view()
    assert len(counted) == 2 and labeled["n_labeled"] == 1
    by_name = {r["name"]: r for r in labeled["rows"]}
    assert (by_name["kw_check"]["correct"], by_name["kw_check"]["incorrect"]) == (1, 0)
    assert view() == labeled and len(counted) == 2

    with session_scope(sessions) as session:  # an edit is a new row: recomputed
        session.add(
            Annotation(
                item_id=spam, project_id=project_id, user_id=ann.id, kind="label", labels=["ham"]
            )
        )
    edited = {r["name"]: r for r in view()["rows"]}
    assert len(counted) == 3 and edited["kw_check"]["incorrect"] == 1

    off = client.patch(f"{url}/lfs/{lfs[1]['id']}", json={"active": False}, headers=sme.headers)
    assert off.status_code == 200
    assert [r["name"] for r in view()["rows"]] == ["kw_check"] and len(counted) == 4

    apply_lfs(sessions, project_id)  # the same votes, but a new apply run: recomputed
    view()
    assert len(counted) == 5
    extra = tmp_path / "more.csv"
    extra.write_text("id,text\nnew1,check out my new video\n")
    with session_scope(sessions) as session:
        import_path(session, session.get(Project, project_id), extra)
    assert view()["n_items"] == len(texts) + 1 and len(counted) == 6
    view()
    assert len(counted) == 6
