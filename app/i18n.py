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


CONTENT_LANGUAGE_NAMES = {"zh-CN": "中文", "en": "English"}


def centre_language() -> str:
    """The language of the centre's calls (CENTRE_LANGUAGE, zh-CN or en): a new drill's
    customer speaks it unless the trainee or an assignment chooses another."""
    chosen = current_app.config.get("CENTRE_LANGUAGE") or "zh-CN"
    return chosen if chosen in CONTENT_LANGUAGE_NAMES else "zh-CN"


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
        "category_label": category_label,
        "topic_label": topic_label,
        "scenario_title": scenario_title,
        "track_title": track_title,
        "case_title": case_title,
        "plain_fault": plain_fault,
        "flag_label": flag_label,
    }


def _labels():
    from flask_babel import lazy_gettext as _l

    return {
        # roles
        "trainee": _l("trainee"), "trainer": _l("trainer"), "hr": _l("hr"), "admin": _l("admin"),
        # certification grades and attempt states
        "excellent": _l("excellent"), "good": _l("good"), "pass": _l("pass"), "retake": _l("retake"),
        "open": _l("open"), "submitted": _l("submitted"), "marked": _l("marked"),
        # drill status and outcome
        "active": _l("in progress"), "ended": _l("ended"), "resolved": _l("resolved"),
        "escalated": _l("escalated"), "hung_up": _l("customer hung up"), "unfinished": _l("unfinished"),
        "discarded": _l("discarded"),
        # drill and assignment modes; an uploaded real call is a drill of customer kind "import"
        "practice": _l("practice"), "test": _l("test"), "import": _l("uploaded call"),
        # customer kinds
        "scripted": _l("Scripted customer"), "llm": _l("AI customer (language model)"),
    }


def _categories():
    """Scenario categories (the `category` field of the scenario files)."""
    from flask_babel import lazy_gettext as _l

    return {
        "billing": _l("Billing"), "sales": _l("Sales"), "broadband": _l("Broadband"),
        "service_features": _l("Service features"), "care": _l("Customer care"),
        "roaming": _l("Roaming"), "network": _l("Network and signal"),
        "complaint": _l("Complaints"), "security": _l("Account security"), "service": _l("Account services"),
    }


def _topics():
    """Exam question topics (the `topic` field of the certification track files)."""
    from flask_babel import lazy_gettext as _l

    return {
        "broadband": _l("Broadband"), "call_flow": _l("Call flow"), "call_forwarding": _l("Call forwarding"),
        "callbacks": _l("Callbacks"), "certification": _l("Certification rules"),
        "communication": _l("Communication skills"), "complaints": _l("Complaint handling"),
        "forbidden_words": _l("Forbidden words"), "kpi": _l("Service indicators"), "loyalty": _l("Customer retention"),
        "objections": _l("Handling objections"), "opening": _l("Opening the call"), "outage": _l("Outages"),
        "ownership": _l("Owning the problem"), "plans": _l("Plans"), "privacy": _l("Privacy"),
        "proactive_care": _l("Proactive care"), "quality": _l("Quality inspection"), "red_lines": _l("Red lines"),
        "regulations": _l("Regulations"), "roaming": _l("Roaming"), "scenario_5g_plan": _l("Case: 5G plan"),
        "scenario_billing": _l("Case: billing complaint"), "scenario_elderly": _l("Case: elderly caller"),
        "scenario_signal": _l("Case: signal complaint"), "security": _l("Account security"),
        "time_limits": _l("Time limits"), "verification": _l("Identity verification"),
    }


def label(value: str | None) -> str:
    """The translated label of a stored code (role, grade, status, mode); the code itself if unknown."""
    if value is None:
        return "—"
    return str(_labels().get(value, value))


def flag_label(value: str | None) -> str:
    """A red-line flag in words (the flags of app/core/scoring/flags.py)."""
    from flask_babel import lazy_gettext as _l

    labels = {
        "disclosed_before_verification": _l("Account facts or a change before identity verification"),
        "impossible_promise": _l("A promise that cannot be kept"),
        "personal_data_read_back": _l("Stored personal data read back to the caller"),
        "insulted_customer": _l("Insulting the customer"),
    }
    if value is None:
        return "—"
    return str(labels.get(value, value.replace("_", " ")))


def category_label(value: str | None) -> str:
    """A scenario category in words; an unknown category is shown as written in the file."""
    if value is None:
        return "—"
    return str(_categories().get(value, value.replace("_", " ")))


def topic_label(value: str | None) -> str:
    """An exam topic in words; an unknown topic is shown as written in the track file."""
    if value is None:
        return "—"
    return str(_topics().get(value, value.replace("_", " ")))


def scenario_title(scenario_id: str | None) -> str:
    """The title of a scenario in the interface's language (else any language), from the
    scenario files; the id only when no file names it any more."""
    if not scenario_id:
        return "—"
    from app.services import content

    entries = [e.model for e in content.catalog().of_kind("scenario") if e.model.id == scenario_id]
    if not entries:
        return scenario_id
    want = content_language()
    return next((m.title for m in entries if m.language == want), entries[0].title)


def persona_label(scenario, persona_id: str | None) -> str:
    """A persona's display name from its scenario file (the id only if the file lacks it)."""
    if not persona_id:
        return "—"
    p = next((p for p in getattr(scenario, "personas", []) if p.id == persona_id), None)
    return p.label if p else persona_id


def track_title(track_id: str | None) -> str:
    """A certification track's title in the interface's language, from its track file."""
    if not track_id:
        return "—"
    from app.services import content

    entry = content.catalog().find("track", track_id)
    if entry is None:
        return track_id
    titles = entry.model.title
    return titles.get(content_language()) or next(iter(titles.values()), track_id)


def case_title(track_id: str | None, case_id: str | None) -> str:
    """A certification case's title from its track file (the id only if the file lacks it)."""
    from app.services import content

    entry = content.catalog().find("track", track_id) if track_id else None
    try:
        return entry.model.case(case_id).title if entry is not None and case_id else (case_id or "—")
    except KeyError:  # a case since removed from the track file
        return case_id


def plain_fault(fault) -> str:
    """A data-file fault (an upload that failed) in plain words in the interface's language."""
    from app.core.fault_words import plain

    return plain(fault, content_language())


def centre_zone() -> str:
    """The centre's time zone (CENTRE_TIMEZONE): the zone of every time shown and of the
    days that date filters mean."""
    return current_app.config.get("CENTRE_TIMEZONE") or "UTC"


def local_time(moment, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Template filter `local`: a stored UTC time in the centre's time zone
    (CENTRE_TIMEZONE), formatted; "—" for none."""
    if moment is None:
        return "—"
    from app.core.dates import local

    return local(moment, centre_zone()).strftime(fmt)
