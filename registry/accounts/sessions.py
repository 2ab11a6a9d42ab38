"""Sessions that end on the server: each carries its account's stamp, checked on every request."""
from __future__ import annotations

import hmac

from flask import session

from registry.extensions import db
from registry.models.accounts import User, new_session_stamp

SESSION_KEY = "stamp"


def start(user: User) -> None:
    """Mark the current (just signed-in) session as one of `user`'s valid sessions."""
    session[SESSION_KEY] = user.session_stamp


def is_current(user: User) -> bool:
    """Whether the request's session carries the account's current stamp."""
    carried, stamp = session.get(SESSION_KEY), user.session_stamp or ""
    # An empty stamp (a row written without one) is never valid: it would match any session.
    return (isinstance(carried, str) and bool(stamp)
            and hmac.compare_digest(carried.encode(), stamp.encode()))


def end_all(user: User) -> None:
    """End every session of `user`, on every device (a saved cookie no longer counts).

    Flushes; the caller commits. A session that should go on (the user's own, after a
    password change) calls start() again after the commit.
    """
    user.session_stamp = new_session_stamp()
    db.session.flush()
