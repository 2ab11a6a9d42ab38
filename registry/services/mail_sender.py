"""Delivering the outbox (`registry send-mail`): immediate rows at once, digest rows in one
mail per user per day, retried with exponential back-off; never inside a request.

Safe to run from cron every minute and twice at once. Each row (or each user's digest) is
claimed in its own short transaction before anything is sent: a conditional UPDATE that only
matches while the row is unsent and due, and that pushes `next_attempt_at` forward by a lease
and counts the attempt. Two runs race for the same row; the database lets one UPDATE match
(PostgreSQL re-checks the WHERE clause after the first commit, SQLite serialises writers), the
other sees no row and moves on. `attempts` is the claim's fencing token: the result is
recorded only while it still holds the value claimed. A run that dies after claiming leaves
the row to be retried once the lease expires (at-least-once delivery). A digest is claimed by
moving the user's `last_digest_at` to now, under the same kind of condition.
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from urllib.parse import urlsplit

from flask import current_app, has_request_context
from sqlalchemy import and_, func, or_, select, update

from registry.extensions import db
from registry.models.accounts import User
from registry.models.workflow import OutboxMessage
from registry.services.uow import unit_of_work

MAX_ATTEMPTS = 8          # then the row is given up, kept with its last error
LEASE = timedelta(minutes=10)  # a claimed row is left alone this long by other runs
BACKOFF_CAP = timedelta(hours=12)
DIGEST_EVERY = timedelta(hours=24)
BATCH = 500
VIETNAM = timezone(timedelta(hours=7))  # Asia/Ho_Chi_Minh, no daylight saving
SIGNATURE = ("—\nCơ sở dữ liệu mô hình tự phòng, tự quản\n"
             "(Thư tự động; đổi cách nhận thư ở trang Tài khoản.)")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def backoff(attempts: int) -> timedelta:
    """Wait after the n-th failed attempt: base, 2 × base, 4 × base … capped at 12 hours."""
    base = timedelta(seconds=current_app.config.get("REGISTRY_MAIL_RETRY_SECONDS", 60))
    return min(base * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)


@dataclass
class SendReport:
    sent: int = 0        # immediate mails delivered
    digests: int = 0     # digest mails delivered
    failed: int = 0      # attempts that failed (retried later, or given up)
    given_up: int = 0    # rows that reached MAX_ATTEMPTS now
    errors: list[str] = field(default_factory=list)


def _due(now: datetime):
    return and_(OutboxMessage.sent_at.is_(None), OutboxMessage.attempts < MAX_ATTEMPTS,
                OutboxMessage.next_attempt_at <= now)


def letter(name: str | None, text: str) -> str:
    """The envelope of every mail: greeting, the content, the signature."""
    return f"Kính gửi {name or 'anh/chị'},\n\n{text}\n\n{SIGNATURE}"


def digest_subject(day) -> str:
    return f"Tổng hợp việc cần xử lý ngày {day.strftime('%d/%m/%Y')}"


class Mailer:
    """One SMTP connection per run, opened on the first mail (STARTTLS and login as
    configured)."""

    def __init__(self, config):
        self.config = config
        self.smtp: smtplib.SMTP | None = None

    def send(self, to_address: str, subject: str, body: str, message_id: str,
             extra: dict | None = None) -> None:
        message = EmailMessage()
        message["From"] = self.config["REGISTRY_MAIL_FROM"]
        message["To"] = to_address
        message["Subject"] = subject
        message["Date"] = format_datetime(utcnow())
        message["Message-ID"] = message_id
        message["Auto-Submitted"] = "auto-generated"
        for key, value in (extra or {}).items():
            message[key] = value
        message.set_content(body, cte="quoted-printable")
        if self.smtp is None:
            self.smtp = self._connect()
        self.smtp.send_message(message)

    def _connect(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP(self.config["REGISTRY_SMTP_HOST"],
                            int(self.config["REGISTRY_SMTP_PORT"]), timeout=30)
        try:
            smtp.ehlo()
            if self.config.get("REGISTRY_SMTP_STARTTLS"):
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self.config.get("REGISTRY_SMTP_USER"):
                smtp.login(self.config["REGISTRY_SMTP_USER"],
                           self.config.get("REGISTRY_SMTP_PASSWORD", ""))
        except BaseException:
            smtp.close()
            raise
        return smtp

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()
            self.smtp = None


def _message_id(local: str) -> str:
    host = urlsplit(current_app.config["REGISTRY_BASE_URL"]).hostname or "localhost"
    return make_msgid(idstring=local, domain=host)


def _connection_lost(exc: BaseException) -> bool:
    """Errors that will fail every further mail of this run too (server down, auth)."""
    return isinstance(exc, (OSError, smtplib.SMTPServerDisconnected,
                            smtplib.SMTPConnectError, smtplib.SMTPAuthenticationError,
                            smtplib.SMTPHeloError, smtplib.SMTPNotSupportedError))


def send_mail(now: datetime | None = None) -> SendReport:
    """Deliver what is due; see the module docstring. Returns the counts."""
    if has_request_context():
        raise RuntimeError("mail is sent by `registry send-mail`, never inside a request")
    report = SendReport()
    mailer = Mailer(current_app.config)
    try:
        if _send_immediate(mailer, report, now):
            _send_digests(mailer, report, now)
    finally:
        mailer.close()
    return report


# --- immediate rows ----------------------------------------------------------------------

def _claim_row(row_id: int, attempts: int, now: datetime) -> int | None:
    """Claim one row seen with `attempts` (compare and set); returns the attempt number now
    held, None if another run has it."""
    with unit_of_work(source="mail"):
        claimed = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id, OutboxMessage.attempts == attempts, _due(now))
            .values(attempts=attempts + 1, next_attempt_at=now + LEASE)
            .execution_options(synchronize_session=False)).rowcount
    return attempts + 1 if claimed else None


def _record(row_ids, attempt_of: dict[int, int], now: datetime, error: str | None,
            report: SendReport) -> None:
    """Mark claimed rows sent, or failed with back-off, while the claim still holds."""
    with unit_of_work(source="mail"):
        for row_id in row_ids:
            attempt = attempt_of[row_id]
            values = {"sent_at": now, "last_error": ""} if error is None else {
                "next_attempt_at": now + backoff(attempt), "last_error": error[:2000]}
            db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id, OutboxMessage.attempts == attempt,
                       OutboxMessage.sent_at.is_(None))
                .values(**values).execution_options(synchronize_session=False))
            if error is not None:
                report.failed += 1
                report.given_up += attempt >= MAX_ATTEMPTS


def _send_immediate(mailer: Mailer, report: SendReport, now) -> bool:
    """Returns False when the server could not be reached (the rest waits for a later run)."""
    after = 0  # each row is looked at once per run, even when it failed and is due again
    while True:
        moment = now or utcnow()
        with unit_of_work(source="mail"):
            rows = db.session.execute(
                select(OutboxMessage.id, OutboxMessage.attempts, OutboxMessage.to_address,
                       OutboxMessage.subject, OutboxMessage.body, User.name)
                .outerjoin(User, User.id == OutboxMessage.user_id)
                .where(_due(moment), OutboxMessage.digest.is_(False),
                       OutboxMessage.id > after)
                .order_by(OutboxMessage.id).limit(BATCH)).all()
        if not rows:
            return True
        for row in rows:
            after = row.id
            attempt = _claim_row(row.id, row.attempts, moment)
            if attempt is None:
                continue
            try:
                mailer.send(row.to_address, row.subject, letter(row.name, row.body),
                            _message_id(f"outbox-{row.id}"),
                            {"X-Registry-Outbox": str(row.id)})
            except (smtplib.SMTPException, OSError) as exc:
                _record([row.id], {row.id: attempt}, now or utcnow(), _describe(exc), report)
                report.errors.append(f"#{row.id}: {_describe(exc)}")
                if _connection_lost(exc):
                    mailer.close()
                    return False
                continue
            _record([row.id], {row.id: attempt}, now or utcnow(), None, report)
            report.sent += 1


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


# --- digests -----------------------------------------------------------------------------

def _send_digests(mailer: Mailer, report: SendReport, now) -> None:
    moment = now or utcnow()
    with unit_of_work(source="mail"):
        user_ids = list(db.session.scalars(
            select(OutboxMessage.user_id).join(User, User.id == OutboxMessage.user_id)
            .where(_due(moment), OutboxMessage.digest.is_(True),
                   or_(User.last_digest_at.is_(None),
                       User.last_digest_at <= moment - DIGEST_EVERY))
            .distinct()))
    for user_id in sorted(user_ids):
        if not _send_digest(mailer, report, user_id, now or utcnow()):
            return


def _send_digest(mailer: Mailer, report: SendReport, user_id: int, now: datetime) -> bool:
    """Claim the user's day (last_digest_at), then their due digest rows; send one mail."""
    with unit_of_work(source="mail"):
        user = db.session.get(User, user_id)
        previous = user.last_digest_at
        won = db.session.execute(
            update(User).where(User.id == user_id,
                               or_(User.last_digest_at.is_(None),
                                   User.last_digest_at <= now - DIGEST_EVERY))
            .values(last_digest_at=now).execution_options(synchronize_session=False)).rowcount
        rows = []
        if won:
            rows = list(db.session.execute(
                select(OutboxMessage.id, OutboxMessage.attempts, OutboxMessage.to_address,
                       OutboxMessage.subject, OutboxMessage.body)
                .where(OutboxMessage.user_id == user_id, OutboxMessage.digest.is_(True),
                       _due(now))
                .order_by(OutboxMessage.created_at, OutboxMessage.id)))
            if rows:
                db.session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_([r.id for r in rows]))
                    .values(attempts=OutboxMessage.attempts + 1, next_attempt_at=now + LEASE)
                    .execution_options(synchronize_session=False))
            name, address = user.name, user.email
        db.session.expire_all()
    if not won or not rows:
        return True
    attempt_of = {r.id: r.attempts + 1 for r in rows}
    day = now.astimezone(VIETNAM).date()
    items = "\n\n".join(f"{i}. {r.subject}\n{r.body}" for i, r in enumerate(rows, 1))
    text = (f"Có {len(rows)} việc liên quan đến anh/chị trong ngày qua:\n\n{items}")
    try:
        mailer.send(address, digest_subject(day), letter(name, text),
                    _message_id(f"digest-{user_id}-{day.isoformat()}"),
                    {"X-Registry-Outbox": ",".join(str(r.id) for r in rows)})
    except (smtplib.SMTPException, OSError) as exc:
        _record(attempt_of, attempt_of, now, _describe(exc), report)
        report.errors.append(f"digest {address}: {_describe(exc)}")
        with unit_of_work(source="mail"):  # the day was not used: give it back
            db.session.execute(update(User).where(User.id == user_id,
                                                  User.last_digest_at == now)
                               .values(last_digest_at=previous)
                               .execution_options(synchronize_session=False))
        if _connection_lost(exc):
            mailer.close()
            return False
        return True
    _record(attempt_of, attempt_of, now, None, report)
    report.digests += 1
    return True


def given_up_count() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.sent_at.is_(None), OutboxMessage.attempts >= MAX_ATTEMPTS))
