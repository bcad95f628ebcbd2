"""Who is asking and what the browser may do: sign-in from cookies or tokens, CSRF, login rate
limits, and the security headers of every response.

- Sessions and remember-cookies carry the user's ``session_epoch`` (see ``User.get_id``): logout
  and a password change bump it, so every copy of an old cookie stops working at once.
- ``Authorization: Bearer ...`` is authenticated or refused (401), never ignored: a request with a
  bearer header is that token's user and no one else, and only such a request skips CSRF.
- Failed logins are limited per user name and per address (Flask-Limiter); a wrong user name costs
  as long as a wrong password.
- Every response carries a strict Content-Security-Policy (no inline script or style), frame
  protection, nosniff and a referrer policy (Flask-Talisman).
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, abort, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user
from flask_talisman import Talisman

from labelapp.extensions import csrf, login_manager
from labelapp.web.db import get_db

# Pages load scripts, styles and images only from this server; nothing may frame them.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: blob:",
    "connect-src": "'self'",
    "font-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

# Failed logins (answers 401) allowed before the login form answers 429 for a while.
LOGIN_LIMIT_PER_USER = "10 per 15 minutes"
LOGIN_LIMIT_PER_ADDRESS = "30 per 15 minutes"

limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)
talisman = Talisman()


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def security_settings() -> dict[str, Any]:
    """Flask settings of this module, from the environment (the app factory's overrides win)."""
    secure = env_flag("LABELAPP_SECURE_COOKIES")
    return {
        "SECURE_COOKIES": secure,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_DURATION": 14 * 24 * 3600,
        # memory:// counts per process; a team with several web processes sets redis://...
        "RATELIMIT_STORAGE_URI": os.environ.get("LABELAPP_RATELIMIT_STORAGE_URL", "memory://"),
        "RATELIMIT_ENABLED": not env_flag("LABELAPP_RATELIMIT_DISABLED"),
    }


def init_security(app: Flask) -> None:
    """Wire sign-in, CSRF, rate limits and headers into ``app`` (called once by the factory)."""
    secure = bool(app.config["SECURE_COOKIES"])
    app.config["SESSION_COOKIE_SECURE"] = secure
    app.config["REMEMBER_COOKIE_SECURE"] = secure
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    talisman.init_app(
        app,
        force_https=False,  # TLS ends at the proxy in front of us, if any
        strict_transport_security=secure,
        session_cookie_secure=secure,
        session_cookie_http_only=True,
        frame_options="DENY",
        content_security_policy=CONTENT_SECURITY_POLICY,
        referrer_policy="same-origin",
        permissions_policy={"camera": "()", "microphone": "()", "geolocation": "()"},
    )
    login_manager.user_loader(_load_user)
    app.before_request(_refuse_nul_characters)
    app.before_request(_authenticate_bearer)
    app.before_request(_protect_from_csrf)


def _refuse_nul_characters() -> None:
    """No stored text may hold a NUL character (PostgreSQL cannot, and no person types one): a
    query parameter, form field or file name with one is a 400 naming it, before any work."""
    sources = (("query parameter", request.args), ("form field", request.form))
    for where, values in sources:
        for name, value in values.items(multi=True):
            if "\x00" in (name or "") or "\x00" in value:  # a multipart part may have no name
                abort(
                    400,
                    f"the {where} {(name or '').replace(chr(0), '')!r} contains a NUL character "
                    "(\\0); remove it and send again",
                )
    for name, upload in request.files.items(multi=True):
        if "\x00" in (upload.filename or ""):
            abort(400, f"the name of the uploaded file {name!r} contains a NUL character")


def _load_user(session_id: str):
    """The user of a session or remember-cookie id ``"<id>:<epoch>"``, if it is still valid."""
    from labelapp.models import User

    user_id, _, epoch = session_id.partition(":")
    if not (user_id.isdigit() and epoch.isdigit()) or len(user_id) > 12:
        return None  # an id from before session epochs, or forged: log in again
    user = get_db().get(User, int(user_id))
    if user is None or not user.active or user.session_epoch != int(epoch):
        return None
    return user


def bearer_token(req) -> str | None:
    """The token of an ``Authorization: Bearer`` header; ``""`` for a bearer header without one."""
    scheme, _, token = req.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


def _authenticate_bearer() -> None:
    """A request with a bearer header is that token's user; a bad or revoked token is a 401."""
    token = bearer_token(request)
    if token is None:
        return
    from labelapp.services.users import user_for_token

    user = user_for_token(get_db(), token) if token else None
    if user is None:
        abort(
            401,
            "the API token is invalid or was revoked: create a new one with "
            "`labelapp users token NAME`",
        )
    g._login_user = user  # Flask-Login's per-request user: the session cookie is not consulted
    g.token_auth = True


def _protect_from_csrf() -> None:
    """Forms and cookie-authenticated API calls need a CSRF token. A request authenticated by a
    bearer token cannot be forged by another site (browsers never add that header), and an API
    call with no session has nothing to forge: it is answered 401, which tells a script what is
    missing. Forms always need the token (the login form too)."""
    if request.method in ("GET", "HEAD", "OPTIONS") or g.get("token_auth"):
        return
    if request.path.startswith("/api/") and not current_user.is_authenticated:
        return
    csrf.protect()
