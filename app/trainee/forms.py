"""The trainee's forms: starting a drill, and the JSON body of a turn request."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, RadioField, SelectField, SubmitField
from wtforms.validators import DataRequired, NumberRange, Optional

from app.forms import Form
from app.ids import ID_MAX
from app.services.drills import SEED_MAX, DrillError

KIND_LABELS = {"scripted": _l("Scripted customer"), "llm": _l("AI customer (language model)")}


class StartDrillForm(Form):
    language = SelectField(_l("Language of the call"))
    persona = RadioField(_l("Customer persona"), validators=[DataRequired()])
    customer = RadioField(_l("Customer"), validators=[DataRequired()], default="scripted")
    seed = IntegerField(_l("Seed (optional, replays the same call)"),
                        validators=[Optional(), NumberRange(min=0, max=SEED_MAX)])
    submit = SubmitField(_l("Start the call"))

    @classmethod
    def for_scenario(cls, scenario, kinds: list[str], languages: list[str] | None = None) -> "StartDrillForm":
        """The form with this scenario's personas, the languages it exists in (the
        scenario's own language chosen) and the customer kinds available now."""
        from app.i18n import CONTENT_LANGUAGE_NAMES

        form = cls()
        form.language.choices = [(lang, CONTENT_LANGUAGE_NAMES.get(lang, lang)) for lang in (languages or [scenario.language])]
        if not form.is_submitted() or not form.language.raw_data:
            # A post that names no language plays in the scenario's (the route chose it).
            form.language.data = scenario.language
        form.persona.choices = [(p.id, p.label) for p in scenario.personas]
        if form.persona.data is None and not form.is_submitted():
            # Preselected on the page; a post that names no persona is refused, not defaulted.
            form.persona.data = scenario.personas[0].id
        form.customer.choices = [(k, KIND_LABELS.get(k, k)) for k in kinds]
        return form


@dataclass(frozen=True)
class TurnRequest:
    """A POSTed turn: `{"text": str, "after": int?, "stream": bool?}` or `{"retry": true}`
    (`after`: the last position the page has seen, -1 for none)."""

    text: str | None
    after: int | None
    retry: bool
    stream: bool

    @classmethod
    def parse(cls, body: Any) -> "TurnRequest":
        """Raises DrillError `bad_request` for anything but that shape."""
        if not isinstance(body, dict):
            raise DrillError("bad_request", "send a JSON object")
        after, retry, stream = body.get("after"), body.get("retry", False), body.get("stream", False)
        # A position beyond the column's range cannot exist and would overflow the query;
        # -1 says the page has seen no turn (an outbound call before the agent's first line).
        if after is not None and (not isinstance(after, int) or isinstance(after, bool) or not -1 <= after < ID_MAX):
            raise DrillError("bad_request", "`after` must be a turn position")
        if not isinstance(retry, bool) or not isinstance(stream, bool):
            raise DrillError("bad_request", "`retry` and `stream` must be true or false")
        text = body.get("text")
        if not retry and text is None:
            raise DrillError("empty", "the turn is empty")
        return cls(text=text, after=after, retry=retry, stream=stream)
