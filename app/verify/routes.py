"""/verify/<code>: anyone (an employer, HR of another centre) checks a certificate by the
code printed on it. No login. Codes are 100 random bits, so the page cannot be used to
list certificates; an unknown code answers 404 with the same page for every miss."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from app.services import certification as cert

bp = Blueprint("verify", __name__)


@bp.route("/verify/")
def form():
    """A box to type a code in; `?code=` goes to that code's page."""
    code = (request.args.get("code") or "").strip()
    if code:
        return redirect(url_for(".check", code=code[:64]))
    return render_template("verify/verify.html", facts=None, asked=None)


@bp.route("/verify/<code>")
def check(code: str):
    result = cert.verify(code)
    if result is None:
        return render_template("verify/verify.html", facts=None, asked=code[:64]), 404
    return render_template("verify/verify.html", facts=cert.certificate_facts(result), asked=code[:64])
