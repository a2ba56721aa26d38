"""The scenario editor: the list, a draft's page (save, live validation, play-test,
publish), the rubric in plain words, and the play-test drill (the trainee's drill page).

Trainers and admins only; trainees never see a draft. The play-test drill answers only
to the user who started it (another's is a 404, as for trainees' drills).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.decorators import blueprint_roles
from app.core.fault_words import plain_reason
from app.editor.forms import DraftForm, NewScenarioForm
from app.editor.messages import message_for
from app.i18n import content_language
from app.models import Role
from app.services import authoring, drill_turns, drills
from app.services.authoring import AuthoringError
from app.services.drills import DrillError
from app.trainee.messages import message_for as drill_message

bp = blueprint_roles(Blueprint("editor", __name__), Role.TRAINER, Role.ADMIN)


@bp.route("/")
def index():
    listed, new_drafts = authoring.scenario_list()
    return render_template("editor/list.html", listed=listed, new_drafts=new_drafts, form=NewScenarioForm())


@bp.route("/new", methods=["POST"])
def new():
    form = NewScenarioForm()
    if form.validate_on_submit():
        try:
            draft = authoring.new_draft(current_user, form.scenario_id.data, form.title.data)
        except AuthoringError as exc:
            form.scenario_id.errors.append(message_for(exc))
        else:
            return redirect(url_for(".draft", draft_id=draft.id), 303)
    listed, new_drafts = authoring.scenario_list()
    return render_template("editor/list.html", listed=listed, new_drafts=new_drafts, form=form), 400


@bp.route("/scenarios/<scenario_id>/<language>/edit", methods=["POST"])
def edit(scenario_id: str, language: str):
    """Open (or start) the draft of a published scenario (CSRFProtect checks the post's token)."""
    try:
        draft = authoring.edit_draft(current_user, scenario_id, language)
    except LookupError:
        abort(404)
    return redirect(url_for(".draft", draft_id=draft.id), 303)


@bp.route("/drafts/<int:draft_id>", methods=["GET", "POST"])
def draft(draft_id: int):
    draft = authoring.get_draft(draft_id) or abort(404)
    form = DraftForm(obj=None, data={"yaml_text": draft.yaml_text, "good_script": draft.good_script,
                                     "bad_script": draft.bad_script})
    status = 200
    if request.method == "POST":
        if not form.validate():
            return _page(draft, form, None), 400
        try:
            status = _act(draft, form)
        except AuthoringError as exc:
            flash(message_for(exc), "error")
            return _page(draft, form, exc.faults or None), exc.status
        if not isinstance(status, int):
            return status  # a redirect
    return _page(draft, form, None), status


def _act(draft, form):
    """Save the texts, then play-test or publish as the button pressed asks."""
    faults = authoring.save_draft(draft, current_user, form.yaml_text.data, form.good_script.data,
                                  form.bad_script.data)
    action = form.action.data
    if action == "playtest":
        try:
            drill = authoring.start_playtest(draft, current_user, form.persona.data or None)
        except DrillError as exc:
            flash(drill_message(exc), "error")
            return exc.status if exc.status in (400, 429) else 400
        return redirect(url_for(".playtest", playtest_id=drill.id), 303)
    if action == "publish":
        version = authoring.publish(draft, current_user)
        flash(_("Published as version %(n)d. New drills play it; earlier drills keep their version.",
                n=version.version), "success")
        return redirect(url_for(".index"), 303)
    flash(_("Draft saved (not published).") if not faults else
          _("Draft saved (not published). It has %(n)d fault(s) to fix before it can be play-tested or published.",
            n=len(faults)), "success")
    return redirect(url_for(".draft", draft_id=draft.id), 303)


def _page(draft, form, faults):
    result = authoring.check(draft, form.yaml_text.data, form.good_script.data, form.bad_script.data) \
        if faults is None else None
    shown = faults if faults is not None else result.faults
    return render_template("editor/draft.html", draft=draft, form=form, faults=_fault_rows(shown),
                           model=result.model if result is not None else None,
                           playtests=authoring.playtests(draft))


def _fault_rows(faults) -> list[dict]:
    lang = content_language()
    return [{"file": f.file, "field": f.field, "reason": plain_reason(f, lang), "raw": f.reason} for f in faults]


@bp.route("/drafts/<int:draft_id>/validate", methods=["POST"])
def validate(draft_id: int):
    """JSON {yaml_text, good_script, bad_script} in; {ok, faults: [{file, field, reason}]} out,
    the reasons in the interface's language. Nothing is stored."""
    draft = authoring.get_draft(draft_id) or abort(404)
    body = request.get_json(silent=True)
    texts = {k: (body or {}).get(k) for k in ("yaml_text", "good_script", "bad_script")} if isinstance(body, dict) else {}
    if not texts or not all(isinstance(v, str) for v in texts.values()):
        return jsonify(error=_("Send the draft's three texts as JSON strings.")), 400
    result = authoring.check(draft, texts["yaml_text"], texts["good_script"], texts["bad_script"])
    return jsonify(ok=result.ok, faults=_fault_rows(result.faults))


@bp.route("/drafts/<int:draft_id>/rubric")
def draft_rubric(draft_id: int):
    draft = authoring.get_draft(draft_id) or abort(404)
    result = authoring.check(draft)
    if result.model is None:
        flash(_("The draft does not load yet: fix its faults to see what is scored."), "error")
        return redirect(url_for(".draft", draft_id=draft.id), 303)
    return render_template("editor/rubric.html", s=result.model, draft=draft)


@bp.route("/scenarios/<scenario_id>/<language>/rubric")
def rubric(scenario_id: str, language: str):
    """What the scenario scores, in sentences (the published version as the file is now)."""
    scenario = drills.find_scenario(scenario_id, language) or abort(404)
    return render_template("editor/rubric.html", s=scenario, draft=None)


# --- the play-test drill: the trainee's drill page and its JSON endpoints -----------------

def _own_playtest(playtest_id: int):
    return authoring.playtest_drill(current_user, playtest_id) or abort(404)


@bp.route("/playtests/<int:playtest_id>")
def playtest(playtest_id: int):
    drill = _own_playtest(playtest_id)
    left = drills.time_left(drill)
    draft_id = (drill.scenario_version.source_path or "").removeprefix("draft:")
    back = url_for(".draft", draft_id=int(draft_id)) if draft_id.isdigit() else url_for(".index")
    return render_template("trainee/drill.html", drill=drill, scenario=drills.scenario_of(drill),
                           turns=drills.turns_of(drill), pending=drills.pending_agent_turn(drill) is not None,
                           seconds_left=max(0, int(left.total_seconds())), hint_penalty=None, hints_given=[],
                           playtest=True, back_url=back)


@bp.route("/playtests/<int:playtest_id>/turns", methods=["POST"])
def post_turn(playtest_id: int):
    """As the trainee's turn endpoint (JSON; NDJSON when `stream` is true)."""
    from app.trainee.forms import TurnRequest
    from app.trainee.routes import _ndjson

    drill = _own_playtest(playtest_id)
    try:
        turn = TurnRequest.parse(request.get_json(silent=True))
        if turn.stream:
            return _ndjson(drill_turns.stream_pending(drill) if turn.retry
                           else drill_turns.stream_agent_turn(drill, turn.text, turn.after))
        result = (drill_turns.answer_pending(drill) if turn.retry
                  else drill_turns.post_agent_turn(drill, turn.text, turn.after))
    except DrillError as exc:
        return jsonify(error=drill_message(exc), code=exc.code, status=exc.status), exc.status
    return jsonify(turns=[drills.turn_json(t) for t in result.turns], drill=drills.drill_json(result.drill))


@bp.route("/playtests/<int:playtest_id>/end", methods=["POST"])
def end(playtest_id: int):
    drill = drills.end_drill(_own_playtest(playtest_id), by="trainer")
    if request.is_json or request.accept_mimetypes.best == "application/json":
        return jsonify(drill=drills.drill_json(drill), home=url_for(".index"))
    return redirect(url_for(".playtest", playtest_id=drill.id), 303)
