from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (BooleanField, DateField, IntegerField, PasswordField, SelectField, SelectMultipleField,
                     StringField, SubmitField)
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional, Regexp, ValidationError

from app.admin.audit_view import ACTION_LABELS
from app.forms import Form
from app.models import Role
from app.services.audit import AuditFilters

ROLE_CHOICES = [(r.value, _l(r.value)) for r in Role]  # the msgids "trainee", "trainer", "hr", "admin"


class UserCreateForm(Form):
    username = StringField(_l("Username"), validators=[
        DataRequired(), Length(max=64),
        Regexp(r"^[A-Za-z0-9_.\-@]+$", message=_l("Letters, digits and _ . - @ only.")),
    ])
    display_name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=120)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, validators=[DataRequired()])
    cohort_ids = SelectMultipleField(_l("Cohorts (one or several)"), coerce=int, validators=[Optional()])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8, max=200)])
    submit = SubmitField(_l("Create user"))


class UserEditForm(Form):
    display_name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=120)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, validators=[DataRequired()])
    cohort_ids = SelectMultipleField(_l("Cohorts (one or several)"), coerce=int, validators=[Optional()])
    active = BooleanField(_l("Active"))
    submit = SubmitField(_l("Save"))


class PasswordResetForm(Form):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=200)])
    confirm = PasswordField(_l("Repeat new password"), validators=[
        DataRequired(), EqualTo("password", message=_l("The two passwords differ."))])
    submit = SubmitField(_l("Reset password"))


class CohortForm(Form):
    name = StringField(_l("Cohort name"), validators=[DataRequired(), Length(max=120)])
    trainer_id = SelectField(_l("Trainer"), coerce=int, validators=[Optional()])
    submit = SubmitField(_l("Create cohort"))


class CohortRenameForm(Form):
    name = StringField(_l("Cohort name"), validators=[DataRequired(), Length(max=120)])
    submit = SubmitField(_l("Rename"))


class CohortDeleteForm(Form):
    submit = SubmitField(_l("Delete this cohort"))


class UserImportForm(Form):
    file = FileField(_l("CSV file of people"), validators=[FileRequired(_l("Choose a CSV file."))])
    submit = SubmitField(_l("Import"))


class AuditFilterForm(Form):
    """The audit page's GET filters; every field may stay empty. No CSRF: it changes nothing."""

    class Meta:
        csrf = False

    action = SelectField(_l("Action"), default="", validators=[Optional()],
                         choices=[("", _l("Any"))] + list(ACTION_LABELS.items()))
    user = StringField(_l("User or target"), validators=[Optional(), Length(max=64)])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    page = IntegerField(validators=[Optional(), NumberRange(1, 1_000_000)])

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))

    def filters(self) -> AuditFilters:
        return AuditFilters(action=self.action.data or None, user=(self.user.data or "").strip() or None,
                            date_from=self.date_from.data, date_to=self.date_to.data)

    def args(self) -> dict:
        """The filters as query arguments, for the page links."""
        out = {"action": self.action.data, "user": (self.user.data or "").strip(),
               "date_from": self.date_from.data.isoformat() if self.date_from.data else "",
               "date_to": self.date_to.data.isoformat() if self.date_to.data else ""}
        return {k: v for k, v in out.items() if v}
