"""URL converters: an id in a URL beyond the database's integer range is a 404, never a 500."""
from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

# Primary keys are INTEGER columns: 32-bit signed on PostgreSQL (a larger literal makes the
# query fail). SQLite stores 64 bits, but one URL gets one answer on every engine.
MAX_ID = 2**31 - 1


def at_most(limit: int) -> str:
    """A regular expression matching the decimal numbers 0..limit (leading zeros allowed)."""
    digits = str(limit)
    alternatives = [r"\d{1,%d}" % (len(digits) - 1)] if len(digits) > 1 else []
    for i, digit in enumerate(digits):
        if digit != "0":
            rest = len(digits) - i - 1
            alternatives.append(digits[:i] + f"[0-{int(digit) - 1}]" + (r"\d{%d}" % rest
                                                                        if rest else ""))
    alternatives.append(digits)
    return "0*(?:" + "|".join(alternatives) + ")"


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` limited to 0..MAX_ID by default.

    The limit is in the regular expression, not only in to_python: Werkzeug checks a rule's
    methods before converting, so a number refused only by to_python would answer 405 (for a
    method another rule of the same path has) instead of 404.
    """

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = MAX_ID, signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
        if max is not None and not signed and not fixed_digits:
            self.regex = at_most(max)


def init_app(app: Flask) -> None:
    """Replace the `int` converter before any route is registered, so every id route uses it."""
    app.url_map.converters["int"] = BoundedIntConverter
