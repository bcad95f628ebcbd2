"""The JSON API (``/api``): used by the pages, the CLI and scripts. OpenAPI at ``/api/openapi.json``."""

from flask import Blueprint

api = Blueprint("api", __name__)

from labelapp.api import (  # noqa: E402, F401  (routes register on import)  # noqa: E402, F401  (issue 18: LF versions, overlap for existing items)
    admin,  # noqa: E402, F401  (issue 17: users, members, lifecycle, label sets)
    agreement,
    answers,  # noqa: E402, F401  (issue 18: earlier answers)
    export,
    health,
    learning,
    lf_versions,
    openapi,
    overlap,
    projects,
    queue,
    review,
    review_items,  # noqa: E402, F401  (issue 15: review list, corrections)
    validation_routes,  # noqa: E402, F401  (issue 20: schema, drift, slices)
    weak,
)
