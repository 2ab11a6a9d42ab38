"""Every flush that touches a practice logs its id under a new generation number.

The search structures of every worker replay this log before answering, so a write made
through any process shows in the next response of all of them. Writers increment one counter
row; its row lock orders their commits, so no generation becomes visible before a smaller one.
"""
from __future__ import annotations

from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session

from registry.models.practices import CoreMember, Evidence, OutcomeReport, Practice
from registry.models.search_log import SearchChange, SearchCounter

_CHILDREN = (CoreMember, OutcomeReport, Evidence)


def _touched_practice_ids(session: Session) -> set[int]:
    ids: set[int] = set()
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, Practice) and obj.id is not None:
            ids.add(obj.id)
        elif isinstance(obj, _CHILDREN) and obj.practice_id is not None:
            ids.add(obj.practice_id)
    return ids


def record_changes(session: Session, practice_ids) -> int | None:
    """Log the given practice ids as changed in one new generation; returns it.

    Also rewrites their rows of practice_text (registry.search.documents).
    """
    practice_ids = sorted(set(practice_ids))
    if not practice_ids:
        return None
    conn = session.connection()
    conn.execute(update(SearchCounter).where(SearchCounter.id == 1)
                 .values(generation=SearchCounter.generation + 1))
    generation = conn.execute(select(SearchCounter.generation)
                              .where(SearchCounter.id == 1)).scalar_one()
    conn.execute(insert(SearchChange), [{"generation": generation, "practice_id": pid}
                                        for pid in practice_ids])
    # The SQL backend's words change in the same transaction: never behind a committed write.
    from registry.search.documents import refresh_text
    refresh_text(conn, practice_ids)
    pending = session.info.setdefault("changed_practices", set())
    pending.update(practice_ids)
    return generation


def current_generation(session: Session) -> int:
    return session.execute(select(SearchCounter.generation)
                           .where(SearchCounter.id == 1)).scalar_one_or_none() or 0


def _after_flush(session: Session, flush_context) -> None:
    if session.info.get("suspend_change_log"):
        return
    record_changes(session, _touched_practice_ids(session))


def install(session_factory) -> None:
    """Attach the change log to every session the factory makes (idempotent)."""
    if not event.contains(session_factory, "after_flush", _after_flush):
        event.listen(session_factory, "after_flush", _after_flush)
