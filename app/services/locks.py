"""Row locks that work the same on PostgreSQL and SQLite, for check-then-insert steps
that must not interleave (two starts, two identical form posts)."""
from __future__ import annotations

from sqlalchemy import update

from app.extensions import db
from app.models import User


def lock_user(user_id: int) -> None:
    """Hold the user's row until this transaction ends, so that this user's check-then-
    insert steps run one at a time on every worker: a no-op UPDATE takes the row lock on
    PostgreSQL and the database's single write lock on SQLite."""
    db.session.execute(update(User).where(User.id == user_id).values(active=User.active)
                       .execution_options(synchronize_session=False))
