"""HR's pages: certification results and exports (read-only)."""
from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import func, select

from app.auth.decorators import blueprint_roles
from app.extensions import db
from app.models import CertificationResult, Role

bp = blueprint_roles(Blueprint("hr", __name__), Role.HR)


@bp.route("/")
def home():
    by_grade = db.session.execute(
        select(CertificationResult.grade, func.count(CertificationResult.id)).group_by(CertificationResult.grade)
    ).all()
    return render_template("hr/home.html", by_grade=dict(by_grade))
