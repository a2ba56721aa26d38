"""Trainer pages: cohort analytics (registered on the trainer blueprint).

Filters come in the query string so a filtered view can be bookmarked; a bad filter
(unknown cohort, malformed date, start after end) is a 400 with the form's message.
"""
from __future__ import annotations

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import DateField, SelectField, SubmitField
from wtforms.validators import Optional, ValidationError

from app.forms import Form
from app.i18n import content_language
from app.services import analytics
from app.trainer.routes import bp

ALL = 0


class AnalyticsFilter(Form):
    """A GET form: no CSRF token (it changes nothing), cohort choices are the trainer's own."""

    class Meta:
        csrf = False

    cohort = SelectField(_l("Cohort"), coerce=int, default=ALL)
    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])
    submit = SubmitField(_l("Show"))

    def validate_end(self, field):
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError(_l("The end date is before the start date."))


def _num(x: float | None) -> str:
    """Numbers in tables: one decimal, a dash where a statistic is undefined."""
    return "—" if x is None else f"{x:.1f}"


@bp.route("/analytics")
def analytics_page():
    form = AnalyticsFilter(request.args)
    form.cohort.choices = [(ALL, _l("All my cohorts"))] + [(c.id, c.name) for c in analytics.trainer_cohorts(current_user)]
    if request.args and not form.validate():
        return render_template("trainer/analytics.html", form=form, data=None, charts={},
                               an_num=_num), 400
    data = analytics.cohort_analytics(current_user, form.cohort.data or None, form.start.data, form.end.data,
                                      content_language())
    return render_template("trainer/analytics.html", form=form, data=data, charts=analytics.render_charts(data),
                           an_num=_num)
