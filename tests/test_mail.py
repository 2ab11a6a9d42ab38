"""Mail through a real SMTP server (aiosmtpd on 127.0.0.1, started here): workflow mail with
its link, daily digests, retry after the server was down, no double send by concurrent runs,
reminders queued once, the preference on the account page. Nothing of ours is mocked.
"""
from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from registry.extensions import db
from tests.test_workflow_api import OWN, RECORD, Api

MEMBERS = [{"name": "Nguyễn Thị Bảo Mật", "role": "truong-thon", "phone": "0912345678"},
           {"name": "Trần Văn Riêng Tư", "role": "truong-thon", "phone": "0987654321"}]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Collect:
    """aiosmtpd handler: keeps every message received (parsed), with its envelope."""

    def __init__(self, delay: float = 0.0):
        self.messages = []
        self.delay = delay

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 OK"

    def to(self, address: str):
        return [m for rcpt, m in self.messages if address in rcpt]


class SmtpServer:
    def __init__(self, port: int, handler: Collect, **options):
        self.port, self.handler, self.controller = port, handler, None
        self.options = options

    def start(self):
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                     **self.options)
        self.controller.start()

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp(app):
    """A running SMTP server the application is configured to use."""
    server = SmtpServer(free_port(), Collect())
    saved = {k: app.config[k] for k in ("REGISTRY_SMTP_HOST", "REGISTRY_SMTP_PORT",
                                        "REGISTRY_MAIL_RETRY_SECONDS")}
    app.config.update(REGISTRY_SMTP_HOST="127.0.0.1", REGISTRY_SMTP_PORT=server.port)
    server.start()
    yield server
    server.stop()
    app.config.update(saved)


@pytest.fixture
def people(app, make_user):
    from registry.accounts.tokens import create_token
    from registry.models.accounts import User
    cast = {"officer": ("officer", OWN), "commune_committee": ("committee", OWN),
            "province_committee": ("committee", "01"), "reviewer_a": ("reviewer", "01")}
    tokens = {}
    for who, (role, unit) in cast.items():
        user_id = make_user(role, unit, email=f"{who}@example.vn", name=f"Chị {who}")
        with app.app_context():
            _, tokens[who] = create_token(db.session.get(User, user_id), "thử")
            db.session.commit()
    return tokens


@pytest.fixture
def api(client, people):
    return Api(client, people)


def send(runner) -> str:
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    return result.output


def outbox(app):
    from registry.models.workflow import OutboxMessage
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return rows


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_workflow_mail_has_vietnamese_content_and_a_link_and_no_personal_data(
        app, api, smtp, runner, client, login):
    practice = api.ok("officer", "POST", "/api/v1/practices",
                      {**RECORD, "core_members": MEMBERS}, 201)
    pid = practice["id"]
    assert api.act("commune_committee", pid, "return", "Bổ sung quy chế hoạt động.") \
        .status_code == 200
    assert api.act("officer", pid, "submit").status_code == 200
    assert smtp.handler.messages == []  # queued, not sent, by the request
    assert "Đã gửi" in send(runner)

    to_officer = smtp.handler.to("officer@example.vn")
    assert len(to_officer) == 1
    message = to_officer[0]
    from registry.domain.workflow import TRANSITION_BY_ACTION
    returned = TRANSITION_BY_ACTION["return"].label_vi
    assert message["Subject"] == f"{returned}: {RECORD['name']}"
    body = text_of(message)
    assert body.startswith("Kính gửi Chị officer,")
    assert "Bổ sung quy chế hoạt động." in body
    link = f"{app.config['REGISTRY_BASE_URL']}/practices/{pid}"
    assert f"Xem chi tiết: {link}" in body
    assert message["From"] == app.config["REGISTRY_MAIL_FROM"]
    # The committees were told of the resubmission, with the same link.
    assert any(link in text_of(m) for m in smtp.handler.to("commune_committee@example.vn"))
    # The link opens the model for the recipient.
    login(client, "officer@example.vn")
    assert client.get(link.removeprefix(app.config["REGISTRY_BASE_URL"])).status_code == 200
    # Core members' names and phone numbers never appear in any mail.
    everything = "\n".join(m.as_string() + text_of(m) + str(m["Subject"])
                           for _rcpt, m in smtp.handler.messages)
    for member in MEMBERS:
        assert member["name"] not in everything and member["phone"] not in everything
    # Sent once: a second run sends nothing.
    count = len(smtp.handler.messages)
    send(runner)
    assert len(smtp.handler.messages) == count
    assert all(row.sent_at is not None and row.attempts == 1 for row in outbox(app))


