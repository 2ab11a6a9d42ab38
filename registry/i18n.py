"""Interface language: Vietnamese by default, English on request (Flask-Babel)."""
from __future__ import annotations

from flask import Flask, request, session
from flask_babel import get_locale

from registry.extensions import babel

LANGUAGES = ("vi", "en")


def select_locale() -> str:
    wanted = request.args.get("lang")
    if wanted in LANGUAGES:
        session["lang"] = wanted
        return wanted
    return session.get("lang") or "vi"


def current_locale() -> str:
    return str(get_locale() or "vi")


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories="translations")
    app.jinja_env.globals["current_locale"] = current_locale
