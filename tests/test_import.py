"""`registry import`: every error path, upsert and idempotence, dry runs, CSV and XLSX layouts."""
from __future__ import annotations

import json
from datetime import date

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from registry.extensions import db
from registry.models.practices import Practice
from registry.models.revisions import Revision
from registry.models.vocab import Term


def model(**overrides) -> dict:
    """A valid raw record written the way people write them: labels, old tones, dd/mm/yyyy."""
    raw = {
        "external_id": "hn-001",
        "name": "Tổ tự quản an ninh Tổ dân phố 5",
        "kind": "Xóm đạo bình yên",
        "summary": "Giữ gìn an ninh, trật tự khu dân cư.",
        "description": "### Tổ chức\n\nBan điều hành gồm 5 người.",
        "commune_code": "00070",
        "province_code": "01",
        "hamlet": "Tổ dân phố 5",
        "setting": "khu dân cư đô thị",
        "forms": ["tự quản", "tự hoà giải"],
        "domains": ["Phong, chong toi pham"],
        "target_groups": "thanh niên; phụ nữ",
        "lead_organisation": "cong-an-xa",
        "founded_on": "15/03/2019",
        "participants": 120,
        "households": 45,
        "core_members": [{"name": "Nguyễn Văn An", "role": "trưởng thôn, tổ trưởng dân phố",
                          "phone": "0912 345 678"}],
        "outcomes": [{"period": "2024-H1", "tips_reported": 3, "valuable_tips": 2,
                      "disputes_mediated": 1, "offenders_reintegrated": 0, "wanted_caught": 0,
                      "surrenders": 0, "crimes_on_area": 1, "traffic_accidents": 0,
                      "narrative": "Ổn định."}],
    }
    raw.update(overrides)
    return {k: v for k, v in raw.items() if v is not DROP}


DROP = object()


def write_jsonl(path, rows) -> str:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write((row if isinstance(row, str) else json.dumps(row, ensure_ascii=False))
                         + "\n")
    return str(path)


def run_import(runner, path, *extra):
    return runner.invoke(args=["import", str(path), *extra])


def practice_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Practice))


def test_valid_file_creates_models_with_codes_and_revision(app, runner, tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [model()])
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    assert "tạo mới: 1, cập nhật: 0, không đổi: 0, bị từ chối: 0" in result.output
    with app.app_context():
        practice = db.session.scalar(select(Practice))
        assert practice.kind.code == "xom-dao-binh-yen"
        assert [t.code for t in practice.forms] == ["tu-quan", "tu-hoa-giai"]
        assert [t.code for t in practice.domains] == ["pc-toi-pham"]
        assert [t.code for t in practice.target_groups] == ["thanh-nien", "phu-nu"]
        assert practice.setting.code == "do-thi"
        assert practice.founded_on == date(2019, 3, 15)
        assert practice.province_code == "01" and practice.status == "registered"
        assert practice.core_members[0].role.code == "truong-thon"
        assert practice.outcomes[0].period == "2024-H1"
        revision = db.session.scalar(select(Revision))
        assert (revision.action, revision.source) == ("create", "import")
        assert {c["field"] for c in revision.changes} >= {"name", "kind", "core_members"}


def test_reimport_changes_nothing(app, runner, tmp_path):
    rows = [model(external_id=f"hn-{i}", name=f"Mô hình {i}") for i in range(3)]
    path = write_jsonl(tmp_path / "a.jsonl", rows)
    assert run_import(runner, path).exit_code == 0
    with app.app_context():
        versions = dict(db.session.execute(select(Practice.external_id, Practice.version)).all())
        revisions = db.session.scalar(select(func.count()).select_from(Revision))
    result = run_import(runner, path)
    assert result.exit_code == 0
    assert "tạo mới: 0, cập nhật: 0, không đổi: 3, bị từ chối: 0" in result.output
    with app.app_context():
        assert dict(db.session.execute(
            select(Practice.external_id, Practice.version)).all()) == versions
        assert db.session.scalar(select(func.count()).select_from(Revision)) == revisions


