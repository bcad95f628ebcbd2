"""The OpenAPI 3.1 document of the JSON API, served at ``/api/openapi.json``.

Written by hand next to the routes (the routes are plain Flask views, not schema-driven);
``tests/app/test_api_auth.py`` fails if a route is missing here, so the two cannot drift.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify

import labelapp
from labelapp.api import api

_ERROR = {"$ref": "#/components/responses/Error"}


def _op(summary: str, *, ok: str = "200", body: dict | None = None, params: list | None = None,
        public: bool = False, responses: dict | None = None) -> dict[str, Any]:  # fmt: skip
    op: dict[str, Any] = {
        "summary": summary,
        "responses": {
            ok: {"description": "OK"},
            "400": _ERROR,
            "401": _ERROR,
            "403": _ERROR,
            "404": _ERROR,
        },
    }
    op["responses"].update(responses or {})
    if public:
        op["security"] = []
    if body is not None:
        op["requestBody"] = {"required": True, "content": body}
    if params:
        op["parameters"] = params
    return op


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _path_id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


_PAGE = [
    {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
]

PATHS: dict[str, dict[str, Any]] = {
    "/api/health": {"get": _op("Liveness and the database schema version", public=True)},
    "/api/openapi.json": {"get": _op("This document", public=True)},
    "/api/me": {"get": _op("The authenticated user")},
    "/api/projects": {
        "get": _op("Projects the caller is a member of (admins: all)"),
        "post": _op(
            "Create a project (admin)",
            ok="201",
            body=_json(
                {
                    "type": "object",
                    "required": ["name", "labels"],
                    "properties": {
                        "name": {"type": "string"},
                        "labels": {"type": "array", "items": {"type": "string"}},
                        "task_type": {"enum": ["text", "image"]},
                        "multi_label": {"type": "boolean"},
                        "allow_ambiguous": {"type": "boolean"},
                        "hotkeys": {"type": "array", "items": {"type": "string"}},
                        "overlap_k": {"type": "integer", "minimum": 1},
                        "queue_order": {"enum": ["import", "random"]},
                        "lease_seconds": {"type": "integer", "minimum": 10},
                        "guidelines": {"type": "string"},
                    },
                }
            ),
        ),
    },
    "/api/projects/{project_id}": {
        "get": _op(
            "A project with its label names (`labels`) and settings",
            params=[_path_id("project_id")],
        )
    },
    "/api/projects/{project_id}/members": {
        "post": _op(
            "Add a user to the project (admin)",
            ok="201",
            params=[_path_id("project_id")],
            body=_json(
                {
                    "type": "object",
                    "required": ["username"],
                    "properties": {"username": {"type": "string"}},
                }
            ),
        )
    },
    "/api/projects/{project_id}/items": {
        "get": _op("Items in import order, paginated", params=[_path_id("project_id"), *_PAGE])
    },
    "/api/items/{item_id}": {"get": _op("One item", params=[_path_id("item_id")])},
    "/api/projects/{project_id}/imports": {
        "get": _op("Past imports", params=[_path_id("project_id")]),
        "post": _op(
            "Import a CSV/TSV/JSONL/Parquet file (sme, admin). All rows are validated first; "
            "a bad row rejects the whole file with its line number.",
            ok="201",
            params=[_path_id("project_id")],
            body={
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "text_col": {"type": "string"},
                            "id_col": {"type": "string"},
                            "label_col": {"type": "string"},
                            "label_source": {"type": "string"},
                            "group_col": {"type": "string"},
                            "format": {"enum": ["csv", "tsv", "jsonl", "parquet"]},
                        },
                    }
                }
            },
        ),
    },
}


def register_paths(paths: dict[str, dict[str, Any]]) -> None:
    """Let another route module document its routes here (keeps each module's docs beside it)."""
    for path, operations in paths.items():
        PATHS.setdefault(path, {}).update(operations)


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "labelapp API", "version": labelapp.__version__},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}, {"session": []}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
            "responses": {
                "Error": {
                    "description": "What went wrong, where, and how to fix it",
                    "content": _json(
                        {
                            "type": "object",
                            "properties": {
                                "error": {
                                    "type": "object",
                                    "properties": {
                                        "code": {"type": "string"},
                                        "message": {"type": "string"},
                                        "details": {"type": "array", "items": {"type": "string"}},
                                    },
                                }
                            },
                        }
                    ),
                }
            },
        },
        "paths": PATHS,
    }


@api.get("/openapi.json")
def openapi_document():  # noqa: ANN201
    return jsonify(document())
