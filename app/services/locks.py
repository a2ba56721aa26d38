"""Row locks that work the same on PostgreSQL and SQLite, for check-then-insert steps
that must not interleave (two starts, two identical form posts); and the lock that
lets one request score a drill's end."""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

try:
    import fcntl
except ImportError:  # not a POSIX system
    fcntl = None

from sqlalchemy import text, update

from app.extensions import db
from app.models import User


def lock_user(user_id: int) -> None:
    """Hold the user's row until this transaction ends, so that this user's check-then-
    insert steps run one at a time on every worker: a no-op UPDATE takes the row lock on
    PostgreSQL and the database's single write lock on SQLite."""
    db.session.execute(update(User).where(User.id == user_id).values(active=User.active)
                       .execution_options(synchronize_session=False))


# --- the one scorer of a drill's end ----------------------------------------------------------

# Lock stripes on SQLite: a drill's scoring takes the file `drill_id % STRIPES`; two drills
# that share one only wait for each other's scoring, never score twice.
STRIPES = 64
# PostgreSQL advisory locks are two int4 keys: this one says "end scoring", the other is the drill.
_PG_SCORING_KEY = 16


@contextmanager
def scoring_lock(drill_id: int) -> Iterator[bool]:
    """Try to become the one request that scores this drill's end: yields True while this
    request holds the lock, False (at once, no wait) when another one does.

    The lock dies with its holder, so a worker killed mid-score blocks no one: on
    PostgreSQL a session advisory lock on a connection of its own (the server drops it
    with the connection); on SQLite, one machine by design, an flock on a file beside the
    database (the kernel drops it with the process).
    """
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k, :d)"), {"k": _PG_SCORING_KEY, "d": drill_id}).scalar()
            conn.commit()
            try:
                yield bool(got)
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:k, :d)"), {"k": _PG_SCORING_KEY, "d": drill_id})
                    conn.commit()
        return
    if fcntl is None:  # no flock (not Linux or macOS): the unique end score still stores one
        yield True
        return
    path = _lock_dir(engine) / f"score-{drill_id % STRIPES}.lock"
    with open(path, "a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _lock_dir(engine) -> Path:
    """Beside the SQLite file (the folder SQLite already writes its WAL to); for an
    in-memory database, which lives in one process, a folder of that process."""
    database = engine.url.database
    if database and database != ":memory:" and engine.url.query.get("mode") != "memory":
        folder = Path(database).resolve().parent / ".hotline-locks"
    else:
        folder = Path(tempfile.gettempdir()) / f"hotline-locks-{os.getpid()}-{id(engine)}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
