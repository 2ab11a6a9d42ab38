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
from registry.interchange.importer import BATCH_SIZE, import_file
from registry.interchange.layout import ImportFileError


@click.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check every row and report, write nothing.")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=BATCH_SIZE,
              show_default=True, help="Rows per transaction (each batch is committed whole).")
@with_appcontext
def import_command(path: str, dry_run: bool, batch_size: int) -> None:
    """Import models from a .jsonl, .csv or .xlsx file (upsert by external_id).

    Exit status: 0 when every row was accepted, 1 when some rows were rejected,
    2 when the file itself cannot be read.
    """
    progress = Progress(path)
    try:
        report = import_file(path, dry_run=dry_run, batch_size=batch_size,
                             on_progress=progress.show)
    except ImportFileError as exc:
        db.session.rollback()
        progress.done()
        click.echo(f"Lỗi: {exc}", err=True)
        sys.exit(2)
    progress.done()
    for rejection in report.rejected:
        click.echo(f"Từ chối {rejection.describe()}")
    for label in dict.fromkeys(report.new_kinds):
        click.echo(f"Loại mô hình mới (chờ quản trị xác nhận): {label}")
    click.echo("Kết quả: " + report.summary())
    if report.rejected:
        sys.exit(1)


class Progress:
    """On a terminal, a bar with rows per second and time left (stderr); otherwise a line
    of counts every 10,000 rows, for logs."""

    def __init__(self, path) -> None:
        self.started = time.perf_counter()
        self.tty = sys.stderr.isatty()
        self.total = _line_count(path) if self.tty else None
        self.next_line = 10_000
        self.drawn = False

    def show(self, report) -> None:
        done = report.total
        elapsed = max(time.perf_counter() - self.started, 1e-6)
        rate = done / elapsed
        if self.tty:
            total = max(self.total or done, done)
            share = done / total if total else 1.0
            filled = int(share * 30)
            left = (total - done) / rate if rate else 0
            click.echo(f"\r[{'#' * filled}{'.' * (30 - filled)}] {share:4.0%} {done:,}/{total:,} "
                       f"dòng, {rate:,.0f} dòng/s, còn khoảng {_clock(left)}   ", err=True,
                       nl=False)
            self.drawn = True
        elif done >= self.next_line:
            usage = resource.getrusage(resource.RUSAGE_SELF)
            click.echo(f"… đã xử lý {done} dòng ({elapsed:.0f} s, {rate:.0f} dòng/s, "
                       f"CPU {usage.ru_utime + usage.ru_stime:.0f} s, "
                       f"bộ nhớ tối đa {usage.ru_maxrss // 1024} MiB)", err=True)
            self.next_line = (done // 10_000 + 1) * 10_000

    def done(self) -> None:
        if self.drawn:
            click.echo("", err=True)


def _line_count(path) -> int | None:
    """Lines of a JSONL/CSV file (an estimate of its rows, for the bar); None for XLSX."""
    if Path(path).suffix.lower() not in (".jsonl", ".ndjson", ".csv"):
        return None
    try:
        with open(path, "rb") as handle:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    except OSError:
        return None


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


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
