"""The base of every HTML form: it reads form posts, never a JSON body.

Flask-WTF fills a form from `request.get_json()` when a POST says it is JSON. On this
app's form routes that only ever meant a broken or hostile client, and it failed badly:
malformed JSON raised a 400 that the error page re-raised while rendering (500); a JSON
list or nested values crashed the form's field processing. A JSON body now reaches a form
as an empty post, so the route answers with its usual "field required" page (400).
"""
from __future__ import annotations

from flask import request
from flask_wtf import FlaskForm


class Form(FlaskForm):
    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            # Only the automatic source (Flask-WTF's sentinel, not data a view passes in such
            # as request.args) is replaced; request.form is empty for a JSON body.
            if request.is_json and formdata is not None and not hasattr(formdata, "getlist"):
                return request.form if form.is_submitted() else None
            return super().wrap_formdata(form, formdata)
