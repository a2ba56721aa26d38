"""A request-wide check on text before any view sees it.

PostgreSQL text cannot hold the NUL character: a login name, a cohort name or a filter
value containing %00 reached the database and failed there (a 500), while SQLite stored
it. No field of the app has a use for NUL, so a query or form value holding one is
refused with a 400 before the view runs. (JSON bodies are checked where they are read:
turn texts drop control characters, transcript files are refused by the reader.)
"""
from __future__ import annotations

from flask import abort, request
from flask_babel import gettext as _

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def refuse_nul_characters() -> None:
    """before_request: 400 when a query or form field name or value holds a NUL."""
    sources = [request.args]
    if request.mimetype in FORM_TYPES:
        sources.append(request.form)
    for source in sources:
        for name, values in source.lists():
            if "\x00" in name or any("\x00" in v for v in values):
                abort(400, description=_("The field %(name)s contains a NUL character, which no field accepts.",
                                         name=name.replace("\x00", "") or "?"))
