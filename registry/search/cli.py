"""Command-line commands of this module (registered on the `registry` group)."""
from __future__ import annotations

import time

import click
from flask import Flask
from flask.cli import with_appcontext

from registry.services.uow import unit_of_work


@click.command("reindex")
@with_appcontext
def reindex_command() -> None:
    """Rebuild the search index from the database (text tables, or Elasticsearch)."""
    from registry.search import get_backend
    started = time.perf_counter()
    with unit_of_work(source="cli"):
        count = get_backend().reindex_all()
    click.echo(f"Đã lập lại chỉ mục tìm kiếm cho {count} mô hình "
               f"trong {time.perf_counter() - started:.1f} giây.")


def register(app: Flask) -> None:
    """Add this module's commands to app.cli."""
    app.cli.add_command(reindex_command)
