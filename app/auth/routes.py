"""Log in, log out, choose the interface language; send each role to its home page."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.auth.forms import EmptyForm, LoginForm, PasswordChangeForm
from app.services import accounts, audit
from app.extensions import db

bp = Blueprint("auth", __name__)

HOME_BY_ROLE = {
    "trainee": "trainee.home",
    "trainer": "trainer.home",
    "hr": "hr.home",
    "admin": "admin.home",
}


def home_url_for(user) -> str:
    return url_for(HOME_BY_ROLE.get(user.role, "auth.login"))


def _safe_next(target: str | None) -> str | None:
    # Only same-site relative paths: never redirect a login to another host.
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(home_url_for(current_user))
    return redirect(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(home_url_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        outcome = accounts.authenticate(form.username.data, form.password.data, request.remote_addr,
                                        accounts.LoginPolicy.from_config(current_app.config))
        if outcome.locked:
            flash(_("Too many failed attempts. Please try again in %(seconds)s seconds.",
                    seconds=outcome.retry_after), "error")
            # Retry-After tells scripts (and the proxy's logs) when the wait ends.
            return render_template("auth/login.html", form=form), 429, {"Retry-After": str(outcome.retry_after)}
        if outcome.user is None:
            flash(_("Wrong username or password."), "error")
            return render_template("auth/login.html", form=form), 401
        # A fresh session on privilege change, keeping the language chosen on the login page
        # (and remembering it for the account, as choosing it after login would).
        chosen = session.get("lang")
        session.clear()
        if chosen in current_app.config["LANGUAGES"]:
            session["lang"] = chosen
            if outcome.user.locale != chosen:
                outcome.user.locale = chosen
                db.session.commit()
        login_user(outcome.user)
        return redirect(_safe_next(request.args.get("next")) or home_url_for(outcome.user))
    return render_template("auth/login.html", form=form), (400 if form.errors else 200)


@bp.route("/logout", methods=["POST"])
def logout():
    form = EmptyForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        audit.record("logout", actor=current_user, target=current_user.username)
        # Every copy of this user's session cookie stops working, not only this browser's.
        current_user.end_sessions()
        db.session.commit()
        logout_user()
        session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        outcome = accounts.change_password(user, form.current.data, form.password.data,
                                           accounts.LoginPolicy.from_config(current_app.config))
        if outcome.locked:
            form.current.errors.append(_("Too many failed attempts. Please try again in %(seconds)s seconds.",
                                         seconds=outcome.retry_after))
            return render_template("auth/password.html", form=form), 429, {"Retry-After": str(outcome.retry_after)}
        if outcome.user is not None:
            # Every other session (a copied cookie included) has ended; this one goes on.
            session.clear()
            login_user(user)
            flash(_("Password changed. Your other sessions have ended."), "success")
            return redirect(home_url_for(user))
        form.current.errors.append(_("The current password is wrong."))
    return render_template("auth/password.html", form=form), (400 if form.errors else 200)


@bp.route("/language/<code>", methods=["POST"])
def set_language(code: str):
    form = EmptyForm()
    if form.validate_on_submit() and code in current_app.config["LANGUAGES"]:
        session["lang"] = code
        if current_user.is_authenticated:
            current_user.locale = code
            db.session.commit()
    return redirect(_safe_next(request.form.get("next")) or url_for("auth.index"))
