"""WSGI entry point: `gunicorn wsgi:app` (each worker warms its search structures at start)."""
from registry import create_app
from registry.search import warm_up

app = create_app()
warm_up(app)
