"""Issue 15, item 8 (admin): people in several cohorts reach every trainer who leads one
of them, once; cohorts are renamed and deleted only when that loses nothing; a CSV
import stores all rows or none. On SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, CertificationAttempt, CertificationResult, Cohort, User
from app.services import analytics, assignments, cohorts, exports, scoring
from app.services.accounts import create_user

GOOD = Path(__file__).resolve().parent.parent / "data" / "transcripts" / "billing_complaint.good.json"


@pytest.fixture
def two_classes(any_app):
    """Trainers A and B, cohorts 一班 (A) and 产品复训 (B); 小王 is in both, 小李 only in 一班."""
    a, b = create_user("coach-a", "password-123", "trainer"), create_user("coach-b", "password-123", "trainer")
    db.session.flush()
    one, refresher = Cohort(name="一班", trainer_id=a.id), Cohort(name="产品复训", trainer_id=b.id)
    db.session.add_all([one, refresher])
    db.session.flush()
    wang = create_user("xiaowang", "password-123", "trainee", "小王", [one, refresher])
    li = create_user("xiaoli", "password-123", "trainee", "小李", one)
    db.session.commit()
    return a, b, one, refresher, wang, li


def test_a_person_in_two_cohorts_reaches_both_trainers_once(two_classes):
    a, b, one, refresher, wang, li = two_classes
    assert [c.name for c in wang.cohorts] == ["一班", "产品复训"]  # by name
    assert [u.username for u in scoring.cohort_trainees(a)] == ["xiaoli", "xiaowang"]
    assert [u.username for u in scoring.cohort_trainees(b)] == ["xiaowang"]
    drill = scoring.import_transcript(GOOD.read_bytes(), GOOD.name, wang, trainee=wang)
    assert scoring.drill_for_trainer(a, drill.id) is not None and scoring.drill_for_trainer(b, drill.id) is not None
    li_drill = scoring.import_transcript(GOOD.read_bytes(), GOOD.name, li, trainee=li)
    assert scoring.drill_for_trainer(b, li_drill.id) is None
    # One trainer leading both cohorts counts the drill once, not once per cohort.
    refresher.trainer_id = a.id
    db.session.commit()
    assert [u.username for u in scoring.cohort_trainees(a)] == ["xiaoli", "xiaowang"]
    with current_app.test_request_context():  # the analytics label their charts
        assert analytics.cohort_analytics(a).n_drills == 2
        assert analytics.cohort_analytics(a, cohort_id=refresher.id).n_drills == 1


def test_an_assignment_to_either_cohort_reaches_the_person(two_classes):
    a, b, one, refresher, wang, li = two_classes
    assignments.create_assignment(b, assignments.AssignmentSpec(
        title="复训作业", scenario_ids=["billing_complaint"], language="zh-CN", cohort_ids=[refresher.id]))
    assert [x["assignment"].title for x in assignments.assignments_for_trainee(wang)] == ["复训作业"]
    assert assignments.assignments_for_trainee(li) == []


def test_exports_name_every_cohort_and_filter_by_any(two_classes):
    *_, wang, _li = two_classes
    at = datetime(2026, 5, 1, 8, tzinfo=timezone.utc)
    attempt = CertificationAttempt(user_id=wang.id, track_id="core", status="marked", exam_score=85.0,
                                   drill_score=50.0, case_score=25.0, total=160.0, grade="good", details={},
                                   finished_at=at)
    db.session.add(attempt)
    db.session.flush()
    db.session.add(CertificationResult(user_id=wang.id, attempt_id=attempt.id, track_id="core", grade="good",
                                       total=160.0, awarded_at=at))
    db.session.commit()
    for name in ("一班", "产品复训"):
        out = exports.export("csv", exports.ResultFilter(cohort=name), None)
        rows = list(csv.DictReader(io.StringIO(b"".join(out.chunks).decode("utf-8-sig"))))
        assert len(rows) == 1 and set(rows[0]["班组"].split(", ")) == {"一班", "产品复训"}


def test_rename_refuses_a_taken_or_empty_name(two_classes):
    a, b, one, refresher, *_ = two_classes
    with pytest.raises(cohorts.CohortError, match="exists"):
        cohorts.rename(one, " 产品复训 ", a)
    with pytest.raises(cohorts.CohortError, match="name"):
        cohorts.rename(one, "  ", a)
    assert cohorts.rename(one, "一班（2026 春）", a) and not cohorts.rename(one, "一班（2026 春）", a)
    db.session.expire_all()
    assert db.session.get(Cohort, one.id).name == "一班（2026 春）"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "cohort_renamed"))
    assert event.detail == {"before": "一班", "after": "一班（2026 春）"}


def test_delete_is_refused_while_members_or_assignments_remain(two_classes):
    a, b, one, refresher, wang, li = two_classes
    assignments.create_assignment(b, assignments.AssignmentSpec(
        title="复训作业", scenario_ids=["billing_complaint"], language="zh-CN", cohort_ids=[refresher.id]))
    with pytest.raises(cohorts.CohortError, match="1 members and 1 assignments"):
        cohorts.delete(refresher, a)
    wang.cohorts = [one]
    db.session.commit()
    with pytest.raises(cohorts.CohortError, match="0 members and 1 assignments"):
        cohorts.delete(refresher, a)
    assert db.session.get(Cohort, refresher.id) is not None
    empty = Cohort(name="空班")
    db.session.add(empty)
    db.session.commit()
    cohorts.delete(empty, a)
    assert db.session.scalar(select(Cohort).where(Cohort.name == "空班")) is None
    assert db.session.scalar(select(AuditEvent.detail).where(AuditEvent.action == "cohort_deleted")) == {"title": "空班"}


def _users() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def test_import_all_rows_in_chinese_headers_and_gbk(two_classes):
    text = ("用户名,姓名,角色,班组,初始密码\n"
            "zhang.san,张三,学员,一班;产品复训,chushi-mima1\n"
            "li.si,李四,培训师,,chushi-mima2\n"
            "\n"
            "wangwu,,,一班,chushi-mima3\n")
    report = cohorts.import_users(text.encode("gb18030"), None)
    assert report.faults == [] and report.created == ["zhang.san", "li.si", "wangwu"]
    zhang = db.session.scalar(select(User).where(User.username == "zhang.san"))
    assert zhang.display_name == "张三" and zhang.role == "trainee" and zhang.check_password("chushi-mima1")
    assert {c.name for c in zhang.cohorts} == {"一班", "产品复训"}
    li = db.session.scalar(select(User).where(User.username == "li.si"))
    assert li.role == "trainer" and li.cohorts == []
    assert db.session.scalar(select(User.display_name).where(User.username == "wangwu")) == "wangwu"


def test_import_with_a_bad_row_stores_nothing_and_names_every_fault(two_classes):
    before = _users()
    text = ("\ufeffusername,name,role,cohorts,password\n"
            "good.one,Good,trainee,一班,long-enough-1\n"
            "xiaowang,Taken,trainee,,long-enough-2\n"
            "ghost,Ghost,trainee,三班,long-enough-3\n"
            "shorty,Short,boss,,short\n"
            "good.one,Again,trainee,,long-enough-4\n")
    report = cohorts.import_users(text.encode("utf-8"), None)
    assert report.created == [] and _users() == before
    faults = [(f.line, f.msgid % f.params if f.params else f.msgid) for f in report.faults]
    assert (3, "The username xiaowang is taken.") in faults
    assert (4, "No cohort named 三班: create it first.") in faults
    assert any(line == 5 and "Unknown role boss" in m for line, m in faults)
    assert (5, "The password must have at least 8 characters.") in faults
    assert (6, "The username is also on line 2 of this file.") in faults
    assert not any(line == 2 for line, _ in faults)  # the good row has no fault
    assert not db.session.scalar(select(AuditEvent).where(AuditEvent.action == "users_imported"))


@pytest.mark.parametrize("data, message", [
    (b"", "The file is empty"),
    ("姓名,角色\n张三,学员\n".encode(), "no column username / 用户名"),
    ("用户名,密码\n".encode(), "a header but no people"),
    (b"\xff\xfe\x00\x00bad", "not text in UTF-8 or GBK"),
])
def test_an_unreadable_file_is_refused_whole(two_classes, data, message):
    before = _users()
    with pytest.raises(cohorts.ImportFileError, match=message):
        cohorts.import_users(data, None)
    assert _users() == before
