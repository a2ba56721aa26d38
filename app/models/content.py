"""Scenario and rubric files as loaded versions.

Each distinct file content gets its own row (keyed by content hash), so a drill keeps
pointing at the exact version it ran against even after the file is edited.
"""
from __future__ import annotations

from datetime import datetime

from typing import Optional

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import UTCDateTime, utcnow


class ScenarioVersion(db.Model):
    __tablename__ = "scenario_versions"
    __table_args__ = (
        UniqueConstraint("scenario_id", "language", "content_hash", name="uq_scenario_versions_hash"),
        UniqueConstraint("scenario_id", "language", "version", name="uq_scenario_versions_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scenario_id: Mapped[str] = mapped_column(String(64), index=True)
    language: Mapped[str] = mapped_column(String(8))
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    source_path: Mapped[str] = mapped_column(String(300))
    data: Mapped[dict] = mapped_column(JSON)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A draft's content played in a play-test: never current, numbered below zero (-1, -2 ...)
    # so published versions keep counting 1, 2, 3; publishing the same content turns the
    # row into the next published version.
    is_draft: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())


class ScenarioDraft(db.Model):
    """A scenario a trainer is writing or changing in the browser, with its two agent
    scripts. Saving a draft publishes nothing; publishing writes the files and adds a
    ScenarioVersion (`published_version_id`)."""

    __tablename__ = "scenario_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    scenario_id: Mapped[str] = mapped_column(String(64), index=True)
    language: Mapped[str] = mapped_column(String(8))
    yaml_text: Mapped[str] = mapped_column(Text)
    good_script: Mapped[str] = mapped_column(Text, default="")
    bad_script: Mapped[str] = mapped_column(Text, default="")
    # The published version the draft started from (None: a new scenario).
    base_version_id: Mapped[Optional[int]] = mapped_column(ForeignKey("scenario_versions.id", ondelete="SET NULL"))
    author_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)  # draft | published
    published_version_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("scenario_versions.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author = relationship("User")
    published_version = relationship("ScenarioVersion", foreign_keys=[published_version_id])


class RubricVersion(db.Model):
    __tablename__ = "rubric_versions"
    __table_args__ = (
        UniqueConstraint("rubric_id", "content_hash", name="uq_rubric_versions_hash"),
        UniqueConstraint("rubric_id", "version", name="uq_rubric_versions_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rubric_id: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    source_path: Mapped[str] = mapped_column(String(300))
    data: Mapped[dict] = mapped_column(JSON)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
