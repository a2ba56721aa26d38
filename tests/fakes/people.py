"""A trainer with a cohort holding one trainee: the cast most service tests start from."""
from __future__ import annotations

from app.extensions import db
from app.models import Cohort
from app.services.accounts import create_user


def trainer_and_trainee():
    """Create trainer "coach", cohort 一班 and trainee "xiaowang" (小王) in it, flushed;
    the caller commits (or adds more people first)."""
    coach = create_user("coach", "password-123", "trainer")
    db.session.flush()
    group = Cohort(name="一班", trainer_id=coach.id)
    db.session.add(group)
    db.session.flush()
    trainee = create_user("xiaowang", "password-123", "trainee", "小王", group)
    return coach, trainee
