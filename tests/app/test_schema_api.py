"""The schema, drift and slices over HTTP: the same checks as the CLI, with roles."""

from __future__ import annotations

import io

import pytest

from tests.app.factories import api_import, make_project, make_user

pytestmark = pytest.mark.one_backend  # its subject is not storage (tests/conftest.py)


def _upload(api, pid: int, headers: dict, name: str, text: str, **fields) -> dict:
    """The finished import job of an upload (imports are jobs)."""
    return api_import(api, pid, headers, {"file": (io.BytesIO(text.encode()), name), **fields})


@pytest.mark.slow
def test_import_schema_over_the_api(app, sessions) -> None:
    pid = make_project(sessions)
    admin = make_user(sessions, "boss", "admin", (pid,))
    sme = make_user(sessions, "sam", "sme", (pid,))
    ann = make_user(sessions, "ann", "annotator", (pid,))
    api = app.test_client()
    first = _upload(
        api, pid, sme.headers, "a.csv", "id,text,n,lang\n1,a,1,en\n2,b,2,en\n3,c,3,fr\n4,d,4,fr\n"
    )
    assert first["status"] == "done" and first["result"]["schema"]["schema_version"] == 1
    refused = _upload(api, pid, sme.headers, "b.csv", "id,text,n,lang\n5,e,2.5,en\n")
    assert refused["status"] == "failed" and "nothing was imported" in refused["error"]
    assert refused["result"]["details"] == [
        "refused: 1 float value(s) in int column 'n' (e.g. '2.5') (first: line 2)"
    ]
    evolved = _upload(
        api, pid, sme.headers, "b.csv", "id,text,n,lang\n5,e,2.5,en\n", schema="evolve"
    )
    assert evolved["status"] == "done" and evolved["result"]["schema"]["schema_version"] == 2
    sloppy = {"file": (io.BytesIO(b"id,text\n6,f\n"), "c.csv"), "schema": "sloppy"}
    assert (
        api.post(f"/api/projects/{pid}/imports", headers=sme.headers, data=sloppy).status_code
        == 400
    )

    schema = api.get(f"/api/projects/{pid}/schema", headers=sme.headers).get_json()
    assert (
        schema["current"]["version"] == 2
        and schema["current"]["schema"]["columns"]["n"]["dtype"] == "Float64"
    )
    assert [c["mode"] for c in schema["checks"]] == ["evolve", "strict"]
    assert api.get(f"/api/projects/{pid}/schema", headers=ann.headers).status_code == 403

    loosen = {"column": "lang", "add_values": ["de"]}
    assert (
        api.post(
            f"/api/projects/{pid}/schema/columns", json=loosen, headers=sme.headers
        ).status_code
        == 403
    )
    made = api.post(f"/api/projects/{pid}/schema/columns", json=loosen, headers=admin.headers)
    assert made.status_code == 201 and made.get_json()["version"] == 3
    assert "de" in made.get_json()["schema"]["columns"]["lang"]["isin"]
    tighter = api.post(
        f"/api/projects/{pid}/schema/columns",
        json={"column": "n", "max_value": 1},
        headers=admin.headers,
    )
    assert (
        tighter.status_code == 400 and "only be widened" in tighter.get_json()["error"]["message"]
    )

    drift = api.get(f"/api/projects/{pid}/drift?a=import:a.csv&b=import:b.csv", headers=sme.headers)
    assert drift.status_code == 200 and set(drift.get_json()) == {
        "a",
        "b",
        "domain_auc",
        "columns",
        "labels",
        "drifted",
    }
    assert drift.get_json()["a"] == 4 and drift.get_json()["b"] == 1
    ruled = api.get(
        f"/api/projects/{pid}/drift?a=import:a.csv&b=import:b.csv&min_ks=0.5&min_v=0.3",
        headers=sme.headers,
    ).get_json()
    assert {c.get("min_effect") for c in ruled["columns"].values()} >= {0.5, 0.3}
    wrong = f"/api/projects/{pid}/drift?a=import:a.csv&b=import:b.csv&min_auc=0.3"
    assert api.get(wrong, headers=sme.headers).status_code == 400
    bad = api.get(f"/api/projects/{pid}/drift?a=import:a.csv&b=lang=xx", headers=sme.headers)
    assert bad.status_code == 400 and "picks no items" in bad.get_json()["error"]["message"]
    assert (
        api.get(f"/api/projects/{pid}/drift?a=split:x&b=split:y", headers=ann.headers).status_code
        == 403
    )

    slices = api.get(f"/api/projects/{pid}/slices?by=lang", headers=sme.headers).get_json()
    assert {r["value"]: r["items"] for r in slices["slices"]} == {"en": 3, "fr": 2}
    assert api.get(f"/api/projects/{pid}/slices?by=nope", headers=sme.headers).status_code == 404
