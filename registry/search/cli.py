"""Command-line commands of this module (registered on the `registry` group)."""
from __future__ import annotations

import sys
import time

import click
from flask import Flask
from flask.cli import with_appcontext

from registry.extensions import db
from registry.services.uow import unit_of_work
from registry.search.base import SearchUnavailable


class Progress:
    """progress(done, total): a bar on a terminal, plain counts (about every 10 %) otherwise;
    both with the rate in models per second."""

    def __init__(self, label: str):
        self.label = label
        self.started = time.perf_counter()
        self.bar = None
        self.shown = 0
        self.tty = sys.stdout.isatty()

    def rate(self, done: int) -> float:
        return done / max(time.perf_counter() - self.started, 1e-9)

    def __call__(self, done: int, total: int) -> None:
        if self.tty:
            if self.bar is None:
                self.bar = click.progressbar(length=max(total, 1), label=self.label,
                                             show_pos=True, show_eta=True)
                self.bar.__enter__()
            self.bar.update(done - self.shown)
            self.shown = done
            if done >= total:
                self.bar.__exit__(None, None, None)
        elif done == total or done - self.shown >= max(total // 10, 1):
            self.shown = done
            click.echo(f"{self.label}: {done}/{total} mô hình ({self.rate(done):.0f}/giây)")


@click.command("reindex")
@with_appcontext
def reindex_command() -> None:
    """Rebuild the search index from the database (text tables, or the engine's index: a new
    index, then the alias switched to it, so searches never see it empty)."""
    from registry.search import get_backend
    progress = Progress("Lập chỉ mục")
    try:
        with unit_of_work(source="cli"):
            count = get_backend().reindex_all(progress=progress)
    except SearchUnavailable as exc:
        raise click.ClickException(f"Máy chủ tìm kiếm không phản hồi: {exc}") from exc
    elapsed = time.perf_counter() - progress.started
    click.echo(f"Đã lập lại chỉ mục tìm kiếm cho {count} mô hình trong {elapsed:.1f} giây "
               f"({count / max(elapsed, 1e-9):.0f} mô hình/giây).")


@click.command("search-sync")
@with_appcontext
def search_sync_command() -> None:
    """Send the search engine every change it missed (e.g. while it was down), from the
    change log; nothing to do for the SQL backend, which is always in step."""
    from registry.search import get_backend
    backend = get_backend()
    if not hasattr(backend, "sync_missing"):
        click.echo("Tìm kiếm dùng cơ sở dữ liệu: chỉ mục luôn khớp, không có gì để gửi.")
        return
    progress = Progress("Gửi thay đổi")
    try:
        count = backend.sync_missing(progress=progress)
    except SearchUnavailable as exc:
        raise click.ClickException(f"Máy chủ tìm kiếm không phản hồi: {exc}") from exc
    except LookupError as exc:
        raise click.ClickException(f"Không thể bổ sung: {exc}.") from exc
    finally:
        db.session.rollback()
    click.echo(f"Đã gửi {count} mô hình thay đổi tới máy chủ tìm kiếm "
               f"trong {time.perf_counter() - progress.started:.1f} giây.")


def register(app: Flask) -> None:
    """Add this module's commands to app.cli."""
    app.cli.add_command(reindex_command)
    app.cli.add_command(search_sync_command)
