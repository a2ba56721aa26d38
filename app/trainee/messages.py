"""Translated, trainee-facing messages for the drill service's error codes."""
from __future__ import annotations

from flask_babel import gettext as _

from app.services.drills import DrillError


def message_for(exc: DrillError) -> str:
    """The message to show for a DrillError, in the interface language."""
    messages = {
        "bad_request": _("The request was not understood. Reload the page and try again."),
        "not_text": _("Send your turn as text."),
        "empty": _("Type what you want to say first."),
        "too_long": _("Your turn is too long: at most %(max_chars)s characters.",
                      max_chars=exc.params.get("max_chars", "")),
        "ended": _("This call has ended."),
        "certification": _("A certification drill cannot be discarded."),
        "time_up": _("The time for this test drill is up; the call has ended."),
        "moved_on": _("The conversation has changed in another window. Reload the page to continue."),
        "reply_pending": _("The customer has not answered your previous turn yet. Reload the page to get the answer."),
        "customer_unavailable": _("The customer did not answer. Your turn is saved; try again."),
        "unknown_scenario": _("This scenario does not exist in your language."),
        "unknown_persona": _("Choose one of this scenario's customers."),
        "bad_kind": _("This kind of customer is not available."),
        "bad_seed": _("The seed must be a whole number from 0 to %(max)s.", max=exc.params.get("max", "")),
        "bad_mode": _("Unknown drill mode."),
        "too_many_starts": _("You have started %(limit)s drills in the last %(seconds)s seconds, the most allowed. "
                             "Wait a moment, or continue a drill you have started.",
                             limit=exc.params.get("limit", ""), seconds=exc.params.get("seconds", "")),
        "too_many_turns": _("You have sent %(limit)s turns in the last %(seconds)s seconds, the most allowed. "
                            "Wait a moment and send it again.",
                            limit=exc.params.get("limit", ""), seconds=exc.params.get("seconds", "")),
    }
    return messages.get(exc.code, exc.message)


def hint_text(hint) -> str:
    """What a hint (app/services/hints.Hint) tells the trainee to do, in the interface language."""
    what = {
        "greeting": _("Greet the customer and give your staff number."),
        "verify": _("Verify the caller's identity (at least two items) before any account detail or change."),
        "resolution": _("Next step: %(text)s", text=hint.text),
        "knowledge": _("Make sure you tell the customer: %(text)s", text=hint.text),
        "optional": _("You could also: %(text)s", text=hint.text),
        "closing": _("Check the problem is solved, then close the call politely."),
    }
    return what.get(hint.step, hint.text)
