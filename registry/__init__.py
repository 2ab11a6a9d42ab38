"""The registry of self-management models: the application factory."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Build the application; `config` overrides what the environment gives."""
    app = Flask(__name__, template_folder=str(ROOT / "templates"),
                static_folder="static", instance_path=str(ROOT / "instance"))
    from registry.config import from_environment
    app.config.update(from_environment(Path(app.instance_path)))
    if config:
        app.config.update(config)
    # JSON as documented (keys in their order) and in UTF-8: "ò" is 2 bytes, not "\u00f2"'s 6.
    app.json.sort_keys = False
    app.json.ensure_ascii = False

    from registry import database, delivery, i18n, routing, security_headers, web
    routing.init_app(app)  # first: the routes below are built with its converters
    security_headers.init_app(app)
    delivery.init_app(app)
    database.init_app(app)
    i18n.init_app(app)
    from registry import accounts, api, cli, search
    accounts.init_app(app)
    search.init_app(app)
    web.init_app(app)
    api.init_app(app)
    cli.init_app(app)
    return app