def test_changed_row_updates_by_external_id(app, runner, tmp_path):
    assert run_import(runner, write_jsonl(tmp_path / "a.jsonl", [model()])).exit_code == 0
    changed = model(name="Tên mới", core_members=[{"name": "Trần Thị Bình", "phone": ""}])
    result = run_import(runner, write_jsonl(tmp_path / "b.jsonl", [changed]))
    assert "cập nhật: 1" in result.output
    with app.app_context():
        practice = db.session.scalar(select(Practice))
        assert practice.name == "Tên mới" and practice.version == 2
        assert [m.name for m in practice.core_members] == ["Trần Thị Bình"]
        last = db.session.scalars(select(Revision).order_by(Revision.id.desc())).first()
        assert last.action == "update"
        name_change = next(c for c in last.changes if c["field"] == "name")
        assert name_change["new"] == "Tên mới"


@pytest.mark.parametrize("overrides, field, reason", [
    ({"setting": "vùng sa mạc"}, "setting", "không có trong danh mục"),
    ({"domains": ["phòng, chống tội phạm", "bay lượn"]}, "domains", "không có trong danh mục"),
    ({"founded_on": "31/02/2020"}, "founded_on", "không hợp lệ"),
    ({"founded_on": "2999-01-01"}, "founded_on", "tương lai"),
    ({"commune_code": "99999"}, "commune_code", "không có xã/phường"),
    ({"province_code": "79"}, "province_code", "không khớp"),
    ({"name": "x" * 301}, "name", "quá dài"),
    ({"hamlet": "x" * 301}, "hamlet", "quá dài"),
    ({"description": "x" * 50001}, "description", "quá dài"),
    ({"participants": -5}, "participants", "không âm"),
    ({"core_members": [{"name": "A", "phone": "0" * 31}]}, "core_members[1].phone", "quá dài"),
    ({"core_members": [{"name": "A", "role": "thủ lĩnh"}]}, "core_members[1].role",
     "không có trong danh mục"),
    ({"outcomes": [{"period": "2024-H3"}]}, "outcomes[1].period", "không hợp lệ"),
    ({"outcomes": [{"period": "2024"}, {"period": "2024"}]}, "outcomes[2].period", "trùng"),
    ({"colour": "đỏ"}, "colour", "không được hỗ trợ"),
    ({"name": ""}, "name", "không được để trống"),
    ({"replicated_from": "khong-co"}, "replicated_from", "không có mô hình"),
])
def test_bad_row_is_rejected_with_line_field_and_reason(app, runner, tmp_path, overrides,
                                                        field, reason):
    rows = [model(external_id="good"), model(external_id="bad", **overrides)]
    result = run_import(runner, write_jsonl(tmp_path / "a.jsonl", rows))
    assert result.exit_code == 1
    rejected = [line for line in result.output.splitlines() if line.startswith("Từ chối")]
    assert len(rejected) == 1
    assert rejected[0].startswith("Từ chối dòng 2:")
    assert f"({field})" in rejected[0] and reason in rejected[0]
    assert "tạo mới: 1, cập nhật: 0, không đổi: 0, bị từ chối: 1" in result.output
    with app.app_context():
        assert list(db.session.scalars(select(Practice.external_id))) == ["good"]
        assert db.session.scalar(select(func.count()).select_from(Revision)) == 1


def test_every_field_error_of_a_row_is_reported(runner, tmp_path):
    row = model(setting="?", founded_on="hôm qua", participants="nhiều")
    result = run_import(runner, write_jsonl(tmp_path / "a.jsonl", [row]))
    line = next(line for line in result.output.splitlines() if line.startswith("Từ chối"))
    assert "(setting)" in line and "(founded_on)" in line and "(participants)" in line


