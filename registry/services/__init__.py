"""Services: the functions that change data, flush and write revisions (callers commit)."""
from __future__ import annotations

from contextlib import contextmanager

from registry.extensions import db


def ensure_transaction(session=None) -> None:
    """Make sure the database transaction has really begun.

    The sqlite3 driver only sends BEGIN before its first INSERT/UPDATE/DELETE, so a SAVEPOINT
    issued first would open (and its RELEASE commit) the whole transaction; a later rollback
    would then undo nothing. Sending BEGIN ourselves keeps savepoints nested on SQLite.
    """
    session = session or db.session
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    raw = connection.connection.dbapi_connection
    if not raw.in_transaction:
        raw.execute("BEGIN")


@contextmanager
def savepoint(session=None):
    """A SAVEPOINT that works the same on SQLite and PostgreSQL: all or nothing inside."""
    session = session or db.session
    ensure_transaction(session)
    with session.begin_nested():
        yield
