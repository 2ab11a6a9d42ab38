"""Command-line commands of this module (registered on the `registry` group)."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Add this module's commands to app.cli."""
