"""The editor's refusals in the interface language."""
from __future__ import annotations

from flask_babel import gettext as _

from app.services.authoring import AuthoringError


def message_for(exc: AuthoringError) -> str:
    messages = {
        "bad_id": _("Use lower-case letters, digits and '_' (e.g. roaming_bill_shock)."),
        "exists": _("A scenario or draft with this id exists already: edit it from the list."),
        "too_large": _("Too large: at most %(limit)s bytes.", limit=exc.params.get("limit", "")),
        "published": _("This draft is published already. Edit the scenario again for a new draft."),
        "faults": _("The draft has faults: fix them before play-testing or publishing."),
        "scripts": _("Not published: the agent scripts do not play as they should (see below)."),
    }
    return messages.get(exc.code, str(exc))
