"""Every JSON body and query string is checked against its declared schema: wrong types, numbers
out of range, NUL characters, deep nesting, huge bodies and ids beyond the integer range answer
4xx naming the field, and change nothing. The OpenAPI document is generated from those schemas."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.app.factories import add_items, make_project, make_user

GOOD = {"name": "p1", "labels": ["ham", "spam"]}


@pytest.fixture
def world(sessions, tmp_path):
    project_id = make_project(sessions, "shop", ("ham", "spam"))
    items = add_items(sessions, project_id, ["free money", "nice song", "hello"], tmp_path)
    return {
        "project_id": project_id,
        "items": items,
        "admin": make_user(sessions, "root", "admin"),
        "sme": make_user(sessions, "sam", "sme", (project_id,)),
        "alice": make_user(sessions, "alice", "annotator", (project_id,)),
    }


def _post_raw(client, url: str, raw: str | bytes, headers: dict):
    return client.post(url, data=raw, headers={**headers, "Content-Type": "application/json"})


def _invalid(response, field: str) -> dict:
    """A 400 in the API's error shape whose details name ``field``."""
    assert response.status_code == 400, (response.status_code, response.get_data(as_text=True))
    error = response.get_json()["error"]
    assert error["code"] == "invalid" and error["message"].startswith("invalid "), error
    assert any(line.startswith(f"{field}:") for line in error["details"]), error
    return error


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"overlap_k": "abc"}, "overlap_k"),
        ({"overlap_k": "5"}, "overlap_k"),  # no silent conversion of text to numbers
        ({"labels": 5}, "labels"),
        ({"hotkeys": 5}, "hotkeys"),
        ({"hotkeys": ["toolongkey"]}, "hotkeys[0]"),
        ({"lease_seconds": None}, "lease_seconds"),
        ({"lease_seconds": 5}, "lease_seconds"),
        ({"overlap_k": 2**40}, "overlap_k"),
        ({"labels": [{"x": 1}]}, "labels[0]"),
        ({"labels": ["a"] * 201}, "labels"),
        ({"name": "bad\x00name"}, "name"),
        ({"description": "a\x00b"}, "description"),
        ({"guidelines": "a\x00b"}, "guidelines"),
        ({"task_type": "video"}, "task_type"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_project_bodies_answer_400_naming_the_field(client, world, change, field) -> None:
    headers = world["admin"].headers
    before = len(client.get("/api/projects", headers=headers).get_json()["projects"])
    _invalid(client.post("/api/projects", json={**GOOD, **change}, headers=headers), field)
    assert len(client.get("/api/projects", headers=headers).get_json()["projects"]) == before
    assert client.post("/api/projects", json=GOOD, headers=headers).status_code == 201


def test_numbers_beyond_float_range_and_non_objects_are_refused(client, world) -> None:
    headers = world["admin"].headers
    _invalid(
        _post_raw(
            client, "/api/projects", '{"name": "p", "labels": ["a"], "overlap_k": 1e400}', headers
        ),
        "overlap_k",
    )
    _invalid(_post_raw(client, "/api/projects", '["p"]', headers), "body")
    bad_json = _post_raw(client, "/api/projects", '{"name": ', headers)
    assert (
        bad_json.status_code == 400
        and "not a usable JSON object" in bad_json.get_json()["error"]["message"]
    )
    form = client.post("/api/projects", data={"name": "p"}, headers=headers)
    assert (
        form.status_code == 400
        and "Content-Type: application/json" in form.get_json()["error"]["message"]
    )
    assert client.get("/api/projects", headers=headers).get_json()["projects"][0]["name"] == "shop"


def test_deep_nesting_and_huge_bodies_are_refused(client, world) -> None:
    headers = world["admin"].headers
    url = f"/api/projects/{world['project_id']}"
    deep = _post_raw(client, "/api/projects", "[" * 100_000 + "]" * 100_000, headers)
    assert deep.status_code == 400 and "nested more than" in deep.get_json()["error"]["message"]
    nested = {"description": "x"}
    for _ in range(40):
        nested = {"a": nested}
    deep_object = client.patch(url, json=nested, headers=headers)
    assert deep_object.status_code == 400 and "nested" in deep_object.get_json()["error"]["message"]
    huge = _post_raw(
        client, "/api/projects", json.dumps({**GOOD, "guidelines": "x" * 9_000_000}), headers
    )
    assert (
        huge.status_code == 413 and huge.get_json()["error"]["code"] == "request_entity_too_large"
    )
    many = client.post(
        f"{url}/lfs",
        headers=world["sme"].headers,
        json={"kind": "keyword", "name": "kw", "label": "spam", "keywords": ["k"] * 5000},
    )
    _invalid(many, "keyword.keywords")


def test_nul_characters_are_refused_everywhere(client, world) -> None:
    pid, item = world["project_id"], world["items"][0]
    sme, alice = world["sme"].headers, world["alice"].headers
    lf = {"kind": "keyword", "name": "kw", "label": "spam", "keywords": ["fr\x00ee"]}
    _invalid(client.post(f"/api/projects/{pid}/lfs", json=lf, headers=sme), "keyword.keywords[0]")
    assert client.get(f"/api/projects/{pid}/lfs", headers=sme).get_json()["lfs"] == []
    claim = client.post(f"/api/projects/{pid}/next", headers=alice).get_json()
    url = f"/api/items/{claim['item']['id']}/annotations"
    _invalid(
        client.post(url, json={"labels": ["spam"], "client_id": "a\x00b"}, headers=alice),
        "client_id",
    )
    _invalid(
        client.post(
            url, json={"labels": ["spam"], "client_id": "c1", "note": "n\x00"}, headers=alice
        ),
        "note",
    )
    _invalid(
        client.post(f"/api/projects/{pid}/guidelines", json={"body": "\x00"}, headers=sme), "body"
    )
    listing = client.get(f"/api/projects/{pid}/annotations?user=a%00b", headers=sme)
    assert listing.status_code == 400 and "'user'" in listing.get_json()["error"]["message"]
    ok = client.post(url, json={"labels": ["spam"], "client_id": str(uuid.uuid4())}, headers=alice)
    assert ok.status_code == 201 and item in world["items"]


def test_query_strings_are_typed_and_bounded(client, world) -> None:
    pid, sme = world["project_id"], world["sme"].headers
    items = f"/api/projects/{pid}/items"
    _invalid(client.get(f"{items}?offset=1e20", headers=sme), "offset")
    _invalid(client.get(f"{items}?offset=-1", headers=sme), "offset")
    _invalid(client.get(f"{items}?limit=1001", headers=sme), "limit")
    assert client.get(f"{items}?offset=1&limit=1", headers=sme).get_json()["offset"] == 1
    _invalid(client.get(f"/api/projects/{pid}/prob-labels?after=abc", headers=sme), "after")
    _invalid(client.get(f"/api/projects/{pid}/exports/diff?old=1", headers=sme), "new")
    _invalid(
        client.get(
            f"/api/projects/{pid}/agreement?min_confidence=nan", headers=world["admin"].headers
        ),
        "min_confidence",
    )


def test_ids_beyond_the_integer_range_are_not_found(client, world) -> None:
    admin = world["admin"].headers
    for big in (2**31, 2**31 + 5, 10**12, 2**64):
        for method, path in (
            ("get", f"/api/projects/{big}"),
            ("patch", f"/api/projects/{big}"),  # another method's rule has this path: still 404
            ("get", f"/api/items/{big}"),
            ("post", f"/api/items/{big}/annotations"),
            ("get", f"/api/projects/{world['project_id']}/lfs/{big}/versions"),
            ("get", f"/api/jobs/{big}"),
        ):
            response = client.open(path, method=method, headers=admin, json={"client_id": "x"})
            assert response.status_code == 404, (method, path, response.status_code)
            assert response.get_json()["error"]["code"] == "not_found"
    assert client.get(f"/api/projects/{2**31 - 1}", headers=admin).status_code == 404
    assert client.get(f"/projects/{2**31}", headers=admin).status_code == 404  # pages too


def test_the_document_is_generated_from_the_schemas(client) -> None:
    doc = client.get("/api/openapi.json").get_json()
    create = doc["paths"]["/api/projects"]["post"]
    ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert schema["additionalProperties"] is False and set(schema["required"]) == {"name", "labels"}
    assert schema["properties"]["labels"]["items"]["pattern"] == "^[^\\u0000]*$"
    assert schema["properties"]["overlap_k"]["maximum"] == 50
    assert create["responses"]["400"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ErrorBody"
    )
    project_id = doc["paths"]["/api/projects/{project_id}"]["get"]["parameters"][0]
    assert project_id["schema"]["maximum"] == 2**31 - 1
    imports = doc["paths"]["/api/projects/{project_id}/imports"]["post"]["requestBody"]
    assert "multipart/form-data" in imports["content"]
    assert set(doc["components"]["securitySchemes"]) == {"bearer", "session"}
    assert doc["paths"]["/api/health"]["get"]["security"] == []
    step = doc["paths"]["/api/projects/{project_id}/ws/{step}"]["post"]["parameters"][1]
    assert "pipeline" in step["schema"]["enum"]