def _choose(client, login, email, choice):
    login(client, email)
    response = client.post("/account/mail", data={"mail": choice})
    assert response.status_code == 302
    client.post("/logout")


def test_digest_user_gets_one_mail_a_day_immediate_user_one_per_event(
        app, api, smtp, runner, client, login, make_user):
    from registry.models.accounts import User
    make_user("officer", OWN, email="digest@example.vn", name="Anh Tổng Hợp")
    _choose(client, login, "digest@example.vn", "digest")

    def event(name):  # a model returned to its commune: both officers are told
        pid = api.ok("officer", "POST", "/api/v1/practices", {**RECORD, "name": name}, 201)["id"]
        assert api.act("commune_committee", pid, "return", "Bổ sung.").status_code == 200

    names = ["Tổ an ninh số 1", "Tổ an ninh số 2"]
    for name in names:
        event(name)
    output = send(runner)
    assert "1 thư tổng hợp" in output

    assert len(smtp.handler.to("officer@example.vn")) == 2
    digests = smtp.handler.to("digest@example.vn")
    assert len(digests) == 1
    today = datetime.now(timezone(timedelta(hours=7))).strftime("%d/%m/%Y")
    assert digests[0]["Subject"] == f"Tổng hợp việc cần xử lý ngày {today}"
    body = text_of(digests[0])
    assert body.startswith("Kính gửi Anh Tổng Hợp,") and "Có 2 việc" in body
    for name in names:
        assert name in body
    assert body.count("Xem chi tiết: http://") == 2

    # A third event within the day waits for tomorrow's digest.
    event("Tổ an ninh số 3")
    send(runner)
    assert len(smtp.handler.to("digest@example.vn")) == 1
    assert len(smtp.handler.to("officer@example.vn")) == 3
    with app.app_context():  # a day later
        db.session.execute(update(User).where(User.email == "digest@example.vn")
                           .values(last_digest_at=datetime.now(timezone.utc)
                                   - timedelta(hours=24, minutes=1)))
        db.session.commit()
    send(runner)
    second = smtp.handler.to("digest@example.vn")
    assert len(second) == 2 and "Tổ an ninh số 3" in text_of(second[1])
    assert "Có 1 việc" in text_of(second[1])

    # Back to immediate: what is still waiting goes at the next run, alone.
    event("Tổ an ninh số 4")
    _choose(client, login, "digest@example.vn", "immediate")
    send(runner)
    last = smtp.handler.to("digest@example.vn")
    assert len(last) == 3 and "Tổ an ninh số 4" in last[2]["Subject"]


def test_retry_after_the_server_was_down_delivers_exactly_once(app, api, smtp, runner):
    app.config["REGISTRY_MAIL_RETRY_SECONDS"] = 2
    smtp.stop()
    for _ in range(2):
        pid = api.ok("officer", "POST", "/api/v1/practices", RECORD, 201)["id"]
        api.act("commune_committee", pid, "return", "Bổ sung.")
    queued = outbox(app)
    assert len(queued) >= 2  # the returns, and the submissions told to the committees
    output = send(runner)
    assert "1 lần gửi lỗi" in output
    failed = [r for r in outbox(app) if r.attempts]
    assert len(failed) == 1  # the run stops at an unreachable server: others keep their turn
    row = failed[0]
    assert row.sent_at is None and row.last_error
    assert row.next_attempt_at.replace(tzinfo=timezone.utc) > datetime.now(timezone.utc)
    smtp.start()
    output = send(runner)  # the others go; the failed one waits for its back-off
    assert len(smtp.handler.messages) == len(queued) - 1
    assert all(r.sent_at is None for r in outbox(app) if r.id == row.id)
    time.sleep(2.1)
    send(runner)
    send(runner)
    ids = [m["X-Registry-Outbox"] for _rcpt, m in smtp.handler.messages]
    assert sorted(ids) == sorted(str(r.id) for r in queued)  # each exactly once
    again = [r for r in outbox(app) if r.id == row.id][0]
    assert again.sent_at is not None and again.attempts == 2


def test_a_failed_digest_keeps_its_day_and_is_retried(app, api, smtp, runner, client, login,
                                                       make_user):
    from registry.models.accounts import User
    app.config["REGISTRY_MAIL_RETRY_SECONDS"] = 1
    make_user("officer", OWN, email="digest@example.vn")
    _choose(client, login, "digest@example.vn", "digest")
    _choose(client, login, "officer@example.vn", "digest")
    pid = api.ok("officer", "POST", "/api/v1/practices", RECORD, 201)["id"]
    api.act("commune_committee", pid, "return", "Bổ sung.")
    smtp.stop()
    assert "0 thư tổng hợp; 1 lần gửi lỗi" in send(runner)
    with app.app_context():  # the day was given back: the retry is not held for 24 hours
        assert all(u.last_digest_at is None for u in db.session.scalars(select(User)))
    smtp.start()
    time.sleep(1.1)
    assert "2 thư tổng hợp" in send(runner)
    send(runner)
    assert len(smtp.handler.to("digest@example.vn")) == 1
    assert len(smtp.handler.to("officer@example.vn")) == 1


