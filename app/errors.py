"""Error pages: HTML for pages, JSON for API calls; never a traceback to the user."""
from __future__ import annotations

from flask import current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.extensions import db


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best == "application/json"
    )


def _render(status: int, message: str):
    if _wants_json():
        return jsonify({"error": message, "status": status}), status
    return render_template("errors/error.html", status=status, message=message), status


def register(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return _render(400, _("The form has expired or was not sent from this site. Reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        messages = {
            403: _("You do not have access to this page."),
            404: _("This page does not exist."),
            413: _("What you sent is too large: at most %(mb)d MB at a time.",
                   mb=(current_app.config.get("MAX_CONTENT_LENGTH") or 0) // 2**20),
        }
        return _render(exc.code or 500, messages.get(exc.code, exc.description or exc.name))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if app.testing:
            raise exc  # tests see the real traceback
        db.session.rollback()
        app.logger.exception("unhandled error on %s", request.path)
        return _render(500, _("Something went wrong on our side. Your work so far is saved."))
