from flask_babel import lazy_gettext as _l
from wtforms import EmailField, SubmitField
from wtforms.validators import Length, Optional, Regexp

from app.forms import Form


class EmailForm(Form):
    """The person's own address for e-mail copies of notices; empty turns them off."""

    email = EmailField(_l("E-mail address for notices"), validators=[
        Optional(), Length(max=254),
        Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Enter an e-mail address such as name@example.com."))])
    submit = SubmitField(_l("Save"))
