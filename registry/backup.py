"""Whole-database backups: SQLite's online backup API; PostgreSQL's pg_dump and pg_restore."""
from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import text
from sqlalchemy.engine import make_url

from registry.extensions import db

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
PG_LIBRARIES = Path("/usr/lib/postgresql")  # Debian: one bin/ per installed major version


class BackupError(Exception):
    """A backup or restore that cannot be done; the message is Vietnamese."""


def dialect() -> str:
    return db.engine.dialect.name


# --- backup ---------------------------------------------------------------------------------

def backup(path: str) -> None:
    """Write a consistent copy of the whole database to `path` (which must not exist yet)."""
    target = Path(path)
    if target.exists():
        raise BackupError(f"Tệp {path} đã có: chọn tên khác (không ghi đè bản sao lưu cũ).")
    if not target.parent.is_dir():
        raise BackupError(f"Không có thư mục {target.parent}.")
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        if dialect() == "sqlite":
            _sqlite_backup(partial)
        else:
            _pg_dump(partial)
        os.link(partial, target)  # never replaces a file that appeared meanwhile
    except FileExistsError:
        raise BackupError(f"Tệp {path} đã có: chọn tên khác.") from None
    finally:
        partial.unlink(missing_ok=True)


def _sqlite_backup(destination: Path) -> None:
    db.session.remove()
    raw = db.engine.raw_connection()
    try:
        with closing(sqlite3.connect(destination)) as copy:
            raw.driver_connection.backup(copy)
            # One self-contained file (the live database is in WAL mode, the copy need not be).
            copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        raw.close()


def _pg_dump(destination: Path) -> None:
    dump, _restore = pg_tools()
    args, env = _libpq_arguments()
    _run([dump, "--format=custom", f"--file={destination}", *args], env, "pg_dump")


# --- restore --------------------------------------------------------------------------------

def restore(path: str) -> int:
    """Replace the whole database with the backup at `path`, migrate it to the current schema
    and rebuild the search structures; returns the number of models restored."""
    source = Path(path)
    if not source.is_file():
        raise BackupError(f"Không có tệp {path}.")
    with source.open("rb") as handle:
        magic = handle.read(16)
    kind = dialect()
    if kind == "sqlite" and not magic.startswith(SQLITE_MAGIC):
        raise BackupError(_wrong_kind(path, magic, "SQLite"))
    if kind != "sqlite" and not magic.startswith(PGDUMP_MAGIC):
        raise BackupError(_wrong_kind(path, magic, "PostgreSQL (pg_dump --format=custom)"))
    generation_before = _generation()
    if kind == "sqlite":
        _sqlite_restore(source)
    else:
        _pg_restore(source)
    db.session.remove()
    db.engine.dispose()
    from flask_migrate import upgrade
    upgrade()  # a backup made by an older version gets the current schema
    return _after_restore(generation_before)


def _wrong_kind(path: str, magic: bytes, expected: str) -> str:
    if magic.startswith(SQLITE_MAGIC):
        found = "là bản sao lưu SQLite"
    elif magic.startswith(PGDUMP_MAGIC):
        found = "là bản sao lưu PostgreSQL"
    else:
        found = "không phải bản sao lưu của hệ thống"
    return (f"Tệp {path} {found}; cơ sở dữ liệu đang dùng cần bản sao lưu {expected} "
            "do `registry backup` tạo ra.")


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory
    config = current_app.extensions["migrate"].migrate.get_config()
    return {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}


def _check_revision(revision: str | None, path: Path) -> None:
    if revision is None:
        raise BackupError(f"Tệp {path} không chứa phiên bản lược đồ (alembic_version): "
                          "không phải bản sao lưu của hệ thống.")
    if revision not in _known_revisions():
        raise BackupError(f"Bản sao lưu {path} có lược đồ phiên bản {revision}, mới hơn phiên "
                          "bản phần mềm này: hãy cập nhật phần mềm trước khi khôi phục.")


def _sqlite_restore(source: Path) -> None:
    try:
        with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as backup_db:
            if backup_db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupError(f"Tệp {source} bị hỏng (PRAGMA quick_check).")
            try:
                row = backup_db.execute("SELECT version_num FROM alembic_version").fetchone()
            except sqlite3.DatabaseError:
                row = None
            _check_revision(row[0] if row else None, source)
            db.session.remove()
            db.engine.dispose()
            raw = db.engine.raw_connection()
            try:
                # Page by page under one lock: the database is replaced as a whole or not at all.
                backup_db.backup(raw.driver_connection)
            finally:
                raw.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"Tệp {source} bị hỏng hoặc không phải bản sao lưu SQLite ({exc}).") \
            from exc


