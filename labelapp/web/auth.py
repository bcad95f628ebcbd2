"""Log in and out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from labelapp.services.users import authenticate, end_sessions
from labelapp.web.access import me
from labelapp.web.db import get_db
from labelapp.web.forms import LoginForm
from labelapp.web.security import LOGIN_LIMIT_PER_ADDRESS, LOGIN_LIMIT_PER_USER, limiter

auth = Blueprint("auth", __name__)


def _login_name() -> str:
    return "user:" + request.form.get("username", "").strip().lower()[:80]


def _failed(response: Response) -> bool:
    return response.status_code == 401


@auth.route("/login", methods=["GET", "POST"])
@limiter.limit(
    LOGIN_LIMIT_PER_USER,
    key_func=_login_name,
    methods=["POST"],
    deduct_when=_failed,
    error_message="Too many failed logins for this user name: wait 15 minutes.",
)
@limiter.limit(
    LOGIN_LIMIT_PER_ADDRESS,
    methods=["POST"],
    deduct_when=_failed,
    error_message="Too many failed logins from this address: wait 15 minutes.",
)
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("pages.projects"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(get_db(), form.username.data or "", form.password.data or "")
        if user is None:
            flash("Unknown username or wrong password.", "error")
        else:
            login_user(user, remember=form.remember.data)
            target = request.args.get("next", "")
            # Only local paths: never redirect a fresh login to another site.
            if not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
                target = url_for("pages.projects")
            return redirect(target)
    return render_template("login.html", form=form), 401 if request.method == "POST" else 200


@auth.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    end_sessions(get_db(), me())  # every device of this user, not only this browser
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
