"""Demo data: deterministic plausible models on real communes, removable in one command."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Add this module's commands to app.cli."""
