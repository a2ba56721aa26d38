"""The trainee's pages: home, starting a drill, the drill itself and its JSON endpoints."""
from __future__ import annotations

import json

from flask import (Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request,
                   stream_with_context, url_for)
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.decorators import blueprint_roles
from app.i18n import centre_language
from app.models import Role
from app.services import drill_turns, drills, hints
from app.services.drills import DrillError
from app.services.engines import available_kinds
from app.trainee.forms import StartDrillForm, TurnRequest
from app.trainee.messages import hint_text, message_for

bp = blueprint_roles(Blueprint("trainee", __name__), Role.TRAINEE)


# The home page (progress, assignments, free practice) lives in app/trainee/progress.py.


@bp.route("/start/<scenario_id>", methods=["GET", "POST"])
def start(scenario_id: str):
    # The call's language comes with the scenario (?language=, or the form's choice),
    # defaulting to the centre's; the interface language plays no part.
    language = drills.drill_language(scenario_id, request.values.get("language"), centre_language()) or abort(404)
    scenario = drills.find_scenario(scenario_id, language) or abort(404)
    form = StartDrillForm.for_scenario(scenario, available_kinds(), drills.scenario_languages(scenario_id))
    if form.validate_on_submit():
        try:
            drill = drills.start_drill(current_user, scenario.id, scenario.language, form.persona.data,
                                       form.customer.data, form.seed.data)
        except DrillError as exc:
            form.persona.errors.append(message_for(exc))
            status = exc.status if exc.status == 429 else 400
            return render_template("trainee/start.html", form=form, scenario=scenario), status, _retry_after(exc)
        else:
            return redirect(url_for(".drill", drill_id=drill.id))
    return render_template("trainee/start.html", form=form, scenario=scenario), (400 if form.errors else 200)


@bp.route("/drills/<int:drill_id>")
def drill(drill_id: int):
    drill = _own_drill(drill_id)
    if drill.customer_kind == "import":
        # A recorded call scored from an upload has no customer to talk to: its page is
        # the report (the home page lists it with the drills and links here).
        return redirect(url_for(".report", drill_id=drill.id))
    scenario = drills.scenario_of(drill)
    # The timer counts down from what the server says is left, so a reload (or a wrong
    # client clock) does not reset it.
    left = drills.time_left(drill)
    return render_template("trainee/drill.html", drill=drill, scenario=scenario, turns=drills.turns_of(drill),
                           pending=drills.pending_agent_turn(drill) is not None,
                           seconds_left=max(0, int(left.total_seconds())),
                           hint_penalty=hints.hint_offer(drill, current_app.config.get("HINT_PENALTY", 2.0)),
                           hints_given=[(hint_text(h), h.model) for h in hints.hints_given(drill)])


@bp.route("/drills/<int:drill_id>/turns", methods=["POST"])
def post_turn(drill_id: int):
    """JSON in, JSON out (or NDJSON when `stream` is true). Errors: 400/409/503 with `error`."""
    # Another trainee's drill is a 404, as in _own_drill; the last turn comes in the same read.
    drill, last = drills.own_drill_and_last_turn(current_user.id, drill_id) or abort(404)
    try:
        turn = TurnRequest.parse(request.get_json(silent=True))
        if turn.stream:
            events = (drill_turns.stream_pending(drill) if turn.retry
                      else drill_turns.stream_agent_turn(drill, turn.text, turn.after, last=last))
            return _ndjson(events)
        result = (drill_turns.answer_pending(drill) if turn.retry
                  else drill_turns.post_agent_turn(drill, turn.text, turn.after, last=last))
    except DrillError as exc:
        return _error(exc)
    return jsonify(turns=[drills.turn_json(t) for t in result.turns], drill=drills.drill_json(result.drill))


@bp.route("/drills/<int:drill_id>/end", methods=["POST"])
def end(drill_id: int):
    drill = drills.end_drill(_own_drill(drill_id), by="trainee")
    if request.is_json or request.accept_mimetypes.best == "application/json":
        return jsonify(drill=drills.drill_json(drill), home=url_for(".home"))
    if drill.status == "discarded":  # an outbound call hung up before a word was said
        flash(_("The call was discarded."), "success")
        return redirect(url_for(".home"), 303)
    return redirect(url_for(".drill", drill_id=drill.id))


@bp.route("/drills/<int:drill_id>/discard", methods=["POST"])
def discard(drill_id: int):
    """Set an abandoned call aside (unscored) and go home; 409 page for an ended or a
    certification drill."""
    try:
        drills.discard_drill(_own_drill(drill_id), current_user)
    except DrillError as exc:
        flash(message_for(exc), "error")
    else:
        flash(_("The call was discarded."), "success")
    return redirect(url_for(".home"), 303)


def _own_drill(drill_id: int):
    # Another trainee's drill is answered exactly like a missing one: 404, no hint it exists.
    return drills.drill_for_trainee(current_user.id, drill_id) or abort(404)


def _error(exc: DrillError):
    return jsonify(error=message_for(exc), code=exc.code, status=exc.status), exc.status, _retry_after(exc)


def _retry_after(exc: DrillError) -> dict:
    """The Retry-After header of a 429 (the limit's window), none otherwise."""
    return {"Retry-After": str(exc.params.get("seconds", 60))} if exc.status == 429 else {}


def _ndjson(events):
    def lines():
        for event in events:
            if event.get("type") == "error":
                event = {**event, "message": message_for(DrillError(event["code"], event["message"]))}
            yield json.dumps(event, ensure_ascii=False) + "\n"

    # No proxy buffering: the point of streaming is that the first words show at once.
    return Response(stream_with_context(lines()), mimetype="application/x-ndjson",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
