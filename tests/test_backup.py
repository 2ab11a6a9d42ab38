"""`registry backup` / `registry restore` on SQLite (online backup API) and PostgreSQL
(pg_dump/pg_restore): a restore into a fresh database exports the same, signs in the same and
searches the same; a restore under running workers leaves their search structures right."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from conftest import TEST_PASSWORD
from sqlalchemy import func, select, text

from registry import backup as backup_module
from registry.extensions import db
from registry.models.practices import Practice


def export(app, path: Path) -> str:
    result = app.test_cli_runner().invoke(args=["export", "--format", "jsonl", str(path)])
    assert result.exit_code == 0, result.output
    return path.read_text(encoding="utf-8")


def names(app, query: str = "") -> list[str]:
    body = app.test_client().get("/api/v1/practices", query_string={"q": query,
                                                                     "per_page": 50}).get_json()
    return sorted(hit["name"] for hit in body["hits"])


@pytest.fixture
def catalogue(make_practice, make_user):
    source = make_practice(
        name="Tổ hòa giải Hoàn Kiếm", commune_code="00070", external_id="HN-001",
        domains=["hoa-giai-co-so"], founded_on=date(2015, 5, 1),
        summary="Hòa giải mâu thuẫn trong khu phố cổ.", description="**Quy chế** hoạt động",
        core_members=[{"name": "Nguyễn Văn Hùng", "phone": "0912345678"}],
        outcomes=[{"period": "2024-H1", "tips_reported": 12, "narrative": "Ổn định."}])
    make_practice(name="Camera an ninh Cửa Nam", commune_code="00073", kind="camera-an-ninh",
                  external_id="HN-002", replicated_from_id=source)
    make_user(email="giu.lai@example.vn")
    return source


def run(app, *args, input=None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


@pytest.mark.parametrize("target", ["empty", "migrated"])
def test_restore_into_a_fresh_database_exports_the_same(app, catalogue, empty_database, app_on,
                                                        tmp_path, target):
    before = export(app, tmp_path / "before.jsonl")
    archive = tmp_path / "registry.backup"
    result = run(app, "backup", str(archive))
    assert result.exit_code == 0, result.output
    assert "Đã sao lưu" in result.output and archive.stat().st_size > 0
    assert not list(tmp_path.glob(".*.part"))

    fresh = app_on(empty_database())
    if target == "migrated":  # a new install: schema, vocabularies, units, its own model
        with fresh.app_context():
            from flask_migrate import upgrade

            from registry.units import load_units
            from registry.vocabularies import load_seed_vocabularies
            upgrade()
            load_seed_vocabularies()
            load_units()
            db.session.commit()
        assert run(fresh, "import", str(tmp_path / "before.jsonl")).exit_code == 0
        with fresh.app_context():
            db.session.execute(text("UPDATE practice SET name = 'Sẽ bị thay' "
                                    "WHERE external_id = 'HN-002'"))
            db.session.commit()
    result = run(fresh, "restore", "--yes", str(archive))
    assert result.exit_code == 0, result.output
    assert "2 mô hình" in result.output

    assert export(fresh, tmp_path / "after.jsonl") == before
    assert names(fresh, "hoa giai") == ["Tổ hòa giải Hoàn Kiếm"]
    assert names(fresh) == ["Camera an ninh Cửa Nam", "Tổ hòa giải Hoàn Kiếm"]
    response = fresh.test_client().post("/login", data={"email": "giu.lai@example.vn",
                                                        "password": TEST_PASSWORD})
    assert response.status_code == 302
    with fresh.app_context():
        version = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        from alembic.script import ScriptDirectory
        from flask import current_app
        head = ScriptDirectory.from_config(
            current_app.extensions["migrate"].migrate.get_config()).get_current_head()
        assert version == head


def test_restore_under_running_workers_keeps_their_search_right(app, catalogue, app_on,
                                                                tmp_path, make_practice):
    worker = app_on(app.config["SQLALCHEMY_DATABASE_URI"])  # another process's structures
    assert names(worker) == ["Camera an ninh Cửa Nam", "Tổ hòa giải Hoàn Kiếm"]
    archive = tmp_path / "registry.backup"
    assert run(app, "backup", str(archive)).exit_code == 0
    make_practice(name="Xóm đạo bình yên", commune_code="00070")
    with app.app_context():
        practice = db.session.scalar(select(Practice).where(Practice.external_id == "HN-002"))
        practice.name = "Camera đổi tên sau sao lưu"
        db.session.commit()
    assert names(worker) == ["Camera đổi tên sau sao lưu", "Tổ hòa giải Hoàn Kiếm",
                             "Xóm đạo bình yên"]
    assert names(worker, "doi ten") == ["Camera đổi tên sau sao lưu"]

    result = run(app, "restore", "--yes", str(archive))
    assert result.exit_code == 0, result.output
    for process in (worker, app):
        assert names(process) == ["Camera an ninh Cửa Nam", "Tổ hòa giải Hoàn Kiếm"]
        assert names(process, "doi ten") == []
        assert names(process, "xom dao") == []
        assert names(process, "camera") == ["Camera an ninh Cửa Nam"]


def test_backup_never_overwrites(app, tmp_path):
    archive = tmp_path / "registry.backup"
    archive.write_bytes(b"an older backup")
    result = run(app, "backup", str(archive))
    assert result.exit_code == 1
    assert "đã có" in result.output
    assert archive.read_bytes() == b"an older backup"
    result = run(app, "backup", str(tmp_path / "khong-co" / "x.backup"))
    assert result.exit_code == 1 and "Không có thư mục" in result.output


@pytest.mark.parametrize("content", [
    b"not a backup at all", b"SQLite format 3\x00" + b"\x00" * 200, b"PGDMP" + b"\x00" * 200,
])
def test_bad_backup_is_refused_and_nothing_changes(app, catalogue, tmp_path, content,
                                                   engine_name):
    own = "SQLite" if engine_name == "sqlite" else "PostgreSQL"
    fake = tmp_path / "fake.backup"
    fake.write_bytes(content)
    before = export(app, tmp_path / "before.jsonl")
    result = run(app, "restore", "--yes", str(fake))
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Lỗi: Tệp ") and str(fake) in result.output
    assert f"bản sao lưu {own}" in result.output
    assert export(app, tmp_path / "after.jsonl") == before
    assert run(app, "restore", "--yes", str(tmp_path / "khong-co.backup")).exit_code == 1


def test_restore_asks_first(app, catalogue, tmp_path):
    archive = tmp_path / "registry.backup"
    assert run(app, "backup", str(archive)).exit_code == 0
    with app.app_context():
        db.session.execute(text("UPDATE practice SET name = 'Giữ nguyên'"))
        db.session.commit()
    result = run(app, "restore", str(archive), input="n\n")
    assert result.exit_code != 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Practice.name == "Giữ nguyên")) == 2


def test_postgresql_tools_match_the_server(app, engine_name):
    if engine_name != "postgresql":
        pytest.skip("PostgreSQL only")
    with app.app_context():
        major = backup_module.server_major()
        dump, restore_tool = backup_module.pg_tools()
    assert backup_module._tool_major(dump) == major, (dump, major)
    assert backup_module._tool_major(restore_tool) == major
    with pytest.raises(backup_module.BackupError, match=f"postgresql-client-{major + 50}"):
        backup_module.pg_tools(major + 50)


def test_restore_from_another_history_resets_running_workers(app, catalogue, empty_database,
                                                              app_on, tmp_path):
    """A backup from another database whose change log is further along than the workers of
    this one: they must not replay that log as if it continued their own history."""
    with app.app_context():
        for n in range(6):  # the source's log moves well past the new install's
            practice = db.session.scalar(select(Practice).where(Practice.external_id == "HN-002"))
            practice.summary = f"Sửa lần {n}"
            db.session.commit()
    archive = tmp_path / "registry.backup"
    assert run(app, "backup", str(archive)).exit_code == 0

    url = empty_database()
    fresh = app_on(url)
    with fresh.app_context():
        from flask_migrate import upgrade

        from registry.units import load_units
        from registry.vocabularies import load_seed_vocabularies
        upgrade()
        load_seed_vocabularies()
        load_units()
        db.session.commit()
    lines = "".join(
        f'{{"external_id": "MOI-{n}", "name": "Mô hình riêng của bản cài mới {n}", "kind": '
        f'"tu-phong-tu-quan-tu-bao-ve", "commune_code": "00073", "forms": ["tu-quan"]}}\n'
        for n in (1, 2, 3))  # more models than the backup has: ids it never logged
    (tmp_path / "own.jsonl").write_text(lines, encoding="utf-8")
    assert run(fresh, "import", str(tmp_path / "own.jsonl")).exit_code == 0
    worker = app_on(url)
    assert len(names(worker)) == 3

    assert run(fresh, "restore", "--yes", str(archive)).exit_code == 0
    for process in (worker, fresh):
        body = process.test_client().get("/api/v1/practices?per_page=50").get_json()
        assert body["total"] == 2
        assert names(process) == ["Camera an ninh Cửa Nam", "Tổ hòa giải Hoàn Kiếm"]
        assert names(process, "ban cai moi") == []
        kinds = process.test_client().get("/api/v1/practices").get_json()["facets"]["kind"]
        assert sum(v["count"] for v in kinds) == 2
