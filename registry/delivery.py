"""How responses travel: compressed pages, static files versioned by content and cached long."""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Flask, redirect, request, url_for
from flask_compress import Compress

# Pages, styles, scripts and charts. JSON is left alone: Flask-Compress rewrites strong ETags
# ("…:gzip"), and the API's ETags are model versions that clients send back in If-Match.
COMPRESSED_TYPES = ["text/html", "text/css", "text/javascript", "application/javascript",
                    "image/svg+xml", "text/plain"]
LONG_CACHE = "public, max-age=31536000, immutable"
compress = Compress()


def init_app(app: Flask) -> None:
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    compress.init_app(app)
    static_root = Path(app.static_folder)

    @lru_cache(maxsize=256)
    def version_of(filename: str) -> str | None:
        path = (static_root / filename).resolve()
        if static_root.resolve() not in path.parents or not path.is_file():
            return None
        return hashlib.sha1(path.read_bytes()).hexdigest()[:12]

    @app.url_defaults
    def add_static_version(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values:
            version = version_of(values.get("filename", ""))
            if version:
                values["v"] = version

    @app.after_request
    def cache_versioned_static(response):
        if request.endpoint == "static" and response.status_code == 200:
            filename = (request.view_args or {}).get("filename", "")
            if request.args.get("v") and request.args.get("v") == version_of(filename):
                response.headers["Cache-Control"] = LONG_CACHE
        return response

    @app.get("/favicon.ico")
    def favicon():
        return redirect(url_for("static", filename="favicon.svg"), 301)
