"""Forms of the trainer's review queue, review page and assignments."""
from __future__ import annotations

from datetime import datetime, time, timezone

from flask_babel import lazy_gettext as _l
from wtforms import (BooleanField, DateField, FloatField, HiddenField, IntegerField, SelectField,
                     SelectMultipleField, StringField, SubmitField, TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from app.forms import Form
from app.services.review import QueueFilters

ANY = ""


class QueueFilterForm(Form):
    """The queue's GET filters; every field may stay empty. No CSRF: it changes nothing."""

    class Meta:
        csrf = False

    trainee = SelectField(_l("Trainee"), coerce=str, default=ANY, validators=[Optional()])
    scenario = SelectField(_l("Scenario"), coerce=str, default=ANY, validators=[Optional()])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    score_min = FloatField(_l("Score at least"), validators=[Optional(), NumberRange(0, 1000)])
    score_max = FloatField(_l("Score at most"), validators=[Optional(), NumberRange(0, 1000)])
    flagged = SelectField(_l("Red-line flag"), default=ANY,
                          choices=[(ANY, _l("Any")), ("yes", _l("Flagged")), ("no", _l("Not flagged"))])
    unreviewed = BooleanField(_l("Not yet reviewed only"))

    @classmethod
    def build(cls, trainees, scenarios, formdata) -> "QueueFilterForm":
        form = cls(formdata=formdata)
        form.trainee.choices = [(ANY, _l("Any"))] + [(str(u.id), u.display_name) for u in trainees]
        form.scenario.choices = [(ANY, _l("Any"))] + [(s_id, title) for s_id, title in scenarios]
        return form

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))

    def validate_score_max(self, field) -> None:
        if field.data is not None and self.score_min.data is not None and field.data < self.score_min.data:
            raise ValidationError(_l("The upper score is below the lower one."))

    def filters(self) -> QueueFilters:
        return QueueFilters(
            trainee_id=int(self.trainee.data) if self.trainee.data else None,
            scenario_id=self.scenario.data or None, date_from=self.date_from.data, date_to=self.date_to.data,
            score_min=self.score_min.data, score_max=self.score_max.data,
            flagged={"yes": True, "no": False}.get(self.flagged.data), unreviewed=bool(self.unreviewed.data))


class AdjustForm(Form):
    """The review form. Point inputs are named `criterion-<id>` / `dimension-<id>` and
    are read by `changes`; only values that differ from the current adjusted ones count.
    Comment boxes are named `comment-<criterion id>` and read by `comments`."""

    score_id = HiddenField(validators=[InputRequired()])
    revision = HiddenField(validators=[InputRequired()])
    reason = TextAreaField(_l("Reason for changing points (the trainee sees it)"), validators=[Length(max=2000)])
    submit = SubmitField(_l("Save the review (points and comments)"))

    def int_field(self, name: str) -> int | None:
        try:
            return int(getattr(self, name).data)
        except (TypeError, ValueError):
            return None

    def changes(self, formdata, view: dict) -> list[tuple[str, str, object]]:
        """(kind, id, submitted value) for each point input that differs from the
        adjusted value shown; values that are not numbers are passed on so the
        service rejects them with a message."""
        out = []
        for kind, table in (("criterion", view["criteria"]), ("dimension", view["dimensions"])):
            for target, row in table.items():
                raw = (formdata.get(f"{kind}-{target}") or "").strip()
                if not raw:
                    continue
                try:
                    # The page shows 6 significant digits (%g): closer than that is "unchanged".
                    if abs(float(raw) - row["adjusted"]) < 1e-4:
                        continue
                except ValueError:
                    pass
                out.append((kind, target, raw))
        return out

    @staticmethod
    def comments(formdata, view: dict) -> dict[str, str]:
        """{criterion id: text} for each comment box the page sent (the service keeps
        only those that differ from the comment in force)."""
        return {target: formdata[f"comment-{target}"] for target in view["criteria"]
                if f"comment-{target}" in formdata}


class FlagForm(Form):
    """Overturn a red-line flag as false (reason required, checked by the service) or
    undo that (reason optional): CSRF, the score and revision seen, the flag's id."""

    score_id = HiddenField(validators=[InputRequired()])
    revision = HiddenField(validators=[InputRequired()])
    flag = HiddenField(validators=[InputRequired(), Length(max=64)])
    reason = TextAreaField(_l("Why the flag is false"), validators=[Length(max=2000)])

    int_field = AdjustForm.int_field


class RevisionForm(Form):
    """The "mark reviewed" and "release report" buttons: CSRF and the revision seen."""

    revision = HiddenField()


class AssignmentForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    language = SelectField(_l("Language"), choices=[("zh-CN", "中文"), ("en", "English")], default="zh-CN")
    scenario_ids = SelectMultipleField(_l("Scenarios"), validators=[DataRequired(_l("Choose at least one scenario."))])
    persona = SelectField(_l("Persona"), default=ANY)
    mode = SelectField(_l("Mode"), choices=[("practice", _l("Practice")), ("test", _l("Test"))], default="practice")
    due_date = DateField(_l("Due date"), validators=[Optional()])
    min_attempts = IntegerField(_l("Minimum attempts"), default=1, validators=[InputRequired(), NumberRange(1, 50)])
    pass_mark = FloatField(_l("Pass mark"), default=80.0, validators=[InputRequired(), NumberRange(0, 100)])
    hints_allowed = BooleanField(_l("Hints allowed (practice only)"), default=True)
    hint_penalty = FloatField(_l("Points off per hint"), default=2.0, validators=[InputRequired(), NumberRange(0, 100)])
    report_release = SelectField(_l("Report release"), default="immediate", choices=[
        ("immediate", _l("When the call ends")), ("trainer", _l("When I release it (test mode)"))])
    cohort_ids = SelectMultipleField(_l("Cohorts"), coerce=int)
    user_ids = SelectMultipleField(_l("Or chosen trainees"), coerce=int)
    submit = SubmitField(_l("Create assignment"))

    @classmethod
    def build(cls, scenarios, cohorts, trainees, **kwargs) -> "AssignmentForm":
        form = cls(**kwargs)
        form.scenario_ids.choices = [(s.id, s.title) for s in scenarios]
        from app.services.assignments import persona_names

        names = persona_names(scenarios)
        form.persona.choices = [(ANY, _l("The trainee chooses"))] + sorted(names.items(), key=lambda kv: kv[1])
        form.cohort_ids.choices = [(c.id, c.name) for c in cohorts]
        form.user_ids.choices = [(u.id, f"{u.display_name} ({u.username})") for u in trainees]
        return form

    def due_at(self) -> datetime | None:
        # Due at the end of the chosen day in the centre's time zone: "due on the 5th"
        # includes the whole 5th as the centre lives it; stored as UTC.
        if not self.due_date.data:
            return None
        from flask import current_app

        from app.core.dates import zone

        centre = zone(current_app.config.get("CENTRE_TIMEZONE") or "UTC")
        return datetime.combine(self.due_date.data, time(23, 59, 59), centre).astimezone(timezone.utc)
