"""The trainee's pages: home, scenario list, drills, reports."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select

from app.auth.decorators import blueprint_roles
from app.extensions import db
from app.models import Drill, Role

bp = blueprint_roles(Blueprint("trainee", __name__), Role.TRAINEE)


@bp.route("/")
def home():
    drills = db.session.scalars(
        select(Drill).where(Drill.trainee_id == current_user.id).order_by(Drill.started_at.desc()).limit(20)
    ).all()
    return render_template("trainee/home.html", drills=drills)
