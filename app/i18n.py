"""Interface language: the user's choice, else the browser's, else Chinese."""
from __future__ import annotations

from flask import current_app, request, session
from flask_login import current_user

LANGUAGE_NAMES = {"zh": "中文", "en": "English"}


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        return current_user.locale
    # Locale code "zh" (not zh_CN): newer Babel turns zh_CN into zh_Hans_CN, which would
    # miss the catalog folder.
    best = request.accept_languages.best_match(["zh", "zh-CN", "zh_CN", "en"])
    if best and best.startswith("zh"):
        return "zh"
    return best or current_app.config["BABEL_DEFAULT_LOCALE"]


def content_language() -> str:
    """The scenario language matching the interface language (zh-CN or en)."""
    return "en" if select_locale() == "en" else "zh-CN"


def template_globals() -> dict:
    from app.auth.forms import EmptyForm

    return {
        "current_locale": select_locale(),
        "language_names": LANGUAGE_NAMES,
        # Only renders CSRF tokens: it must not read the body, or an error page about a
        # bad body (malformed JSON, too large) fails again while rendering and becomes a 500.
        "post_form": EmptyForm(formdata=None),
        "label": label,
    }


def _labels():
    from flask_babel import lazy_gettext as _l

    return {
        # roles
        "trainee": _l("trainee"), "trainer": _l("trainer"), "hr": _l("hr"), "admin": _l("admin"),
        # certification grades
        "excellent": _l("excellent"), "good": _l("good"), "pass": _l("pass"), "retake": _l("retake"),
        # drill status and outcome
        "active": _l("in progress"), "ended": _l("ended"), "resolved": _l("resolved"),
        "escalated": _l("escalated"), "hung_up": _l("customer hung up"), "unfinished": _l("unfinished"),
    }


def label(value: str | None) -> str:
    """The translated label of a stored code (role, grade, status); the code itself if unknown."""
    if value is None:
        return "—"
    return str(_labels().get(value, value))