def test_malformed_json_line_is_reported_and_the_rest_imported(app, runner, tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [model(external_id="a"), '{"name": "thiếu',
                                              "[1, 2]", model(external_id="b")])
    result = run_import(runner, path)
    assert result.exit_code == 1
    assert "Từ chối dòng 2: JSON không hợp lệ" in result.output
    assert "Từ chối dòng 3: mỗi dòng phải là một đối tượng JSON" in result.output
    assert "tạo mới: 2" in result.output
    with app.app_context():
        assert practice_count() == 2


def test_legacy_address_is_converted_and_kept(app, runner, tmp_path):
    address = "Thôn Đông, Xã Tân Dân, Huyện Khoái Châu, Tỉnh Hưng Yên"
    row = model(commune_code=DROP, province_code=DROP, address=address)
    result = run_import(runner, write_jsonl(tmp_path / "a.jsonl", [row]))
    assert result.exit_code == 0, result.output
    with app.app_context():
        practice = db.session.scalar(select(Practice))
        assert practice.commune_code == "12220" and practice.province_code == "33"
        assert practice.address_text == address


@pytest.mark.parametrize("address, reason", [
    ("Xã Không Có, Huyện Khoái Châu, Tỉnh Hưng Yên", "không tìm thấy đơn vị hành chính cũ"),
    ("Xã Tân Thạnh, Huyện Thới Lai, Thành phố Cần Thơ", "có thể là"),
    ("Hưng Yên", "cần ít nhất xã/phường"),
])
def test_unresolvable_address_is_reported_not_guessed(app, runner, tmp_path, address, reason):
    row = model(commune_code=DROP, province_code=DROP, address=address)
    result = run_import(runner, write_jsonl(tmp_path / "a.jsonl", [row]))
    assert result.exit_code == 1
    assert "(address)" in result.output and reason in result.output
    with app.app_context():
        assert practice_count() == 0


def test_unknown_kind_is_added_for_review(app, runner, tmp_path):
    row = model(kind="Tổ tuần tra bằng thuyền")
    result = run_import(runner, write_jsonl(tmp_path / "a.jsonl", [row, model(
        external_id="hn-2", kind="to tuan tra bang thuyen")]))
    assert result.exit_code == 0, result.output
    assert "Loại mô hình mới (chờ quản trị xác nhận): Tổ tuần tra bằng thuyền" in result.output
    with app.app_context():
        terms = list(db.session.scalars(select(Term).where(Term.origin == "import")))
        assert [(t.vocabulary, t.label_vi, t.needs_review) for t in terms] == [
            ("kind", "Tổ tuần tra bằng thuyền", True)]
        assert {p.kind_id for p in db.session.scalars(select(Practice))} == {terms[0].id}


def test_rejected_row_adds_no_kind(app, runner, tmp_path):
    row = model(kind="Loại chưa có", setting="không có")
    assert run_import(runner, write_jsonl(tmp_path / "a.jsonl", [row])).exit_code == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Term).where(
            Term.origin == "import")) == 0


def test_same_external_id_twice_in_a_file_creates_then_updates(app, runner, tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [model(), model(name="Tên sửa lại")])
    result = run_import(runner, path)
    assert "tạo mới: 1, cập nhật: 1" in result.output
    with app.app_context():
        assert db.session.scalar(select(Practice.name)) == "Tên sửa lại"


def test_rows_without_external_id_always_create(app, runner, tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [model(external_id=DROP)])
    run_import(runner, path)
    run_import(runner, path)
    with app.app_context():
        assert practice_count() == 2


@pytest.mark.parametrize("bad", [False, True])
def test_dry_run_writes_nothing(app, runner, tmp_path, bad):
    rows = [model(kind="Loại hoàn toàn mới"), model(external_id="hn-2")]
    if bad:
        rows.append(model(external_id="hn-3", founded_on="không rõ"))
    result = run_import(runner, write_jsonl(tmp_path / "a.jsonl", rows), "--dry-run")
    assert result.exit_code == (1 if bad else 0), result.output
    assert "tạo mới: 2" in result.output and "chạy thử" in result.output
    with app.app_context():
        assert practice_count() == 0
        assert db.session.scalar(select(func.count()).select_from(Revision)) == 0
        assert db.session.scalar(select(func.count()).select_from(Term).where(
            Term.origin == "import")) == 0


