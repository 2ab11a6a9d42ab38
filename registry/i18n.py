"""Interface language: Vietnamese by default, English on request (Flask-Babel)."""
from __future__ import annotations

from pathlib import Path

from urllib.parse import urlencode

from flask import Flask, has_request_context, request, session
from flask_babel import get_locale

from registry.extensions import babel

LANGUAGES = ("vi", "en")
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def select_locale() -> str:
    """?lang= (remembered in the session), else the session's choice, else Vietnamese."""
    if not has_request_context() or (request.endpoint or "").startswith("api."):
        return "vi"  # CLI commands and API messages stay Vietnamese
    wanted = request.args.get("lang")
    if wanted in LANGUAGES:
        session["lang"] = wanted
        return wanted
    return session.get("lang") or "vi"


def current_locale() -> str:
    """The language of this request's interface ("vi" or "en")."""
    return str(get_locale() or "vi")


def url_with_lang(code: str) -> str:
    """The current page's URL with the interface language switched, other arguments kept."""
    pairs = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    pairs.append(("lang", code))
    return request.path + "?" + urlencode(pairs)


def compile_catalogues(directory: Path = TRANSLATIONS) -> None:
    """Compile each messages.po to .mo when the .mo is missing or older (source of truth: .po)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    for po_path in directory.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalogue = read_po(po_file)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalogue)


def init_app(app: Flask) -> None:
    try:
        compile_catalogues()
    except OSError as exc:  # a read-only install keeps whatever .mo it shipped
        app.logger.warning("could not compile translations: %s", exc)
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(TRANSLATIONS))
    app.jinja_env.globals.update(current_locale=current_locale, url_with_lang=url_with_lang)
