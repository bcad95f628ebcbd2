"""Log in and out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from labelapp.services.users import authenticate
from labelapp.web.db import get_db
from labelapp.web.forms import LoginForm

auth = Blueprint("auth", __name__)


@auth.route("/login", methods=["GET", "POST"])
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
    return render_template("login.html", form=form), 200 if request.method == "GET" else 401


@auth.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
