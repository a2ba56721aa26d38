"""Retake policy, the exam's clock and pages, certificate validity and codes (pure functions)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from app.core import certification_policy as policy
from app.core.certification import load_track, parse_track
from app.core.certification_marking import clean_answers, draw_exam
from app.core.datafiles import DataFileError

ROOT = Path(__file__).resolve().parents[2]
MINI = ROOT / "tests" / "data" / "tracks_broken" / "mini-ok.yaml"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


def mini(**changes):
    data = yaml.safe_load(MINI.read_text(encoding="utf-8"))
    data.update(changes)
    return parse_track(data, "mini.yaml")


def past(hours_ago: float, certified=False, valid_until=None, now=T0):
    start = now - timedelta(hours=hours_ago + 1)
    return policy.PastAttempt(start, start + timedelta(hours=1), certified, valid_until)


# ---------------------------------------------------------------- the track file

def test_core_track_states_the_exam_rules():
    track = load_track(ROOT / "rubrics" / "tracks" / "core.yaml")
    assert (track.exam.time_limit_minutes, track.exam.page_size) == (60, 10)
    assert (track.retake.max_attempts, track.retake.wait_hours, track.retake.after_pass) == (3, 24, "when_expired")
    assert track.valid_months == 24
    assert all(q.explanation.strip() for q in track.exam.questions)


def test_defaults_are_untimed_unlimited_and_no_retake_after_a_pass():
    track = mini()
    assert track.exam.time_limit_minutes is None and track.exam.page_size == 10
    assert (track.retake.max_attempts, track.retake.wait_hours, track.retake.after_pass) == (None, 0, "never")
    assert track.valid_months is None


@pytest.mark.parametrize("changes,field,reason", [
    ({"retake": {"after_pass": "when_expired"}}, "retake.after_pass", "needs valid_months"),
    ({"retake": {"max_attempts": 0}}, "retake.max_attempts", "greater than or equal to 1"),
    ({"retake": {"wait_hours": -1}}, "retake.wait_hours", "greater than or equal to 0"),
    ({"retake": {"after_pass": "sometimes"}}, "retake.after_pass", "never"),
    ({"retake": {"max_atempts": 2}}, "retake.max_atempts", "unknown field"),
    ({"valid_months": 0}, "valid_months", "greater than or equal to 1"),
])
def test_bad_policy_names_file_field_and_reason(changes, field, reason):
    with pytest.raises(DataFileError) as exc:
        mini(**changes)
    hits = [f for f in exc.value.faults if f.field == field and reason in f.reason]
    assert hits, [str(f) for f in exc.value.faults]
    assert str(hits[0]).startswith(f"mini.yaml: {field}: ")


def test_bad_exam_clock_names_the_field():
    data = yaml.safe_load(MINI.read_text(encoding="utf-8"))
    data["exam"]["time_limit_minutes"] = 0
    with pytest.raises(DataFileError) as exc:
        parse_track(data, "mini.yaml")
    assert [f.field for f in exc.value.faults] == ["exam.time_limit_minutes"]


# ---------------------------------------------------------------- retakes

def test_no_past_attempt_may_start():
    assert policy.retake_refusal(mini(retake={"max_attempts": 1, "wait_hours": 24}), [], T0) is None


def test_wait_runs_from_the_end_of_the_latest_attempt():
    track = mini(retake={"wait_hours": 24})
    refusal = policy.retake_refusal(track, [past(23)], T0)
    assert refusal.code == "wait" and refusal.until == T0 + timedelta(hours=1)
    assert policy.retake_refusal(track, [past(24)], T0) is None
    # an attempt that never ended counts from its start
    never_ended = policy.PastAttempt(T0 - timedelta(hours=2), None, False)
    assert policy.retake_refusal(mini(retake={"wait_hours": 3}), [never_ended], T0).until == T0 + timedelta(hours=1)


def test_max_attempts_counts_the_cycle():
    track = mini(retake={"max_attempts": 2})
    assert policy.retake_refusal(track, [past(50)], T0) is None
    refusal = policy.retake_refusal(track, [past(50), past(30)], T0)
    assert (refusal.code, refusal.limit) == ("max_attempts", 2)


def test_no_retake_after_a_pass_unless_allowed():
    certified = past(100, certified=True)
    assert policy.retake_refusal(mini(), [certified], T0).code == "passed"
    assert policy.retake_refusal(mini(retake={"after_pass": "always"}), [certified], T0) is None


def test_renewal_once_the_certificate_has_expired_with_a_fresh_allowance():
    track = mini(valid_months=12, retake={"after_pass": "when_expired", "max_attempts": 2})
    fails = [past(9000), past(8900)]
    held = past(8800, certified=True, valid_until=T0 + timedelta(days=1))
    refusal = policy.retake_refusal(track, [*fails, held], T0)
    assert refusal.code == "passed" and refusal.until == T0 + timedelta(days=1)
    expired = past(8800, certified=True, valid_until=T0 - timedelta(days=1))
    assert policy.retake_refusal(track, [*fails, expired], T0) is None  # two failures before the pass do not count
    assert policy.retake_refusal(track, [*fails, expired, past(50), past(40)], T0).code == "max_attempts"


# ---------------------------------------------------------------- the exam's clock and pages

def test_deadline_and_grace():
    track = mini()
    assert policy.exam_deadline(track, T0) is None  # untimed
    timed = track.model_copy(update={"exam": track.exam.model_copy(update={"time_limit_minutes": 60})})
    assert policy.exam_deadline(timed, None) is None  # not opened yet
    deadline = policy.exam_deadline(timed, T0)
    assert deadline == T0 + timedelta(hours=1)
    assert policy.seconds_left(deadline, T0 + timedelta(minutes=59)) == 60
    assert policy.seconds_left(deadline, T0 + timedelta(hours=2)) == 0
    assert policy.accepts_answers(deadline, deadline + timedelta(seconds=policy.GRACE_SECONDS))
    assert not policy.accepts_answers(deadline, deadline + timedelta(seconds=policy.GRACE_SECONDS + 1))
    assert policy.accepts_answers(None, T0 + timedelta(days=9))


def test_pages():
    ids = [f"q{i}" for i in range(60)]
    assert policy.page_count(60, 10) == 6 and policy.page_count(61, 10) == 7 and policy.page_count(0, 10) == 1
    assert policy.page_of(ids, 2, 10) == ids[10:20]
    assert policy.page_of(ids, 99, 10) == ids[50:] and policy.page_of(ids, -3, 10) == ids[:10]


def test_clean_answers_checks_like_marking():
    track = mini()
    qids = draw_exam(track, 1)
    single = next(q for q in qids if track.question(q).kind == "single")
    assert clean_answers(track, qids, {single: ["A"]}) == {single: ["A"]}
    assert clean_answers(track, qids, {single: []}) == {single: []}
    for bad, message in [({"nope": ["A"]}, "not in this exam"), ({single: ["Z"]}, "not among the options"),
                         ({single: ["A", "B"]}, "single-choice"), ({single: "A"}, "must be a list")]:
        with pytest.raises(ValueError, match=message):
            clean_answers(track, qids, bad)


# ---------------------------------------------------------------- certificates

def test_validity_adds_calendar_months():
    assert policy.add_months(datetime(2026, 1, 31, tzinfo=timezone.utc), 1) == datetime(2026, 2, 28, tzinfo=timezone.utc)
    assert policy.add_months(datetime(2026, 11, 15, tzinfo=timezone.utc), 24) == datetime(2028, 11, 15, tzinfo=timezone.utc)
    assert policy.valid_until(mini(), T0) is None
    assert policy.valid_until(mini(valid_months=24, retake={"after_pass": "when_expired"}), T0) == T0.replace(year=2028)


@pytest.mark.parametrize("value,shown", [(184.0, "184"), (183.55, "183.6"), (183.54, "183.5"), (159.95, "160"),
                                         (0.05, "0.1"), (170.25, "170.3")])
def test_total_has_at_most_one_decimal(value, shown):
    assert policy.one_decimal(value) == shown


def test_codes_are_long_random_and_forgiving_to_type():
    codes = {policy.new_code() for _ in range(200)}
    assert len(codes) == 200 and all(len(c) == 20 and policy.normalise_code(c) == c for c in codes)
    code = "0123456789ABCDEFGHJK"
    shown = policy.show_code(code)
    assert shown == "0123-4567-89AB-CDEF-GHJK"
    assert policy.normalise_code(shown.lower()) == code
    assert policy.normalise_code(" o123 4567 89ab cdef ghjk ") == code  # O read as 0
    for bad in ("", "en", code[:-1], code + "0", "U" * 20, "x" * 100, None):
        assert policy.normalise_code(bad) is None
