"""`registry export`: round trips through an empty database, personal data left out on request."""
from __future__ import annotations

import json
import zipfile

import pytest
from conftest import reset_database
from openpyxl import load_workbook
from sqlalchemy import select

from registry.extensions import db
from registry.models.practices import Practice

MEMBER_NAME, MEMBER_PHONE = "Đỗ Thị Riêng Tư", "0909111222"


def records() -> list[dict]:
    """A small catalogue touching every field: legacy address, replication, workflow, results."""
    source = {
        "external_id": "src", "name": "Xóm đạo bình yên Giáo xứ Phú Nhai",
        "kind": "xom-dao-binh-yen", "summary": "Tóm tắt; có dấu chấm phẩy, và “ngoặc”.",
        "description": "### Tổ chức\n\n- Dòng một\n- Dòng hai\n\nĐoạn cuối.",
        "address": "Thôn Đông, Xã Tân Dân, Huyện Khoái Châu, Tỉnh Hưng Yên",
        "hamlet": "Giáo xứ Phú Nhai", "setting": "ton-giao", "forms": ["tu-quan", "tu-phong"],
        "domains": ["an-ninh-dan-toc-ton-giao", "pc-toi-pham"],
        "target_groups": ["dong-bao-ton-giao"], "lead_organisation": "to-chuc-ton-giao",
        "founded_on": "2012-08-19", "participants": 900, "households": 310,
        "core_members": [{"name": MEMBER_NAME, "role": "chuc-sac-ton-giao",
                          "phone": MEMBER_PHONE},
                         {"name": "Nguyễn Văn Hai", "role": None, "phone": ""}],
        "outcomes": [{"period": "2024", "tips_reported": 12, "valuable_tips": 7,
                      "disputes_mediated": 3, "offenders_reintegrated": 2, "wanted_caught": 1,
                      "surrenders": 0, "crimes_on_area": None, "traffic_accidents": 0,
                      "narrative": "Năm ổn định.\nKhông có điểm nóng."},
                     {"period": "2023-H2", "tips_reported": 2, "narrative": ""}],
        "status": "approved", "recognition_level": "province", "recognised_on": "2025-03-01",
    }
    copy = {"external_id": "copy", "name": "Nhân rộng ở Hoàn Kiếm", "kind": "Loại mới tự đặt",
            "commune_code": "00070", "replicated_from": "src", "participants": None}
    bare = {"external_id": "bare", "name": "Chỉ có tên", "kind": "to-hoa-giai",
            "commune_code": "26740", "status": "draft"}
    return [source, copy, bare]


def load(runner, tmp_path) -> None:
    path = tmp_path / "seed.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records()),
                    encoding="utf-8")
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output


def sheets(path) -> dict:
    book = load_workbook(path, read_only=True)
    try:
        return {name: [list(row) for row in book[name].iter_rows(values_only=True)]
                for name in book.sheetnames}
    finally:
        book.close()


def content(path, fmt: str):
    return sheets(path) if fmt == "xlsx" else path.read_bytes()


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "xlsx"])
def test_export_import_export_is_identical(app, runner, tmp_path, fmt):
    load(runner, tmp_path)
    first = tmp_path / f"first.{fmt}"
    result = runner.invoke(args=["export", "--format", fmt, str(first)])
    assert result.exit_code == 0 and "Đã xuất 3 mô hình" in result.output
    reset_database(app)
    result = runner.invoke(args=["import", str(first)])
    assert result.exit_code == 0, result.output
    assert "tạo mới: 3" in result.output
    second = tmp_path / f"second.{fmt}"
    assert runner.invoke(args=["export", str(second)]).exit_code == 0  # format from extension
    assert content(first, fmt) == content(second, fmt)
    with app.app_context():
        copy = db.session.scalar(select(Practice).where(Practice.external_id == "copy"))
        assert copy.replicated_from.external_id == "src"
        source = copy.replicated_from
        assert (source.status, source.recognition_level) == ("approved", "province")
        assert [m.name for m in source.core_members] == [MEMBER_NAME, "Nguyễn Văn Hai"]
        assert source.address_text.startswith("Thôn Đông") and source.commune_code == "12220"


