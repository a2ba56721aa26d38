"""Background jobs (Celery tasks) and their items: what a person started, how far it got,
and each item's outcome, so a page can show progress and failures to whoever started it."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class Job(db.Model):
    """One background job: a drill's end score, a batch of uploaded transcripts, a re-score.

    `done` and `failed` count finished items; they only grow, each by the one transaction
    that finishes an item (so a task run twice after a killed worker counts once).
    """

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)  # score_drill | import_batch | rescore
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued | running | done | failed
    # What the job is about, for lookups such as "the scoring job of drill 7" (drill:7).
    target: Mapped[Optional[str]] = mapped_column(String(64), index=True)
    created_by_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[Optional[str]] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    created_by = relationship("User")
    items: Mapped[list["JobItem"]] = relationship(back_populates="job", order_by="JobItem.position",
                                                  cascade="all, delete-orphan")

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")


class JobItem(db.Model):
    """One unit of a job: an uploaded file to import and score, or a drill to re-score.

    `status` leaves `pending` once, in the transaction that stores the item's result.
    """

    __tablename__ = "job_items"
    __table_args__ = (UniqueConstraint("job_id", "position", name="uq_job_items_job_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))  # the file name, or drill:N
    payload: Mapped[Optional[bytes]] = mapped_column(LargeBinary)  # the uploaded file, until imported
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | done | failed
    drill_id: Mapped[Optional[int]] = mapped_column(ForeignKey("drills.id", ondelete="SET NULL"))
    score_id: Mapped[Optional[int]] = mapped_column(ForeignKey("scores.id", ondelete="SET NULL"))
    result: Mapped[Optional[dict]] = mapped_column(JSON)  # {"total", "max", "flags"} or {"faults": [...]}
    finished_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    job: Mapped[Job] = relationship(back_populates="items")
