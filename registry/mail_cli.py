"""`registry send-mail` and `registry remind`: the outbox delivered, reminders queued (cron)."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from registry.extensions import db
from registry.services.uow import unit_of_work


@click.command("send-mail")
@with_appcontext
def send_mail_command() -> None:
    """Send due outbox mail (immediate at once, daily digests); safe from cron every minute."""
    from registry.services.mail_sender import MAX_ATTEMPTS, given_up_count, send_mail
    report = send_mail()
    click.echo(f"Đã gửi {report.sent} thư, {report.digests} thư tổng hợp; "
               f"{report.failed} lần gửi lỗi (sẽ thử lại).")
    for error in report.errors[:20]:
        click.echo(f"  lỗi: {error}", err=True)
    given_up = given_up_count()
    db.session.rollback()
    if given_up:
        click.echo(f"{given_up} thư đã thử {MAX_ATTEMPTS} lần không gửi được (giữ lại trong "
                   "hộp thư đi, xem last_error).", err=True)


@click.command("remind")
@click.option("--today", "today", default=None, type=click.DateTime(["%Y-%m-%d"]),
              help="Treat this day (YYYY-MM-DD) as today (catching up a missed day).")
@with_appcontext
def remind_command(today) -> None:
    """Queue reminders: reviews due in 2 days or overdue, models without a results report."""
    from registry.services.reminders import queue_reminders
    day = today.date() if today else None
    with unit_of_work(source="cli"):
        report = queue_reminders(day)
    click.echo(f"Đã xếp hàng nhắc việc: {report.due_soon} sắp đến hạn thẩm định, "
               f"{report.overdue} quá hạn thẩm định, {report.inactive} mô hình chưa báo cáo "
               "kết quả.")


def register(app: Flask) -> None:
    app.cli.add_command(send_mail_command)
    app.cli.add_command(remind_command)