def test_unreadable_files_exit_with_2(runner, tmp_path):
    other = tmp_path / "a.txt"
    other.write_text("x")
    result = run_import(runner, other)
    assert result.exit_code == 2 and "không hỗ trợ định dạng" in result.output
    result = run_import(runner, tmp_path / "missing.jsonl")
    assert result.exit_code == 2 and "không tìm thấy tệp" in result.output


def test_xlsx_with_wrong_sheet_names_is_refused(app, runner, tmp_path):
    book = Workbook()
    book.active.title = "Sheet1"
    book.active.append(["name"])
    book.create_sheet("thanh vien")
    path = tmp_path / "a.xlsx"
    book.save(path)
    result = run_import(runner, path)
    assert result.exit_code == 2
    assert "mo_hinh" in result.output and "“Sheet1”" in result.output
    with app.app_context():
        assert practice_count() == 0


def provincial_workbook(path) -> None:
    """What a provincial office fills in: Vietnamese headers, some rows wrong."""
    book = Workbook()
    sheet = book.active
    sheet.title = "mo_hinh"
    sheet.append(["Mã tham chiếu", "Tên mô hình", "Loại mô hình", "Mã xã/phường",
                  "Địa chỉ", "Loại địa bàn", "Hình thức", "Lĩnh vực", "Ngày thành lập",
                  "Số hộ tham gia"])
    sheet.append(["hy-1", "Dòng họ Nguyễn không có tội phạm", "Dòng tộc không có tội phạm "
                  "và tệ nạn xã hội", None, "Xã Tân Dân, Huyện Khoái Châu, Tỉnh Hưng Yên",
                  "khu dân cư nông thôn", "tự quản; tự bảo vệ", "phòng, chống tội phạm",
                  date(2018, 5, 2), 80])
    sheet.append(["hy-2", "Mô hình sai loại địa bàn", "Tổ hòa giải", 12220, None,
                  "sân bay", "tự hòa giải", "", "01/01/2020", 10])
    sheet.append(["hy-3", "Mô hình có thành viên sai", "Tổ hòa giải", "12220", None,
                  "nông thôn", "tự hòa giải", "", "2020-01-01", None])
    sheet.append([None] * 10)
    members = book.create_sheet("thanh_vien")
    members.append(["external_id", "name", "role", "phone"])
    members.append(["Mã tham chiếu mô hình", "Họ và tên", "Vai trò", "Số điện thoại"])
    members.append(["hy-1", "Nguyễn Văn Cả", "người có uy tín", "0987654321"])
    members.append(["hy-3", "Lê Văn Sai", "thành viên", "số máy bàn"])
    results = book.create_sheet("ket_qua")
    results.append(["external_id", "period", "tips_reported", "narrative"])
    results.append(["hy-1", "2024-H2", 4, "Tốt."])
    results.append(["hy-9", "2024", 1, ""])
    book.save(path)


def test_provincial_xlsx_imports_good_rows_and_explains_bad_ones(app, runner, tmp_path):
    path = tmp_path / "hung-yen.xlsx"
    provincial_workbook(path)
    result = run_import(runner, path)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("Từ chối")]
    assert len(lines) == 3, result.output
    assert lines[0].startswith("Từ chối mo_hinh dòng 3:") and "(setting)" in lines[0]
    assert lines[1].startswith("Từ chối mo_hinh dòng 4:") and "[thanh_vien dòng 4]" in lines[1]
    assert lines[2].startswith("Từ chối ket_qua dòng 3:") and "hy-9" in lines[2]
    assert "tạo mới: 1, cập nhật: 0, không đổi: 0, bị từ chối: 3" in result.output
    with app.app_context():
        practice = db.session.scalar(select(Practice))
        assert practice.external_id == "hy-1" and practice.commune_code == "12220"
        assert practice.kind.code == "dong-toc-khong-toi-pham"
        assert [t.code for t in practice.forms] == ["tu-quan", "tu-bao-ve"]
        assert practice.founded_on == date(2018, 5, 2) and practice.households == 80
        assert [(m.name, m.role.code) for m in practice.core_members] == [
            ("Nguyễn Văn Cả", "nguoi-co-uy-tin")]
        assert [(o.period, o.tips_reported) for o in practice.outcomes] == [("2024-H2", 4)]