def test_a_row_is_given_up_after_eight_attempts_and_kept(app, api, smtp, runner):
    from registry.models.workflow import OutboxMessage
    from registry.services.mail_sender import MAX_ATTEMPTS
    for _ in range(2):
        pid = api.ok("officer", "POST", "/api/v1/practices", RECORD, 201)["id"]
        api.act("commune_committee", pid, "return", "Bổ sung.")
    with app.app_context():
        first = db.session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id))
        db.session.execute(update(OutboxMessage).where(OutboxMessage.id == first)
                           .values(attempts=MAX_ATTEMPTS - 1))
        db.session.commit()
    smtp.stop()
    result = runner.invoke(args=["send-mail"])
    assert "đã thử 8 lần" in result.output
    smtp.start()
    send(runner)
    rows = outbox(app)
    given_up = [r for r in rows if r.attempts == MAX_ATTEMPTS and r.sent_at is None]
    assert len(given_up) == 1 and given_up[0].last_error  # kept, with why
    assert len(smtp.handler.messages) == len(rows) - 1


def test_starttls_and_login_when_configured(app, api, runner, tmp_path, monkeypatch):
    """A server that requires STARTTLS and a login: a wrong password fails and is retried,
    the right one delivers (the server's certificate is checked)."""
    import ssl

    from aiosmtpd.smtp import AuthResult
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # trust this server's certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (auth_data.login, auth_data.password) == (b"thu", b"mat-khau")
        return AuthResult(success=ok, handled=False)  # not handled: the server answers 535

    server = SmtpServer(free_port(), Collect(), tls_context=context, require_starttls=True,
                        authenticator=authenticate, auth_required=True)
    saved = dict(app.config)
    app.config.update(REGISTRY_SMTP_HOST="127.0.0.1", REGISTRY_SMTP_PORT=server.port,
                      REGISTRY_SMTP_STARTTLS=True, REGISTRY_SMTP_USER="thu",
                      REGISTRY_SMTP_PASSWORD="sai", REGISTRY_MAIL_RETRY_SECONDS=1)
    server.start()
    try:
        pid = api.ok("officer", "POST", "/api/v1/practices", RECORD, 201)["id"]
        api.act("commune_committee", pid, "return", "Bổ sung.")
        assert "1 lần gửi lỗi" in send(runner)
        assert "SMTPAuthenticationError" in outbox(app)[0].last_error
        app.config["REGISTRY_SMTP_PASSWORD"] = "mat-khau"
        time.sleep(1.1)
        queued = len(outbox(app))  # the return, and the submission told to the committees
        assert f"Đã gửi {queued} thư" in send(runner)
        assert len(server.handler.to("officer@example.vn")) == 1
    finally:
        server.stop()
        app.config.clear()
        app.config.update(saved)


def test_never_sent_inside_a_request(app):
    from registry.services.mail_sender import send_mail
    with app.test_request_context("/"):
        with pytest.raises(RuntimeError):
            send_mail()


def test_concurrent_runs_never_send_a_row_twice(app, smtp, make_user):
    """Three `registry send-mail` processes at once over 60 rows (two digests among them)."""
    from registry.models.accounts import User
    from registry.services import mail
    from registry.services.uow import unit_of_work
    smtp.handler.delay = 0.01
    ids = [make_user("committee", OWN, email=f"u{i}@example.vn") for i in range(6)]
    with app.app_context():
        with unit_of_work(source="test"):
            users = [db.session.get(User, i) for i in ids]
            for user in users[:2]:
                user.mail_digest = True
            for n in range(10):
                mail.queue_mail(users, f"Việc số {n}", f"Nội dung {n}", f"/practices/{n}")
    env = {**os.environ, "REGISTRY_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "REGISTRY_SECRET_KEY": "test-secret", "REGISTRY_SMTP_HOST": "127.0.0.1",
           "REGISTRY_SMTP_PORT": str(smtp.port), "FLASK_APP": ""}
    registry = Path(sys.executable).with_name("registry")
    runs = [subprocess.Popen([str(registry), "send-mail"], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True) for _ in range(3)]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs
    import re
    counts = [re.search(r"Đã gửi (\d+) thư, (\d+) thư tổng hợp", out) for out in outputs]
    assert sum(int(c[1]) for c in counts) == 40 and sum(int(c[2]) for c in counts) == 2
    received = [m["X-Registry-Outbox"] for _rcpt, m in smtp.handler.messages]
    rows = outbox(app)
    assert all(r.sent_at is not None for r in rows), outputs
    singles = [i for i in received if "," not in i]
    assert len(singles) == len(set(singles)) == 40
    digests = [i for i in received if "," in i]
    assert len(digests) == 2 and all(len(d.split(",")) == 10 for d in digests)
    every = singles + [i for d in digests for i in d.split(",")]
    assert sorted(every, key=int) == sorted((str(r.id) for r in rows), key=int)


