"""In-app notifications (issue 15 item 3): assignment given or due within 24 h, report
released, review done; once per event; read marks; e-mail copies through an SMTP server
on 127.0.0.1 started here."""
from __future__ import annotations

from datetime import timedelta
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Cohort, Notification
from app.models.base import utcnow
from app.services import assignments as assign
from app.services import notifications, review, scoring
from tests.fakes.smtp_server import LocalSMTP

DATA = Path(__file__).resolve().parent.parent / "data" / "transcripts"


@pytest.fixture
def cohort(app, make_user):
    trainer = make_user("trainer", username="coach")
    group = Cohort(name="一班", trainer_id=trainer.id)
    db.session.add(group)
    db.session.commit()
    trainee = make_user("trainee", username="xiaowang", display_name="小王", cohort=group)
    other = make_user("trainee", username="xiaoli", display_name="小李")
    return trainer, trainee, other


def spec(cohort_id, **kw):
    return assign.AssignmentSpec(title=kw.pop("title", "账单投诉周练"), scenario_ids=["billing_complaint"],
                                 cohort_ids=[cohort_id], **kw)


def kinds(user):
    return [(n.kind, n.subject_id) for n in notifications.for_user(user)]


def shown(app, n):
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        return notifications.text(n)


def test_a_given_assignment_notifies_each_trainee_it_reaches_once(app, cohort):
    trainer, trainee, other = cohort
    a = assign.create_assignment(trainer, spec(trainee.cohorts[0].id))
    again = assign.create_assignment(trainer, spec(trainee.cohorts[0].id))  # the same form posted twice
    assert again.id == a.id
    assert kinds(trainee) == [("assignment_given", a.id)]
    assert kinds(other) == []  # not in the cohort
    assert notifications.unread_count(trainee) == 1
    with_text = notifications.for_user(trainee)[0]
    assert "账单投诉周练" in shown(app, with_text) and "新任务" in shown(app, with_text)


def test_due_within_24_hours_is_noticed_once_and_not_when_passed_or_later(cohort):
    trainer, trainee, _ = cohort
    hours = lambda n: utcnow() + timedelta(hours=n)  # noqa: E731
    soon = assign.create_assignment(trainer, spec(trainee.cohorts[0].id, title="明天截止", due_at=hours(10)))
    later = assign.create_assignment(trainer, spec(trainee.cohorts[0].id, title="后天截止", due_at=hours(30)))
    assert notifications.due_soon(trainee) == 1
    assert notifications.due_soon(trainee) == 0  # a second look makes no second notice
    due = [s for k, s in kinds(trainee) if k == "assignment_due"]
    assert due == [soon.id]
    # 30 h ahead it falls due within 24 h: noticed then.
    assert notifications.due_soon(trainee, now=utcnow() + timedelta(hours=7)) == 1
    assert sorted(s for k, s in kinds(trainee) if k == "assignment_due") == sorted([soon.id, later.id])


def test_release_and_review_notify_the_trainee(app, cohort):
    trainer, trainee, _ = cohort
    path = DATA / "billing_complaint.bad.json"
    drill = scoring.import_transcript(path.read_bytes(), path.name, trainee, trainee=trainee)
    drill.report_released = False
    db.session.commit()
    score = scoring.latest_score(drill)
    review.mark_reviewed(score, trainer)
    assert kinds(trainee) == []  # held back: the trainee hears when it is released
    assert review.release_report(drill, trainer)
    assert kinds(trainee) == [("report_released", drill.id)]
    review.adjust(score, trainer, [("criterion", "restate", 2.0)], "复述了一部分", score.revision)
    assert [k for k, _ in kinds(trainee)] == ["review_done", "report_released"]
    assert "培训师已复核" in shown(app, notifications.for_user(trainee)[0])


def test_mark_read_one_or_all_and_never_anothers(cohort):
    trainer, trainee, other = cohort
    assign.create_assignment(trainer, spec(trainee.cohorts[0].id, title="一"))
    assign.create_assignment(trainer, spec(trainee.cohorts[0].id, title="二"))
    mine = notifications.for_user(trainee)
    assert notifications.mark_read(other, mine[0].id) == 0  # someone else's id marks nothing
    assert notifications.unread_count(trainee) == 2
    assert notifications.mark_read(trainee, mine[0].id) == 1
    assert notifications.unread_count(trainee) == 1
    assert notifications.mark_read(trainee) == 1
    assert notifications.unread_count(trainee) == 0


def test_one_row_per_key_even_when_asked_twice(cohort):
    _, trainee, _ = cohort
    assert notifications.notify(trainee.id, "report_released", "report_released:1", 1, title="x") is not None
    assert notifications.notify(trainee.id, "report_released", "report_released:1", 1, title="x") is None
    db.session.commit()
    assert db.session.scalar(select(func.count(Notification.id))) == 1
    with pytest.raises(ValueError, match="unknown notification kind"):
        notifications.notify(trainee.id, "spam", "k", None)


def test_e_mail_copies_go_out_when_smtp_is_configured(app, cohort):
    trainer, trainee, other = cohort
    trainee.email, trainee.locale = "xiaowang@example.com", "zh"
    db.session.commit()
    with LocalSMTP() as smtp:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port, SMTP_FROM="coach@example.com")
        assign.create_assignment(trainer, spec(trainee.cohorts[0].id))
    assert len(smtp.messages) == 1
    msg = smtp.messages[0]
    assert msg["To"] == "xiaowang@example.com" and msg["From"] == "coach@example.com"
    assert "账单投诉周练" in str(make_header(decode_header(msg["Subject"])))
    assert notifications.for_user(trainee)[0].emailed_at is not None


def test_no_smtp_or_a_refusing_server_sends_nothing_and_breaks_nothing(app, cohort):
    trainer, trainee, _ = cohort
    trainee.email = "xiaowang@example.com"
    db.session.commit()
    assign.create_assignment(trainer, spec(trainee.cohorts[0].id, title="一"))  # SMTP_HOST unset
    assert notifications.for_user(trainee)[0].emailed_at is None
    with LocalSMTP(refuse=True) as smtp:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port)
        a = assign.create_assignment(trainer, spec(trainee.cohorts[0].id, title="二"))  # still stored
        assert notifications.deliver_email() == 0
    assert a.id and all(n.emailed_at is None for n in notifications.for_user(trainee))
    with LocalSMTP() as smtp:  # the next try sends what was left
        app.config.update(SMTP_PORT=smtp.port)
        assert notifications.deliver_email() == 2
    assert len(smtp.messages) == 2


def test_the_cron_command_notices_due_dates(runner, cohort):
    trainer, trainee, _ = cohort
    assign.create_assignment(trainer, spec(trainee.cohorts[0].id, due_at=utcnow() + timedelta(hours=3)))
    result = runner.invoke(args=["notifications", "due"])
    assert result.exit_code == 0 and "1 due-soon notices" in result.output, result.output
    assert runner.invoke(args=["notifications", "due"]).output.startswith("0 due-soon")
    assert [k for k, _ in kinds(trainee)] == ["assignment_due", "assignment_given"]
