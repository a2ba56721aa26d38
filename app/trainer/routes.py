"""The trainer's pages: review queue, cohorts, analytics, scenario library."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select

from app.auth.decorators import blueprint_roles
from app.extensions import db
from app.models import Cohort, Role

bp = blueprint_roles(Blueprint("trainer", __name__), Role.TRAINER)


@bp.route("/")
def home():
    cohorts = db.session.scalars(
        select(Cohort).where(Cohort.trainer_id == current_user.id).order_by(Cohort.name)
    ).all()
    return render_template("trainer/home.html", cohorts=cohorts)
