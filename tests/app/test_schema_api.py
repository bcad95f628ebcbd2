"""The schema, drift and slices over HTTP: the same checks as the CLI, with roles."""

from __future__ import annotations

import io

from tests.app.factories import make_project, make_user


def _upload(api, pid: int, headers: dict, name: str, text: str, **fields):
    return api.post(
        f"/api/projects/{pid}/imports",
        headers=headers,
        data={"file": (io.BytesIO(text.encode()), name), **fields},
    )


def test_import_schema_over_the_api(app, sessions) -> None:
    pid = make_project(sessions)
    admin = make_user(sessions, "boss", "admin", (pid,))
    sme = make_user(sessions, "sam", "sme", (pid,))
    ann = make_user(sessions, "ann", "annotator", (pid,))
    api = app.test_client()
    first = _upload(
        api, pid, sme.headers, "a.csv", "id,text,n,lang\n1,a,1,en\n2,b,2,en\n3,c,3,fr\n4,d,4,fr\n"
    )
    assert first.status_code == 201 and first.get_json()["schema"]["schema_version"] == 1
    refused = _upload(api, pid, sme.headers, "b.csv", "id,text,n,lang\n5,e,2.5,en\n")
    assert refused.status_code == 400
    error = refused.get_json()["error"]
    assert "nothing was imported" in error["message"]
    assert error["details"] == [
        "refused: 1 float value(s) in int column 'n' (e.g. '2.5') (first: line 2)"
    ]
    evolved = _upload(
        api, pid, sme.headers, "b.csv", "id,text,n,lang\n5,e,2.5,en\n", schema="evolve"
    )
    assert evolved.status_code == 201 and evolved.get_json()["schema"]["schema_version"] == 2
    assert (
        _upload(api, pid, sme.headers, "c.csv", "id,text\n6,f\n", schema="sloppy").status_code
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
    bad = api.get(f"/api/projects/{pid}/drift?a=import:a.csv&b=lang=xx", headers=sme.headers)
    assert bad.status_code == 400 and "picks no items" in bad.get_json()["error"]["message"]
    assert (
        api.get(f"/api/projects/{pid}/drift?a=split:x&b=split:y", headers=ann.headers).status_code
        == 403
    )

    slices = api.get(f"/api/projects/{pid}/slices?by=lang", headers=sme.headers).get_json()
    assert {r["value"]: r["items"] for r in slices["slices"]} == {"en": 3, "fr": 2}
    assert api.get(f"/api/projects/{pid}/slices?by=nope", headers=sme.headers).status_code == 404