def test_csv_with_vietnamese_headers_and_json_cells(app, runner, tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(
        "Mã tham chiếu,Tên mô hình,Loại mô hình,Mã xã/phường,Hình thức,lực lượng nòng cốt (JSON)\n"
        'c-1,Mô hình một,Tổ hòa giải,70,tự quản; tự phòng,"[{""name"": ""Phạm Thị Dung""}]"\n'
        "c-2,Mô hình hai,Tổ hòa giải,70,tự quản,[{broken\n", encoding="utf-8-sig")
    result = run_import(runner, path)
    assert result.exit_code == 1
    assert "Từ chối dòng 3: cột core_members: JSON không hợp lệ" in result.output
    with app.app_context():
        practice = db.session.scalar(select(Practice))
        assert practice.commune_code == "00070"
        assert [t.code for t in practice.forms] == ["tu-phong", "tu-quan"]
        assert [m.name for m in practice.core_members] == ["Phạm Thị Dung"]


def test_csv_with_an_unknown_column_is_refused(runner, tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("name,kind,mau_sac\nA,Tổ hòa giải,đỏ\n", encoding="utf-8")
    result = run_import(runner, path)
    assert result.exit_code == 2 and "cột không được hỗ trợ: mau_sac" in result.output


def test_imported_models_are_searchable_with_their_results(app, runner, tmp_path):
    from registry.search import get_backend
    from registry.search.base import SearchRequest
    outcome = {"period": "2024", "narrative": "Bắt giữ nhóm trộm chó liên huyện."}
    path = write_jsonl(tmp_path / "a.jsonl", [model(outcomes=[outcome])])
    assert run_import(runner, path).exit_code == 0
    with app.app_context():
        practice_id = db.session.scalar(select(Practice.id))
        result = get_backend().search(SearchRequest(q="trộm chó", per_page=5))
        assert [hit.practice_id for hit in result.hits] == [practice_id]
        result = get_backend().search(SearchRequest(q="Nguyễn Văn An", per_page=5))
        assert result.total == 0  # core members are never indexed


@pytest.mark.parametrize("line", [
    json.dumps(model(external_id="bad", status=[])),
    json.dumps(model(external_id="bad", recognition_level={"x": 1})),
    json.dumps(model(external_id="bad"))[:-1] + ', "participants": ' + "9" * 5000 + "}",
    json.dumps(model(external_id="bad", core_members=[{"name": "A"}] * 201)),
])
def test_malformed_value_rejects_its_line_only(app, runner, tmp_path, line):
    """A list as a status, a 5,000-digit number or too many members: that line is
    rejected with its number; the good rows before and after it are imported."""
    path = write_jsonl(tmp_path / "a.jsonl", [model(external_id="a"), line,
                                              model(external_id="b")])
    result = run_import(runner, path)
    assert result.exit_code == 1, result.output
    rejected = [x for x in result.output.splitlines() if x.startswith("Từ chối")]
    assert len(rejected) == 1 and rejected[0].startswith("Từ chối dòng 2:"), result.output
    assert len(rejected[0]) < 1000
    assert "tạo mới: 2, cập nhật: 0, không đổi: 0, bị từ chối: 1" in result.output
    with app.app_context():
        assert sorted(db.session.scalars(select(Practice.external_id))) == ["a", "b"]
