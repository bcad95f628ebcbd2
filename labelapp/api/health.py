"""Liveness and the schema version: the one route that needs no login."""

from flask import jsonify
from sqlalchemy import text

import labelapp
from labelapp.api import api
from labelapp.api.schemas.projects import Health
from labelapp.api.validation import validate
from labelapp.migrate import current_revision
from labelapp.web.db import get_db


@api.get("/health")
@validate(resp={200: Health}, public=True)
def health():
    """Liveness and the database schema version

    200 with the schema version when the database answers."""
    session = get_db()
    session.execute(text("SELECT 1"))
    revision = current_revision(session.get_bind())
    return jsonify({"status": "ok", "schema_version": revision, "version": labelapp.__version__})
