"""Fixtures: one application per database engine (SQLite and PostgreSQL), reset after each test.

Every test that uses `app` (directly or through `client`, `runner`, `make_practice`, ...)
runs once on SQLite and once on PostgreSQL. Each run creates its own databases and drops
them at the end; nothing depends on what an earlier run left behind.
"""
from __future__ import annotations

import os
import uuid
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, select, text

from registry import create_app
from registry.extensions import db

PG_ADMIN_URL = os.environ.get("REGISTRY_TEST_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
ENGINES = [e for e in os.environ.get("REGISTRY_TEST_ENGINES", "sqlite,postgresql").split(",")
           if e]
# Tables whose rows are reference data loaded once per session (kept between tests), and the
# search change log: emptying it would lose changes a search backend has not replayed yet
# (e.g. a test that wrote models but never searched), leaving deleted ids in its structures.
REFERENCE_TABLES = {"province", "commune", "abbreviation", "alembic_version",
                    "search_counter", "search_change"}


def _postgres_database(tmp_name: str):
    """Create a fresh PostgreSQL database; returns (url, drop function)."""
    try:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{tmp_name}"'))
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is unreachable at {PG_ADMIN_URL} in CI: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {PG_ADMIN_URL}: {exc}")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + tmp_name

    def drop():
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n AND pid <> pg_backend_pid()"),
                         {"n": tmp_name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{tmp_name}"'))
        admin.dispose()
    return url, drop


def build_app(engine: str, tmp_path_factory, extra: dict | None = None):
    """A migrated application with vocabularies and units loaded, and its teardown."""
    base = tmp_path_factory.mktemp(f"registry-{engine}")
    name = f"registry_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    drop = None
    if engine == "sqlite":
        url = f"sqlite:///{base / 'test.sqlite3'}"
    else:
        url, drop = _postgres_database(name)
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "REGISTRY_UPLOAD_DIR": str(base / "uploads"),
        "REGISTRY_ENGINE": engine,
        "REGISTRY_ELASTICSEARCH_URL": None,
        "REGISTRY_OPENSEARCH_URL": None,
    }
    config.update(extra or {})
    app = create_app(config)
    with app.app_context():
        from flask_migrate import upgrade

        from registry.units import load_units
        from registry.vocabularies import load_seed_vocabularies
        upgrade()
        load_seed_vocabularies()
        load_units()
        db.session.commit()

    def teardown():
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if drop:
            drop()
    return app, teardown


@pytest.fixture(scope="session", params=ENGINES)
def app(request, tmp_path_factory):
    app, teardown = build_app(request.param, tmp_path_factory)
    yield app
    teardown()


def reset_database(app) -> None:
    """Remove everything tests wrote, keep reference data, and tell the search log."""
    from registry.models.practices import Practice
    from registry.models.vocab import Term
    from registry.search.changes import record_changes
    with app.app_context():
        db.session.rollback()
        ids = list(db.session.scalars(select(Practice.id)))
        session = db.session
        session.info["suspend_change_log"] = True
        # Events are append-only by trigger: lifted for the reset only, then put back.
        from registry.models.workflow import DROP_TRIGGERS, append_only_ddl
        dialect = session.get_bind().dialect.name
        for statement in DROP_TRIGGERS[dialect]:
            session.execute(text(statement))
        for table in reversed(db.metadata.sorted_tables):
            if table.name in REFERENCE_TABLES:
                continue
            if table.name == "term":
                session.execute(delete(Term).where(Term.origin != "seed"))
                continue
            if table.name == "practice":
                session.execute(text("UPDATE practice SET replicated_from_id = NULL"))
            session.execute(table.delete())
        for statement in append_only_ddl(dialect):
            session.execute(text(statement))
        session.info["suspend_change_log"] = False
        record_changes(session, ids)
        session.commit()
        db.session.remove()
    # Evidence rows are gone, so are their files (the upload directory is shared per engine).
    uploads = Path(app.config["REGISTRY_UPLOAD_DIR"])
    for stored in (uploads.rglob("*") if uploads.exists() else ()):
        if stored.is_file():
            stored.unlink()


@pytest.fixture(autouse=True)
def _clean_after_test(request):
    yield
    if "app" in request.fixturenames:
        reset_database(request.getfixturevalue("app"))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def empty_database(app, tmp_path):
    """Factory: the URL of a new, empty database of the test's engine (dropped afterwards)."""
    drops = []

    def make() -> str:
        name = f"registry_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        if app.config["REGISTRY_ENGINE"] == "sqlite":
            return f"sqlite:///{tmp_path / (name + '.sqlite3')}"
        url, drop = _postgres_database(name)
        drops.append(drop)
        return url

    yield make
    for drop in drops:
        drop()


@pytest.fixture
def app_on(app):
    """Factory: app_on(url) -> the test application's settings on another database."""
    made = []

    def make(url: str):
        other = create_app({**app.config, "SQLALCHEMY_DATABASE_URI": url})
        made.append(other)
        return other

    yield make
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield
        db.session.rollback()


@pytest.fixture
def engine_name(app) -> str:
    return app.config["REGISTRY_ENGINE"]


def term(vocabulary: str, code: str):
    from registry.models.vocab import Term
    return db.session.scalar(select(Term).where(Term.vocabulary == vocabulary,
                                                Term.code == code))


@pytest.fixture
def make_practice(app):
    """Factory: make_practice(name=..., commune_code=..., domains=[codes], ...) -> id.

    Builds the ORM objects directly (a test data builder, not the import path) and commits.
    """
    from registry.models.places import Commune
    from registry.models.practices import CoreMember, OutcomeReport, Practice

    counter = {"n": 0}

    def make(**fields) -> int:
        counter["n"] += 1
        with app.app_context():
            commune = db.session.get(Commune, fields.get("commune_code", "00070"))
            practice = Practice(
                name=fields.get("name", f"Mô hình thử {counter['n']}"),
                kind=term("kind", fields.get("kind", "tu-phong-tu-quan-tu-bao-ve")),
                summary=fields.get("summary", ""),
                description=fields.get("description", ""),
                commune_code=commune.code, province_code=commune.province_code,
                hamlet=fields.get("hamlet", ""),
                setting=term("setting", fields["setting"]) if fields.get("setting") else None,
                lead_organisation=(term("lead_organisation", fields["lead_organisation"])
                                   if fields.get("lead_organisation") else None),
                founded_on=fields.get("founded_on", date(2020, 1, 1)),
                participants=fields.get("participants", 50),
                households=fields.get("households", 20),
                status=fields.get("status", "registered"),
                recognition_level=fields.get("recognition_level", "none"),
                external_id=fields.get("external_id"),
                is_demo=fields.get("is_demo", False),
                replicated_from_id=fields.get("replicated_from_id"),
            )
            practice.forms = [term("form", c) for c in fields.get("forms", ["tu-quan"])]
            practice.domains = [term("domain", c) for c in fields.get("domains", [])]
            practice.target_groups = [term("target_group", c)
                                      for c in fields.get("target_groups", [])]
            for i, member in enumerate(fields.get("core_members", [])):
                practice.core_members.append(CoreMember(
                    position=i, name=member["name"], phone=member.get("phone", ""),
                    role=term("member_role", member.get("role", "thanh-vien"))))
            for outcome in fields.get("outcomes", []):
                practice.outcomes.append(OutcomeReport(**outcome))
            db.session.add(practice)
            db.session.commit()
            return practice.id

    return make


# --- Accounts: users with grants, signed in through the real login form -------------------

TEST_PASSWORD = "mật khẩu thử 2025"
_HASHES: dict[str, str] = {}  # one Argon2 hash per password, reused (hashing is slow)


@pytest.fixture
def make_user(app):
    """Factory: make_user(role="officer", unit="00070", email=..., password=..., name=...,
    grants=[(role, unit), ...], must_change_password=False) -> user id.

    role=None makes a user without grants; `grants` adds more (role, unit) pairs.
    """
    from registry.accounts.passwords import hash_password
    from registry.accounts.services import add_grant, create_user

    counter = {"n": 0}

    def make(role: str | None = "officer", unit: str = "00070", email: str | None = None,
             password: str = TEST_PASSWORD, name: str | None = None, grants=(),
             must_change_password: bool = False) -> int:
        counter["n"] += 1
        if password not in _HASHES:
            _HASHES[password] = hash_password(password)
        with app.app_context():
            user = create_user(email or f"{role or 'user'}{counter['n']}@example.vn",
                               name or f"Người dùng thử {counter['n']}", password,
                               password_hash=_HASHES[password],
                               must_change_password=must_change_password)
            pairs = ([(role, unit)] if role else []) + list(grants)
            for grant_role, grant_unit in pairs:
                add_grant(user, grant_role, grant_unit)
            db.session.commit()
            return user.id

    return make


@pytest.fixture
def login(app):
    """login(client, user_id_or_email, password=TEST_PASSWORD): sign in through /login."""
    from registry.models.accounts import User

    def sign_in(client, who, password: str = TEST_PASSWORD):
        if isinstance(who, int):
            with app.app_context():
                who = db.session.get(User, who).email
        response = client.post("/login", data={"email": who, "password": password})
        assert response.status_code == 302, f"sign-in of {who} failed: {response.status_code}"
        return response

    return sign_in
