"""The editor's forms: a new scenario's id and title, and a draft's three texts."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Regexp

from app.core.authoring import MAX_DRAFT_BYTES, MAX_SCRIPT_BYTES
from app.core.scenario import ID_RE
from app.forms import Form


class NewScenarioForm(Form):
    scenario_id = StringField(_l("Scenario id"), validators=[
        DataRequired(_l("Give the new scenario an id.")), Length(max=64),
        Regexp(ID_RE, message=_l("Use lower-case letters, digits and '_' (e.g. roaming_bill_shock)."))])
    title = StringField(_l("Title"), validators=[Length(max=80)])


class DraftForm(Form):
    """The draft's texts. Length limits are in characters here; the service checks bytes."""
    yaml_text = TextAreaField(_l("Scenario (YAML)"), validators=[Length(max=MAX_DRAFT_BYTES)])
    good_script = TextAreaField(_l("Excellent agent script (one turn per line)"), validators=[Length(max=MAX_SCRIPT_BYTES)])
    bad_script = TextAreaField(_l("Poor agent script (one turn per line)"), validators=[Length(max=MAX_SCRIPT_BYTES)])
    action = SelectField(choices=[("save", "save"), ("playtest", "playtest"), ("publish", "publish")], default="save")
    persona = StringField(validators=[Length(max=64)])
