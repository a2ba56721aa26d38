"""How the audit page shows events: readable names for action codes and detail keys, in
the reader's language. A code without a label here shows as itself, so a new action is
visible at once (tests/security/test_audit_page.py checks every code the app records has one)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

ACTION_LABELS = {
    "login": _l("Logged in"),
    "scenario_draft_created": _l("Scenario draft started"),
    "scenario_draft_saved": _l("Scenario draft saved"),
    "scenario_playtest_started": _l("Scenario draft play-tested"),
    "scenario_published": _l("Scenario published"),
    "login_failed": _l("Failed login"),
    "login_throttled": _l("Login refused (too many failures)"),
    "logout": _l("Logged out"),
    "user_created": _l("User created"),
    "user_updated": _l("User changed"),
    "password_reset": _l("Password reset"),
    "password_changed": _l("Password changed by its user"),
    "cohort_created": _l("Cohort created"),
    "cohort_renamed": _l("Cohort renamed"),
    "cohort_deleted": _l("Cohort deleted"),
    "users_imported": _l("People imported from a CSV file"),
    "export": _l("Export"),
    "score_adjusted": _l("Score adjusted"),
    "score_reviewed": _l("Score reviewed"),
    "review_commented": _l("Review comment written"),
    "report_released": _l("Report released"),
    "assignment_created": _l("Assignment created"),
    "assignment_deactivated": _l("Assignment withdrawn"),
    "drill_scored": _l("Drill scored"),
    "transcript_imported": _l("Call transcript imported"),
    "certification_started": _l("Certification started"),
    "certification_exam_submitted": _l("Certification exam submitted"),
    "certification_exam_opened": _l("Certification exam started (clock running)"),
    "certification_drill_started": _l("Certification drill started"),
    "certification_case_submitted": _l("Case answer submitted"),
    "case_marked": _l("Case answer marked"),
    "case_mark_suggested": _l("Case mark suggested by the language model"),
    "certification_finalised": _l("Certification finalised"),
    "hint": _l("Hint used"),
    "drill_discarded": _l("Abandoned drill discarded"),
    "flag_overturned": _l("Red-line flag overturned"),
    "flag_overturn_undone": _l("Red-line flag overturn undone"),
    "batch_started": _l("Batch scoring of uploaded calls started"),
    "rescore_started": _l("Re-scoring under the current rubric started"),
    "export_prepared": _l("Export prepared in the background"),
}

DETAIL_LABELS = {
    "role": _l("Role"), "via": _l("Via"), "before": _l("Before"), "after": _l("After"),
    "cohort_id": _l("Cohort"), "active": _l("Active"), "format": _l("Format"), "filter": _l("Filter"),
    "rows": _l("Rows"), "number": _l("Number"), "drill_id": _l("Drill"), "adjustment_id": _l("Adjustment"),
    "kind": _l("Kind"), "target_id": _l("Item"), "machine": _l("Machine score"), "adjusted": _l("Adjusted to"),
    "reason": _l("Reason"), "revision": _l("Revision"), "trainee_id": _l("Trainee"), "title": _l("Title"),
    "scenarios": _l("Scenarios"), "mode": _l("Mode"), "cohorts": _l("Cohorts"), "users": _l("Users"),
    "score_id": _l("Score"), "total": _l("Total"), "rubric": _l("Rubric"), "rubric_version": _l("Rubric version"),
    "flags": _l("Red-line flags"), "file": _l("File"), "scenario": _l("Scenario"), "turns": _l("Turns"),
    "trainee": _l("Trainee"), "external_agent": _l("External agent"), "track": _l("Track"),
    "version": _l("Version"), "seed": _l("Seed"), "score": _l("Score"), "passed": _l("Passed"),
    "attempt": _l("Attempt"), "chars": _l("Characters"), "case": _l("Case"), "mark": _l("Mark"),
    "previous": _l("Previous mark"), "marks": _l("Marks"), "model": _l("Model"), "grade": _l("Grade"),
    "passed_exam": _l("Exam passed"), "position": _l("Turn"), "step": _l("Step"), "item": _l("Item"),
    "flag_id": _l("Red-line flag"), "overturn_id": _l("Overturn"),
    "usernames": _l("Names tried"), "comment": _l("Comment"), "last": _l("Last at (UTC)"),
    "files": _l("Files"), "drills": _l("Drills"), "job": _l("Job"),
}


def action_label(code: str) -> str:
    return str(ACTION_LABELS.get(code, code))


def _value(value) -> str:
    if isinstance(value, bool):
        return str(_l("yes") if value else _l("no"))
    if isinstance(value, (list, tuple)):
        return ", ".join(_value(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{DETAIL_LABELS.get(k, k)}: {_value(v)}" for k, v in value.items() if v not in (None, "", [], {}))
    return str(value)


def _value_in_words(key: str, value) -> str:
    """Stored codes in words: a grade, mode, outcome, role or status by its label, a
    scenario or track by its title (the raw code only if nothing names it)."""
    from app import i18n

    if isinstance(value, str):
        if key in ("scenario", "scenario_id"):
            return i18n.scenario_title(value)
        if key in ("track", "track_id"):
            return i18n.track_title(value)
        if key == "flag_id":
            return i18n.flag_label(value)
        if key in ("grade", "mode", "outcome", "role", "status", "state", "old_role", "new_role", "kind"):
            return i18n.label(value)
    if isinstance(value, (list, tuple)) and key == "flags":
        return ", ".join(i18n.flag_label(v) for v in value)
    if isinstance(value, (list, tuple)) and key in ("scenarios", "scenario_ids"):
        return ", ".join(i18n.scenario_title(v) for v in value)
    return _value(value)


def detail_items(detail: dict | None) -> list[tuple[str, str]]:
    """(label, value) pairs worth showing: empty values (None, "", [], {}) are left out."""
    return [(str(DETAIL_LABELS.get(k, k)), _value_in_words(k, v)) for k, v in (detail or {}).items()
            if v not in (None, "", [], {})]


def helpers() -> dict:
    """What the audit template calls."""
    return {"action_label": action_label, "detail_items": detail_items}
