"""The `registry` command: a Flask CLI group whose subcommands each module contributes."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate import upgrade

from registry.services.uow import unit_of_work


def _create_app():
    from registry import create_app
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True)
def main() -> None:
    """Registry of self-management models: set-up, data exchange and administration."""


@click.command("load-units")
@with_appcontext
def load_units_command() -> None:
    """Load the current 34 provinces and 3,321 communes (offline, from vietnam-provinces)."""
    from registry.units import load_units
    with unit_of_work(source="cli"):
        provinces, communes = load_units()
    click.echo(f"Đã nạp {provinces} tỉnh, thành phố và {communes} xã, phường, đặc khu.")


@click.command("load-vocabularies")
@with_appcontext
def load_vocabularies_command() -> None:
    """Load or refresh the seeded vocabularies and abbreviations from seed/."""
    from registry.vocabularies import load_seed_vocabularies
    with unit_of_work(source="cli"):
        added = load_seed_vocabularies()
    click.echo("Đã nạp danh mục: " + ", ".join(f"{k} +{v}" for k, v in added.items()))


@click.command("setup")
@click.option("--demo", "demo_count", type=int, default=800, show_default=True,
              help="Demo models to generate when the catalogue is empty (0: none).")
@with_appcontext
def setup_command(demo_count: int) -> None:
    """Migrate the database, load vocabularies and units, add demo data and demo accounts."""
    from click import get_current_context
    upgrade()
    ctx = get_current_context()
    ctx.invoke(load_vocabularies_command)
    ctx.invoke(load_units_command)
    for hook in SETUP_HOOKS:
        hook(demo_count)


# Functions called by `registry setup` after the reference data is loaded (demo data,
# demo accounts); modules append to it in their register().
SETUP_HOOKS: list = []


def init_app(app: Flask) -> None:
    for command in (load_units_command, load_vocabularies_command, setup_command):
        app.cli.add_command(command)
    from registry import backup, demo, mail_cli, vocabulary_admin
    from registry.accounts import cli as accounts_cli
    from registry.interchange import cli as interchange_cli
    from registry.search import cli as search_cli
    for module in (interchange_cli, demo, accounts_cli, search_cli, vocabulary_admin, backup,
                   mail_cli):
        module.register(app)
