"""A route that exists only for benchmarks/turn_bench.py: the baseline of a drill turn.

It does what every request of the app does (session cookie, user load, role check,
CSRF check, JSON in and out) plus exactly one INSERT and one commit, so the ratio of a
drill turn to it is the cost of the drill logic itself. Registered only when BENCH_ROUTES
is set, and never under the production config (see app.create_app).
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_login import current_user

from app.auth.decorators import blueprint_roles
from app.extensions import db
from app.models import AuditEvent, Role

bp = blueprint_roles(Blueprint("bench", __name__), Role.TRAINEE)


@bp.route("/insert", methods=["POST"])
def insert():
    body = request.get_json(silent=True) or {}
    db.session.add(AuditEvent(actor_id=current_user.id, action="bench_insert",
                              detail={"text": str(body.get("text", ""))[:2000]}))
    db.session.commit()
    return jsonify(ok=True)
