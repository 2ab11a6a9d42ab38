"""Mail about the workflow: who is told, in Vietnamese, queued in the outbox (same transaction).

Nothing is sent here: `registry send-mail` (registry.services.mail_sender) delivers the outbox
later, so a request never waits for a mail server and a rolled-back action sends nothing.
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from registry.extensions import db
from registry.models.accounts import NATIONAL, Grant, User
from registry.models.workflow import OutboxMessage


def users_with_role(role: str, units) -> list[User]:
    """Active users holding `role` on one of `units` (codes or "national")."""
    units = sorted(set(units))
    if not units:
        return []
    return list(db.session.scalars(
        select(User).join(Grant, Grant.user_id == User.id)
        .where(Grant.role == role, Grant.unit.in_(units), User.active.is_(True))
        .options(selectinload(User.grants)).distinct()))


def covering_units(practice) -> tuple[str, str, str]:
    """The units whose grants cover a model: its commune, its province, the nation."""
    return (practice.commune_code, practice.province_code, NATIONAL)


def practice_path(practice_id: int) -> str:
    return f"/practices/{practice_id}"


def nomination_path(nomination_id: int) -> str:
    return f"/nominations/{nomination_id}"


def absolute_url(path: str) -> str:
    return current_app.config["REGISTRY_BASE_URL"].rstrip("/") + path


def queue_mail(recipients, subject: str, body: str, path: str, *, actor=None,
               dedupe_key: str | None = None) -> int:
    """One outbox row per recipient (the actor is not told of their own action); each user's
    preference decides whether it goes at once or in the daily digest. Returns the count."""
    actor_id = getattr(actor, "id", None)
    link = absolute_url(path)
    queued = 0
    seen = set()
    for user in recipients:
        if user is None or user.id == actor_id or user.id in seen or not user.email:
            continue
        seen.add(user.id)
        key = f"{dedupe_key}:{user.id}" if dedupe_key else None
        if key and db.session.scalar(select(OutboxMessage.id)
                                     .where(OutboxMessage.dedupe_key == key)):
            continue
        # The content only: the sender adds the greeting and signature (one mail or a digest).
        db.session.add(OutboxMessage(
            user_id=user.id, to_address=user.email, subject=subject[:300],
            body=f"{body}\n\nXem chi tiết: {link}",
            digest=bool(user.mail_digest), dedupe_key=key))
        queued += 1
    return queued


def officers_of(practice) -> list[User]:
    return users_with_role("officer", [practice.commune_code])


def committees_covering(practice) -> list[User]:
    return users_with_role("committee", covering_units(practice))


def committee_of(unit: str) -> list[User]:
    return users_with_role("committee", [unit])



def set_mail_preference(user: User, digest: bool) -> None:
    """Immediate mail or one daily digest (run inside a unit of work). Mail still waiting
    follows the new choice, so nothing is held back for a digest the user no longer wants."""
    from sqlalchemy import update
    digest = bool(digest)
    if bool(user.mail_digest) == digest:
        return
    user.mail_digest = digest
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.user_id == user.id, OutboxMessage.sent_at.is_(None))
        .values(digest=digest).execution_options(synchronize_session=False))
    db.session.flush()
