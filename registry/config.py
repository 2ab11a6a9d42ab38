"""Configuration read from the environment, with safe defaults for a local install."""
from __future__ import annotations

import os
import secrets
from pathlib import Path


def _secret_key(instance_path: Path) -> str:
    """The key from REGISTRY_SECRET_KEY, else one generated once into instance/secret_key."""
    given = os.environ.get("REGISTRY_SECRET_KEY")
    if given:
        return given
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def from_environment(instance_path: Path) -> dict:
    """Settings for create_app; every name can be overridden by the test suite."""
    instance_path.mkdir(parents=True, exist_ok=True)
    default_db = "sqlite:///" + str(instance_path / "registry.sqlite3")
    return {
        "SECRET_KEY": _secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": os.environ.get("REGISTRY_DATABASE_URL", default_db),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REGISTRY_ELASTICSEARCH_URL": os.environ.get("REGISTRY_ELASTICSEARCH_URL") or None,
        "REGISTRY_ELASTICSEARCH_INDEX": os.environ.get("REGISTRY_ELASTICSEARCH_INDEX",
                                                       "registry-practices"),
        "REGISTRY_OPENSEARCH_URL": os.environ.get("REGISTRY_OPENSEARCH_URL") or None,
        "REGISTRY_OPENSEARCH_INDEX": os.environ.get("REGISTRY_OPENSEARCH_INDEX",
                                                    "registry-practices"),
        "REGISTRY_UPLOAD_DIR": os.environ.get("REGISTRY_UPLOAD_DIR",
                                              str(instance_path / "uploads")),
        "REGISTRY_MAX_UPLOAD_BYTES": int(os.environ.get("REGISTRY_MAX_UPLOAD_BYTES",
                                                        10 * 1024 * 1024)),
        "MAX_CONTENT_LENGTH": int(os.environ.get("REGISTRY_MAX_UPLOAD_BYTES",
                                                 10 * 1024 * 1024)) + 1024 * 1024,
        "REGISTRY_PER_PAGE": 20,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("REGISTRY_SECURE_COOKIES", "") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "LANGUAGES": ["vi", "en"],
        # The workflow (docs/workflow.md).
        "REGISTRY_BASE_URL": os.environ.get("REGISTRY_BASE_URL", "http://127.0.0.1:5000"),
        "REGISTRY_REVIEWERS_REQUIRED": int(os.environ.get("REGISTRY_REVIEWERS_REQUIRED", 2)),
        "REGISTRY_INACTIVE_MONTHS": int(os.environ.get("REGISTRY_INACTIVE_MONTHS", 18)),
        "REGISTRY_REVIEW_DAYS": int(os.environ.get("REGISTRY_REVIEW_DAYS", 14)),
        # Mail (registry send-mail): an SMTP server, plain or STARTTLS.
        "REGISTRY_SMTP_HOST": os.environ.get("REGISTRY_SMTP_HOST", "127.0.0.1"),
        "REGISTRY_SMTP_PORT": int(os.environ.get("REGISTRY_SMTP_PORT", 25)),
        "REGISTRY_SMTP_STARTTLS": os.environ.get("REGISTRY_SMTP_STARTTLS", "") == "1",
        "REGISTRY_SMTP_USER": os.environ.get("REGISTRY_SMTP_USER", ""),
        "REGISTRY_SMTP_PASSWORD": os.environ.get("REGISTRY_SMTP_PASSWORD", ""),
        "REGISTRY_MAIL_FROM": os.environ.get("REGISTRY_MAIL_FROM",
                                             "Co so du lieu mo hinh <no-reply@localhost>"),
        # First retry after this many seconds, then doubling (at most 12 h, 8 attempts).
        "REGISTRY_MAIL_RETRY_SECONDS": int(os.environ.get("REGISTRY_MAIL_RETRY_SECONDS", 60)),
    }