def _pg_restore(source: Path) -> None:
    _dump, restore_tool = pg_tools()
    try:
        listing = _run([restore_tool, "--list", str(source)], dict(os.environ), "pg_restore")
    except BackupError as exc:
        raise BackupError(f"Tệp {source} bị hỏng hoặc không phải bản sao lưu PostgreSQL "
                          f"({exc}).") from exc
    if not re.search(r"TABLE DATA \S+ alembic_version ", listing):
        _check_revision(None, source)
    data = _run([restore_tool, "--data-only", "--table=alembic_version", "--file=-",
                 str(source)], dict(os.environ), "pg_restore")
    match = re.search(r"^COPY \S*alembic_version.*?;\n(\S+)\n", data, re.M)
    _check_revision(match.group(1) if match else None, source)
    db.session.remove()
    db.engine.dispose()
    args, env = _libpq_arguments()
    # --clean drops each object of the backup before recreating it; one transaction, so a
    # failure leaves the database as it was.
    _run([restore_tool, "--clean", "--if-exists", "--no-owner", "--no-privileges",
          "--single-transaction", "--exit-on-error", *args, str(source)], env, "pg_restore")


def _generation() -> int:
    """The search log's generation now (0 for a database without the table yet)."""
    try:
        with db.engine.connect() as conn:
            return conn.execute(text("SELECT generation FROM search_counter WHERE id = 1")
                                ).scalar() or 0
    except Exception:
        return 0
    finally:
        db.engine.dispose()


def _after_restore(generation_before: int) -> int:
    """One transaction: rebuild the search words and move the change log past every generation
    a running worker may have seen, with no entries, so each one rebuilds its structures
    instead of replaying a log from another history."""
    from registry.models.practices import Practice
    from registry.models.search_log import SearchChange, SearchCounter
    from registry.search import get_backend
    from registry.services.uow import unit_of_work
    session = db.session
    with unit_of_work(source="cli"):
        restored = session.get(SearchCounter, 1)
        if restored is None:
            restored = SearchCounter(id=1, generation=0)
            session.add(restored)
        restored.generation = max(generation_before, restored.generation or 0) + 1
        session.query(SearchChange).delete(synchronize_session=False)
        session.flush()
        get_backend().reindex_all()
        count = session.query(Practice).count()
    return count


# --- PostgreSQL client tools ----------------------------------------------------------------

def server_major() -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(text("SHOW server_version_num")).scalar()) // 10000


def _tool_major(path: str) -> int | None:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True,
                             check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(match.group(1)) if match else None


def pg_tools(major: int | None = None) -> tuple[str, str]:
    """pg_dump and pg_restore of the server's major version (or the nearest newer one: older
    tools refuse a newer server). Debian keeps each version in /usr/lib/postgresql/N/bin."""
    major = major or server_major()
    installed = {}
    if PG_LIBRARIES.is_dir():
        for entry in PG_LIBRARIES.iterdir():
            if entry.name.isdigit() and (entry / "bin" / "pg_dump").exists() \
                    and (entry / "bin" / "pg_restore").exists():
                installed[int(entry.name)] = entry / "bin"
    usable = sorted(v for v in installed if v >= major)
    if usable:
        chosen = installed[usable[0]]
        return str(chosen / "pg_dump"), str(chosen / "pg_restore")
    dump, restore_tool = shutil.which("pg_dump"), shutil.which("pg_restore")
    if dump and restore_tool and (_tool_major(dump) or 0) >= major:
        return dump, restore_tool
    raise BackupError(f"Cần pg_dump và pg_restore phiên bản {major} trở lên (máy chủ "
                      f"PostgreSQL {major}): cài gói postgresql-client-{major}.")


def _quote(value) -> str:
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _libpq_arguments() -> tuple[list[str], dict[str, str]]:
    """--dbname with a libpq connection string; the password only in the environment
    (never on a command line other users can read)."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    parts = {"host": url.host, "port": url.port, "user": url.username, "dbname": url.database}
    for key, value in url.query.items():
        parts[key] = value if isinstance(value, str) else value[-1]
    conninfo = " ".join(f"{key}={_quote(value)}" for key, value in parts.items()
                        if value not in (None, ""))
    return [f"--dbname={conninfo}"], env


def _run(command: list[str], env: dict[str, str], name: str) -> str:
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(f"{name} thất bại: " + (detail[-1] if detail else
                                                  f"mã thoát {result.returncode}"))
    return result.stdout


# --- commands -------------------------------------------------------------------------------

@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@with_appcontext
def backup_command(path: str) -> None:
    """Write a backup of the whole database to PATH (SQLite file or pg_dump archive)."""
    try:
        backup(path)
    except BackupError as exc:
        click.echo(f"Lỗi: {exc}", err=True)
        sys.exit(1)
    click.echo(f"Đã sao lưu cơ sở dữ liệu vào {path} ({Path(path).stat().st_size:,} byte). "
               "Tệp đính kèm (REGISTRY_UPLOAD_DIR) cần sao lưu riêng.")


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(path: str, yes: bool) -> None:
    """Replace the whole database with the backup at PATH, then rebuild the search index."""
    if not yes:
        click.confirm("Toàn bộ dữ liệu hiện có sẽ được thay bằng bản sao lưu. Tiếp tục?",
                      abort=True)
    try:
        count = restore(path)
    except BackupError as exc:
        click.echo(f"Lỗi: {exc}", err=True)
        sys.exit(1)
    click.echo(f"Đã khôi phục cơ sở dữ liệu từ {path}: {count} mô hình; đã lập lại chỉ mục "
               "tìm kiếm.")


def register(app: Flask) -> None:
    """Add this module's commands to app.cli."""
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
