"""SQLite tuned for a class of trainees on one file: WAL, a busy timeout, normal sync.

The embedded default (no DATABASE_URL) serves a whole class from one file, with many
threads and processes writing to it. In SQLite's default rollback-journal mode a
writer waits for every reader to leave before it commits and new readers wait for it,
and the driver gives up after 5 s with "database is locked". WAL lets readers go on
while one writer commits; the busy timeout makes a writer queue behind the others
instead of failing; synchronous=NORMAL is what WAL is designed for (a crashed process
loses nothing; a power cut may lose the last commits, never the file).
"""
from __future__ import annotations

import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine

# How long a connection waits for another one's write lock before "database is locked".
# Write transactions here last milliseconds (no model call happens inside one), so a
# long wait only ever means a long queue, which is better served late than refused.
BUSY_TIMEOUT_MS = 30_000


def tune_sqlite(engine: Engine, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
    """Set WAL, the busy timeout and synchronous=NORMAL on every new connection of
    `engine`; nothing for other databases. An in-memory database keeps its own journal
    mode (it has no file to share); the busy timeout is set all the same."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        if not isinstance(dbapi_connection, sqlite3.Connection):
            return
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()