def test_reminders_are_queued_once(app, api, smtp, runner, make_practice):
    from registry.models.workflow import OutboxMessage
    recent = {**RECORD, "outcomes": [{"period": f"{date.today().year - 1}-H2",
                                      "tips_reported": 3}]}
    pid = api.ok("officer", "POST", "/api/v1/practices", recent, 201)["id"]
    api.act("commune_committee", pid, "verify")
    nid = api.ok("officer", "POST", "/api/v1/nominations",
                 {"practice_id": pid, "level": "province", "reason": "Tốt.",
                  "periods": [recent["outcomes"][0]["period"]]}, 201)["id"]
    due = date.today() + timedelta(days=2)
    api.ok("province_committee", "POST", f"/api/v1/nominations/{nid}/reviewers",
           {"reviewer": "reviewer_a@example.vn", "due": due.isoformat()}, 201)
    old = make_practice(name="Mô hình lâu không báo cáo", commune_code=OWN,
                        outcomes=[{"period": "2020-H1"}])
    with app.app_context():
        before = db.session.scalar(select(db.func.count()).select_from(OutboxMessage))

    def reminders():
        with app.app_context():
            return db.session.scalars(select(OutboxMessage).where(
                OutboxMessage.dedupe_key.like("remind:%")).order_by(OutboxMessage.id)).all()

    result = runner.invoke(args=["remind"])
    assert result.exit_code == 0, result.output
    assert "1 sắp đến hạn thẩm định" in result.output
    assert "1 mô hình chưa báo cáo" in result.output
    for again in range(2):  # running again queues nothing
        assert "0 sắp đến hạn thẩm định, 0 quá hạn thẩm định, 0 mô hình" in runner.invoke(
            args=["remind"]).output
    late = (due + timedelta(days=1)).isoformat()
    assert "1 quá hạn thẩm định" in runner.invoke(args=["remind", "--today", late]).output
    assert "0 quá hạn thẩm định" in runner.invoke(args=["remind", "--today", late]).output
    assert len(reminders()) == 3
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(OutboxMessage)) \
            == before + 3

    send(runner)
    base = app.config["REGISTRY_BASE_URL"]
    to_reviewer = [m for m in smtp.handler.to("reviewer_a@example.vn")
                   if "hạn thẩm định" in m["Subject"]]
    assert [m["Subject"].split(":")[0] for m in to_reviewer] == [
        "Sắp đến hạn thẩm định", "Quá hạn thẩm định"]
    assert all(f"{base}/nominations/{nid}" in text_of(m) for m in to_reviewer)
    assert f"trước ngày {due.strftime('%d/%m/%Y')}" in text_of(to_reviewer[0])
    inactive = [m for m in smtp.handler.to("officer@example.vn")
                if "chưa có báo cáo" in m["Subject"]]
    assert len(inactive) == 1 and f"{base}/practices/{old}" in text_of(inactive[0])
    assert "Mô hình lâu không báo cáo" in inactive[0]["Subject"]


def test_mail_preference_form_is_csrf_protected_and_shown(app, client, login, make_user):
    from registry.models.accounts import User
    user_id = make_user("officer", OWN)
    login(client, user_id)
    page = client.get("/account").get_data(as_text=True)
    assert "ngay khi có việc" in page and "một thư tổng hợp mỗi ngày" in page
    assert 'value="immediate" checked' in page or "checked" in page
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert client.post("/account/mail", data={"mail": "digest"}).status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert client.post("/account/mail", data={"mail": "nonsense"}).status_code == 400
    with app.app_context():
        assert db.session.get(User, user_id).mail_digest is False
    assert client.post("/account/mail", data={"mail": "digest"}).status_code == 302
    with app.app_context():
        assert db.session.get(User, user_id).mail_digest is True
    assert client.get("/account?lang=en").status_code == 200
    assert "one digest a day" in client.get("/account").get_data(as_text=True)
