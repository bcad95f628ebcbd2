"""The JSON API (``/api``): used by the pages, the CLI and scripts. OpenAPI at ``/api/openapi.json``."""

from flask import Blueprint

api = Blueprint("api", __name__)

from labelapp.api import agreement, export, health, learning, openapi, projects, queue, review, weak  # noqa: E402, F401  (routes register on import)