def test_jsonl_export_is_the_record_format(app, runner, tmp_path):
    load(runner, tmp_path)
    path = tmp_path / "out.jsonl"
    runner.invoke(args=["export", str(path)])
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [r["external_id"] for r in lines] == ["src", "copy", "bare"]
    source = lines[0]
    assert source["commune_code"] == "12220" and source["province_code"] == "33"
    assert source["forms"] == ["tu-phong", "tu-quan"]  # vocabulary order, codes
    assert [o["period"] for o in source["outcomes"]] == ["2023-H2", "2024"]
    assert source["founded_on"] == "2012-08-19"
    assert lines[1]["kind"] == "Loại mới tự đặt"  # kinds added later travel by label


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "xlsx"])
def test_no_personal_export_has_no_member_data(app, runner, tmp_path, fmt):
    load(runner, tmp_path)
    path = tmp_path / f"public.{fmt}"
    result = runner.invoke(args=["export", "--no-personal", str(path)])
    assert result.exit_code == 0 and "không kèm dữ liệu cá nhân" in result.output
    if fmt == "xlsx":
        with zipfile.ZipFile(path) as archive:
            text = "".join(archive.read(n).decode("utf-8") for n in archive.namelist()
                           if n.endswith(".xml"))
    else:
        text = path.read_text(encoding="utf-8-sig")
    assert MEMBER_NAME not in text and MEMBER_PHONE not in text
    assert "Nguyễn Văn Hai" not in text and "core_members" not in text
    assert "Xóm đạo bình yên Giáo xứ Phú Nhai" in text


def test_importing_a_no_personal_export_keeps_members(app, runner, tmp_path):
    load(runner, tmp_path)
    path = tmp_path / "public.jsonl"
    runner.invoke(args=["export", "--no-personal", str(path)])
    result = runner.invoke(args=["import", str(path)])
    assert "không đổi: 3" in result.output
    with app.app_context():
        source = db.session.scalar(select(Practice).where(Practice.external_id == "src"))
        assert len(source.core_members) == 2


def test_export_needs_a_known_format(runner, tmp_path):
    result = runner.invoke(args=["export", str(tmp_path / "out.txt")])
    assert result.exit_code == 2 and "--format" in result.output


def test_import_template_is_a_blank_importable_workbook(app, runner, tmp_path):
    path = tmp_path / "mau.xlsx"
    result = runner.invoke(args=["import-template", str(path)])
    assert result.exit_code == 0
    book = sheets(path)
    assert list(book) == ["mo_hinh", "thanh_vien", "ket_qua", "danh_muc"]
    assert book["mo_hinh"][0][:3] == ["external_id", "name", "kind"]
    assert book["mo_hinh"][1][:3] == ["mã tham chiếu", "tên mô hình", "loại mô hình"]
    assert ["loại mô hình", "xom-dao-binh-yen", "Xóm đạo bình yên"] in book["danh_muc"]
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 0 and "tạo mới: 0" in result.output


def test_xlsx_export_warns_about_models_without_external_id(app, runner, tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"name": "Không mã", "kind": "to-hoa-giai",
                                "commune_code": "00070", "outcomes": [{"period": "2024"}]},
                               ensure_ascii=False) + "\n", encoding="utf-8")
    assert runner.invoke(args=["import", str(path)]).exit_code == 0
    out = tmp_path / "out.xlsx"
    result = runner.invoke(args=["export", str(out)])
    assert result.exit_code == 0 and "1 mô hình không có mã tham chiếu" in result.output
    assert sheets(out)["ket_qua"][2:] == []
    assert runner.invoke(args=["import", str(out)]).exit_code == 0  # nothing orphaned
