"""The application factory: configuration, database, extensions and blueprints in one place."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask_login import current_user

from labelapp import config as app_config
from labelapp.db import make_engine, make_session_factory
from labelapp.models.roles import Role
from labelapp.web.db import close_db
from labelapp.web.security import init_security, security_settings


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. ``overrides`` wins over the environment (tests pass DATABASE_URL here)."""
    app = Flask(__name__)
    app.config.update(
        DATABASE_URL=app_config.database_url(),
        MAX_CONTENT_LENGTH=app_config.max_upload_mb() * 1024 * 1024,
        WTF_CSRF_CHECK_DEFAULT=False,  # web.security checks it: bearer-token calls skip it
        WTF_CSRF_TIME_LIMIT=None,  # a labeling page stays open for hours
        CHECK_SCHEMA=True,
        **security_settings(),
    )
    app.config.update(overrides or {})
    app.config.setdefault("SECRET_KEY", None)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = os.environ.get("LABELAPP_SECRET_KEY") or _persistent_secret()

    engine = make_engine(app.config["DATABASE_URL"], web=True)
    if app.config["CHECK_SCHEMA"]:
        from labelapp.migrate import ensure_current

        ensure_current(engine)
    app.extensions["labelapp.engine"] = engine
    app.extensions["labelapp.sessions"] = make_session_factory(engine)
    app.teardown_appcontext(close_db)

    init_security(app)

    from labelapp.api import api
    from labelapp.api.validation import init_app as init_api_validation
    from labelapp.web import (  # noqa: F401  (their routes join the pages blueprint)
        agreement,
        augment_settings,
        export,
        featurizer,
        jobs,
        learning,
        review,
        weak,
    )
    from labelapp.web.auth import auth
    from labelapp.web.errors import register_error_handlers
    from labelapp.web.labeling import labeling
    from labelapp.web.pages import pages

    init_api_validation(app)  # ids in URLs fit an integer column, on pages and in the API
    app.register_blueprint(auth)
    app.register_blueprint(pages)
    app.register_blueprint(labeling)
    from labelapp.web import import_wizard, project_admin  # noqa: F401  (routes join the admin blueprint)
    from labelapp.web.admin import admin

    app.register_blueprint(admin)
    app.register_blueprint(api, url_prefix="/api")
    register_error_handlers(app)

    app.jinja_env.globals["Role"] = Role  # templates compare roles with Role.SME, never "sme"

    @app.context_processor
    def _inject() -> dict[str, Any]:
        return {"current_user": current_user}

    return app


def _persistent_secret() -> str:
    """A secret kept in the data directory, so logins survive a server restart."""
    path = app_config.data_dir() / "secret_key"
    if not path.exists():
        try:  # created 0600 from the start: never readable by others, not even for a moment
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process wrote it first
        else:
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_hex(32))
    return path.read_text().strip()
