"""The unit of work: one transaction per operation, committed once, with after-commit work.

Every write of the registry — pages, API, commands, imports — runs inside `unit_of_work()`:

    with unit_of_work(user=current_user, source="web") as uow:
        save_practice(record, user=uow.user, source=uow.source, ...)

It opens the transaction (the session's), lets the operation flush its rows and audit entries
(revisions; the search change log follows every flush, registry.search.changes), commits once
at the end and rolls everything back on any error, so nothing is ever half-written. Work that
must only happen once the data is durable (search index updates, mail) is queued with
`uow.after_commit(fn)` and runs after the commit, never after a rollback. Database conflicts
become domain errors here, once: a versioned UPDATE that matched no row is StaleVersion, a
unique key taken meanwhile is Conflict. This module is the only place that commits.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from registry.domain.errors import Conflict, StaleVersion
from registry.extensions import db

DUPLICATE_MESSAGE = ("Dữ liệu trùng với dữ liệu đã có (mã tham chiếu hoặc kỳ báo cáo đã tồn "
                     "tại).")


@dataclass
class UnitOfWork:
    """Who acts, through which interface, and what to do once committed."""

    user: object = None
    source: str = "system"
    _after_commit: list[Callable[[], None]] = field(default_factory=list)

    def after_commit(self, work: Callable[[], None]) -> None:
        self._after_commit.append(work)


@contextmanager
def unit_of_work(user=None, source: str = "system", *,
                 dry_run: bool = False) -> Iterator[UnitOfWork]:
    """Run the block as one transaction; see the module docstring. `dry_run` rolls back at
    the end instead of committing (an import that only checks), with no after-commit work."""
    session = db.session
    uow = UnitOfWork(user=user, source=source)
    try:
        yield uow
        if dry_run:
            session.rollback()
            return
        session.commit()
    except StaleDataError:
        session.rollback()
        raise StaleVersion() from None
    except IntegrityError:
        session.rollback()
        raise Conflict(DUPLICATE_MESSAGE, code="duplicate") from None
    except BaseException:
        session.rollback()
        raise
    for work in uow._after_commit:
        work()
