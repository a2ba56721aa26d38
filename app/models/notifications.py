"""In-app notifications (and the e-mail address they may also go to)."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class Notification(db.Model):
    """Something a person should hear about. The text is written when shown, from `kind`
    and `params`, so it reads in the reader's language. `key` makes a notice once per
    person (an assignment falls due once), whatever how many requests notice it."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_notifications_user_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # assignment_given | assignment_due | report_released | review_done
    key: Mapped[str] = mapped_column(String(80))
    subject_id: Mapped[Optional[int]] = mapped_column(Integer)  # the assignment's or the drill's id
    params: Mapped[dict] = mapped_column(JSON, default=dict)  # what the text names (a title, a due time)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    read_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    emailed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
