"""The JSON API (``/api``): used by the pages, the CLI and scripts. OpenAPI at
``/api/openapi.json``."""

from flask import Blueprint

api = Blueprint("api", __name__)

from labelapp.api import (  # noqa: E402, F401  (routes register on import)  # noqa: E402, F401  (issue 18: LF versions, overlap for existing items)
    admin,
    agreement,
    answers,
    export,
    health,
    learning,
    lf_versions,
    openapi,
    overlap,
    projects,
    queue,
    review,
    review_items,
    validation_routes,
    weak,
)
