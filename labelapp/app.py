"""The application factory: configuration, database, extensions and blueprints in one place."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask, g, request
from flask_login import current_user

from labelapp import config as app_config
from labelapp.db import make_engine, make_session_factory
from labelapp.extensions import csrf, login_manager
from labelapp.web.db import close_db, get_db


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. ``overrides`` wins over the environment (tests pass DATABASE_URL here)."""
    app = Flask(__name__)
    app.config.update(
        DATABASE_URL=app_config.database_url(),
        MAX_CONTENT_LENGTH=1024 * 1024 * 1024,
        WTF_CSRF_CHECK_DEFAULT=False,  # checked in _protect_from_csrf: bearer-token calls skip it
        WTF_CSRF_TIME_LIMIT=None,  # a labeling page stays open for hours
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        CHECK_SCHEMA=True,
    )
    app.config.update(overrides or {})
    app.config.setdefault("SECRET_KEY", None)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = os.environ.get("LABELAPP_SECRET_KEY") or _persistent_secret()

    engine = make_engine(app.config["DATABASE_URL"])
    if app.config["CHECK_SCHEMA"]:
        from labelapp.migrate import ensure_current

        ensure_current(engine)
    app.extensions["labelapp.engine"] = engine
    app.extensions["labelapp.sessions"] = make_session_factory(engine)
    app.teardown_appcontext(close_db)

    login_manager.init_app(app)
    csrf.init_app(app)
    _register_auth_loaders()
    app.before_request(_protect_from_csrf)

    from labelapp.api import api
    from labelapp.web import agreement, export, learning, weak  # noqa: F401  (their routes join the pages blueprint)
    from labelapp.web.auth import auth
    from labelapp.web.errors import register_error_handlers
    from labelapp.web.labeling import labeling
    from labelapp.web.pages import pages

    app.register_blueprint(auth)
    app.register_blueprint(pages)
    app.register_blueprint(labeling)
    app.register_blueprint(api, url_prefix="/api")
    register_error_handlers(app)

    @app.context_processor
    def _inject() -> dict[str, Any]:
        return {"current_user": current_user}

    return app


def _persistent_secret() -> str:
    """A secret kept in the data directory, so logins survive a server restart."""
    path = app_config.data_dir() / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _register_auth_loaders() -> None:
    from labelapp.models import User
    from labelapp.services.users import user_for_token

    @login_manager.user_loader
    def _load_user(user_id: str) -> User | None:
        user = get_db().get(User, int(user_id))
        return user if user is not None and user.active else None

    @login_manager.request_loader
    def _load_from_token(req) -> User | None:  # noqa: ANN001
        token = bearer_token(req)
        if token is None:
            return None
        user = user_for_token(get_db(), token)
        if user is not None:
            g.token_auth = True
        return user


def bearer_token(req) -> str | None:  # noqa: ANN001
    header = req.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def _protect_from_csrf() -> None:
    """Forms and cookie-authenticated API calls need a CSRF token; bearer-token calls cannot be forged."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if bearer_token(request) is not None:
        return
    csrf.protect()
