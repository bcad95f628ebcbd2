"""Errors as JSON for the API and as a page for people."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from labelapp.extras import missing_extra_message
from labelapp.services.errors import UserError


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, code: str, message: str, details: list[str] | None = None):
    if _wants_json():
        body = {"error": {"code": code, "message": message, "details": details or []}}
        return jsonify(body), status
    return render_template(
        "error.html", status=status, message=message, details=details or []
    ), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(UserError)
    def _user_error(exc: UserError):
        return error_response(exc.status, exc.code, exc.message, exc.details)

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        return error_response(400, "csrf", f"{exc.description} Reload the page and try again.")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        message = exc.description or exc.name
        if exc.code == 413 and message == RequestEntityTooLarge.description:
            limit = (app.config.get("MAX_CONTENT_LENGTH") or 0) // 2**20
            message = (
                f"the upload is larger than {limit:,} MB, the largest this server takes "
                "(LABELAPP_MAX_UPLOAD_MB): split the file, or ask an admin to raise it"
            )
        return error_response(exc.code or 500, code, message)

    @app.errorhandler(ModuleNotFoundError)
    def _missing_extra(exc: ModuleNotFoundError):
        message = missing_extra_message(exc)
        if message is None:
            raise exc
        # The server lacks an optional package: a configuration matter, not the client's fault.
        return error_response(503, "missing_extra", message)
