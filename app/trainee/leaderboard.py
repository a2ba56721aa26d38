"""The opt-in cohort leaderboard, on the trainee blueprint."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_login import current_user

from app.services import leaderboard
from app.trainee.routes import bp


@bp.route("/leaderboard")
def leaderboard_page():
    return render_template("trainee/leaderboard.html", rows=leaderboard.cohort_board(current_user),
                           window=leaderboard.WINDOW_DAYS)


@bp.route("/leaderboard/opt", methods=["POST"])
def leaderboard_opt():
    leaderboard.set_opt_in(current_user, request.form.get("join") == "1")
    return redirect(url_for(".leaderboard_page"), 303)
