"""The OpenAPI 3.1 document of the JSON API, served at ``/api/openapi.json``.

Generated from the schemas each route declares with :func:`labelapp.api.validation.validate`
(nothing here is written by hand); ``tests/app/test_auth.py`` checks that every route is in it.
"""

from __future__ import annotations

from flask import jsonify

from labelapp.api import api
from labelapp.api.validation import document, validate


@api.get("/openapi.json")
@validate(public=True)
def openapi_document():
    """This document"""
    return jsonify(document())
