"""Command-line commands of this module (registered on the `registry` group)."""
from __future__ import annotations

import time

import click
from flask import Flask
from flask.cli import with_appcontext

from registry.extensions import db


@click.command("reindex")
@with_appcontext
def reindex_command() -> None:
    """Rebuild the search index from the database (text tables, or Elasticsearch)."""
    from registry.search import get_backend
    started = time.perf_counter()
    try:
        count = get_backend().reindex_all()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    click.echo(f"Đã lập lại chỉ mục tìm kiếm cho {count} mô hình "
               f"trong {time.perf_counter() - started:.1f} giây.")


def register(app: Flask) -> None:
    """Add this module's commands to app.cli."""
    app.cli.add_command(reindex_command)
