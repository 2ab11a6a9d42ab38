"""Command-line commands of this module (registered on the `registry` group)."""
from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext

from registry.extensions import db
from registry.interchange.exporter import (
    FORMATS, export_file, unattached_count, write_template,
)
from registry.interchange.importer import import_file
from registry.interchange.layout import ImportFileError


@click.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check every row and report, write nothing.")
@with_appcontext
def import_command(path: str, dry_run: bool) -> None:
    """Import models from a .jsonl, .csv or .xlsx file (upsert by external_id).

    Exit status: 0 when every row was accepted, 1 when some rows were rejected,
    2 when the file itself cannot be read.
    """
    started = time.perf_counter()

    def progress(report):
        if report.total % 10000 < 500:
            usage = resource.getrusage(resource.RUSAGE_SELF)
            click.echo(f"… đã xử lý {report.total} dòng ({time.perf_counter() - started:.0f} s, "
                       f"CPU {usage.ru_utime + usage.ru_stime:.0f} s, "
                       f"bộ nhớ tối đa {usage.ru_maxrss // 1024} MiB)", err=True)

    try:
        report = import_file(path, dry_run=dry_run, on_progress=progress)
    except ImportFileError as exc:
        db.session.rollback()
        click.echo(f"Lỗi: {exc}", err=True)
        sys.exit(2)
    for rejection in report.rejected:
        click.echo(f"Từ chối {rejection.describe()}")
    for label in dict.fromkeys(report.new_kinds):
        click.echo(f"Loại mô hình mới (chờ quản trị xác nhận): {label}")
    click.echo("Kết quả: " + report.summary())
    if report.rejected:
        sys.exit(1)


@click.command("export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="File format (default: from the file name's extension).")
@click.option("--no-personal", is_flag=True,
              help="Leave out core members (names, phones): for trainers and the public.")
@with_appcontext
def export_command(path: str, fmt: str | None, no_personal: bool) -> None:
    """Export every model to JSONL, CSV or XLSX."""
    fmt = fmt or Path(path).suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise click.BadParameter("dùng --format jsonl, csv hoặc xlsx", param_hint="--format")
    count = export_file(path, fmt, include_personal=not no_personal)
    unattached = unattached_count() if fmt == "xlsx" else 0
    db.session.rollback()
    if unattached:
        click.echo(f"Lưu ý: {unattached} mô hình không có mã tham chiếu (external_id) nên "
                   "thành viên và kết quả của chúng không ghi được vào XLSX; "
                   "hãy xuất JSONL hoặc CSV để giữ đủ.", err=True)
    suffix = " (không kèm dữ liệu cá nhân)" if no_personal else ""
    click.echo(f"Đã xuất {count} mô hình ra {path}{suffix}.")


@click.command("import-template")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def import_template_command(path: str) -> None:
    """Write a blank XLSX template (sheets mo_hinh, thanh_vien, ket_qua, danh_muc)."""
    if not path.lower().endswith(".xlsx"):
        raise click.BadParameter("mẫu nhập liệu là tệp .xlsx", param_hint="PATH")
    write_template(path)
    db.session.rollback()
    click.echo(f"Đã tạo mẫu nhập liệu {path}.")


def register(app: Flask) -> None:
    """Add this module's commands to app.cli."""
    for command in (import_command, export_command, import_template_command):
        app.cli.add_command(command)
