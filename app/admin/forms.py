from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from app.forms import Form
from app.models import Role

ROLE_CHOICES = [(r.value, _l(r.value)) for r in Role]  # the msgids "trainee", "trainer", "hr", "admin"


class UserCreateForm(Form):
    username = StringField(_l("Username"), validators=[
        DataRequired(), Length(max=64),
        Regexp(r"^[A-Za-z0-9_.\-@]+$", message=_l("Letters, digits and _ . - @ only.")),
    ])
    display_name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=120)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, validators=[DataRequired()])
    cohort_id = SelectField(_l("Cohort"), coerce=int, validators=[Optional()])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8, max=200)])
    submit = SubmitField(_l("Create user"))


class UserEditForm(Form):
    display_name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=120)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, validators=[DataRequired()])
    cohort_id = SelectField(_l("Cohort"), coerce=int, validators=[Optional()])
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
