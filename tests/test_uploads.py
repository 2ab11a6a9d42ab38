"""Evidence uploads: type by content, size limit, safe names, storage and safe downloads."""
from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from registry.services.uploads import (
    content_disposition, detect_content_type, download_name, sanitise_filename,
)
from registry.extensions import db
from registry.models.practices import Evidence, Practice

OWN = "00070"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 40
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 60
HTML = b"<!doctype html><script>alert(document.cookie)</script>"


def office_file(member: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(member, "<x/>")
    return buffer.getvalue()


DOCX = office_file("word/document.xml")
XLSX = office_file("xl/workbook.xml")
PLAIN_ZIP = office_file("readme.txt")


@pytest.mark.parametrize("data,expected", [
    (PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg"), (WEBP, "image/webp"),
    (DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (EXE, None), (HTML, None), (PLAIN_ZIP, None), (b"PK\x03\x04 not a zip", None),
    (b"RIFF\x24\x00\x00\x00WAVEfmt ", None), (b"", None),
])
def test_type_is_detected_from_content(data, expected):
    assert detect_content_type(data) == expected


@pytest.mark.parametrize("given,expected", [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\Windows\\system32\\evil.pdf", "evil.pdf"),
    ("quy-che\x00.exe.pdf", "quy-che.exe.pdf"),
    ("/abs/path/Quyết định.pdf", "Quyết định.pdf"),
    ("...hidden.pdf", "hidden.pdf"),
    ("", "tai-lieu"), ("../..", "tai-lieu"), ('a<b>:"c|?*.pdf', "abc.pdf"),
    ("Quye\u0302\u0301t.pdf", "Quyết.pdf"),  # decomposed input comes out NFC
])
def test_file_names_are_neutralised(given, expected):
    assert sanitise_filename(given) == expected


def test_download_name_matches_detected_type():
    assert download_name("anh-hop-to.pdf", "image/png") == "anh-hop-to.pdf.png"
    assert download_name("bao-cao.PDF", "application/pdf") == "bao-cao.PDF"
    header = content_disposition("Quyết định thành lập.pdf")
    assert header.startswith("attachment; ")
    assert "filename*=UTF-8''Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh%20th%C3%A0nh%20l%E1%BA%ADp.pdf" \
        in header
    assert 'filename="Quyet dinh thanh lap.pdf"' in header


@pytest.fixture
def officer_client(app, make_user, login):
    client = app.test_client()
    login(client, make_user("officer", OWN))
    return client


def upload(client, practice_id, data: bytes, filename: str, content_type="application/pdf",
           title="Quyết định thành lập", category="decision"):
    return client.post(f"/practices/{practice_id}/evidence/new", data={
        "title": title, "category": category,
        "file": (io.BytesIO(data), filename, content_type)},
        content_type="multipart/form-data")


def stored_files(app) -> list[Path]:
    root = Path(app.config["REGISTRY_UPLOAD_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def evidence_rows(app) -> list[Evidence]:
    with app.app_context():
        rows = db.session.scalars(select(Evidence).order_by(Evidence.id)).all()
        db.session.expunge_all()
        return rows


@pytest.mark.parametrize("data,filename", [
    (EXE, "quyet-dinh.pdf"), (HTML, "bao-cao.pdf"), (PLAIN_ZIP, "quy-che.docx"),
    (b"just text", "anh.png"),
])
def test_wrong_type_renamed_is_rejected(app, officer_client, make_practice, data, filename):
    pid = make_practice(commune_code=OWN)
    response = upload(officer_client, pid, data, filename)
    assert response.status_code == 400
    assert "Chỉ nhận tệp PDF, ảnh (JPEG, PNG, WebP), Word (DOCX) hoặc Excel (XLSX)." \
        in response.get_data(as_text=True)
    assert evidence_rows(app) == [] and stored_files(app) == []


def test_too_large_is_rejected(app, officer_client, make_practice, monkeypatch):
    monkeypatch.setitem(app.config, "REGISTRY_MAX_UPLOAD_BYTES", 2048)
    pid = make_practice(commune_code=OWN)
    response = upload(officer_client, pid, PDF + b"0" * 2048, "lon.pdf")
    assert response.status_code == 400
    assert "Tệp quá lớn: tối đa 2 KB." in response.get_data(as_text=True)
    assert upload(officer_client, pid, PDF + b"0" * 100, "vua.pdf").status_code == 302
    assert len(evidence_rows(app)) == 1 and len(stored_files(app)) == 1


def test_request_beyond_the_server_limit_is_refused(app, officer_client, make_practice,
                                                    monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 4096)
    pid = make_practice(commune_code=OWN)
    response = upload(officer_client, pid, PDF + b"0" * 8192, "rat-lon.pdf")
    assert response.status_code == 413
    assert "Tệp quá lớn" in response.get_data(as_text=True)
    assert evidence_rows(app) == [] and stored_files(app) == []


def test_empty_or_missing_file_is_rejected(app, officer_client, make_practice):
    pid = make_practice(commune_code=OWN)
    assert "Tệp rỗng" in upload(officer_client, pid, b"", "rong.pdf").get_data(as_text=True)
    missing = officer_client.post(f"/practices/{pid}/evidence/new",
                                  data={"title": "x", "category": "other"})
    assert missing.status_code == 400
    assert "Vui lòng chọn tệp để tải lên." in missing.get_data(as_text=True)
    assert evidence_rows(app) == []


@pytest.mark.parametrize("filename,kept", [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("..\\..\\..\\boot.ini.pdf", "boot.ini.pdf"),
    ("/var/www/static/index.pdf", "index.pdf"),
])
def test_path_tricks_in_file_names_are_neutralised(app, officer_client, make_practice,
                                                   filename, kept):
    pid = make_practice(commune_code=OWN)
    assert upload(officer_client, pid, PDF, filename).status_code == 302
    (row,) = evidence_rows(app)
    assert row.original_filename == kept
    files = stored_files(app)
    assert [p.name for p in files] == [row.stored_name]
    assert len(row.stored_name) == 32 and all(c in "0123456789abcdef" for c in row.stored_name)
    assert files[0].parent == Path(app.config["REGISTRY_UPLOAD_DIR"])
    assert files[0].read_bytes() == PDF


def test_entitled_download_has_safe_headers(app, officer_client, make_practice):
    pid = make_practice(commune_code=OWN)
    # The client claims text/html; the stored type comes from our detection.
    assert upload(officer_client, pid, PNG, "Ảnh họp tổ.pdf", content_type="text/html",
                  category="photo").status_code == 302
    (row,) = evidence_rows(app)
    assert row.content_type == "image/png" and row.size_bytes == len(PNG)
    assert row.category == "photo" and len(row.sha256) == 64
    response = officer_client.get(f"/practices/{pid}/evidence/{row.id}")
    assert response.status_code == 200
    assert response.data == PNG
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E1%BA%A2nh%20h%E1%BB%8Dp%20t%E1%BB%95.pdf.png" in disposition
    assert "no-store" in response.headers["Cache-Control"]
    detail = officer_client.get(f"/practices/{pid}").get_data(as_text=True)
    assert "Quyết định thành lập" in detail and f"/evidence/{row.id}" in detail


@pytest.mark.parametrize("data,content_type", [
    (DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (JPEG, "image/jpeg"), (WEBP, "image/webp"),
])
def test_each_allowed_type_is_stored(app, officer_client, make_practice, data, content_type):
    pid = make_practice(commune_code=OWN)
    assert upload(officer_client, pid, data, "tai-lieu.bin").status_code == 302
    assert [r.content_type for r in evidence_rows(app)] == [content_type]


@pytest.mark.parametrize("role,unit,status", [
    ("trainer", "national", 403), ("officer", "00073", 403), ("reviewer", "01", 403),
    ("committee", "79", 403), ("committee", "01", 200), ("admin", "national", 200),
])
def test_download_only_for_entitled_users(app, officer_client, make_practice, make_user,
                                          login, role, unit, status):
    pid = make_practice(commune_code=OWN)
    upload(officer_client, pid, PDF, "quy-che.pdf")
    (row,) = evidence_rows(app)
    client = app.test_client()
    login(client, make_user(role, unit))
    response = client.get(f"/practices/{pid}/evidence/{row.id}")
    assert response.status_code == status
    assert (PDF in response.data) == (status == 200)
    listing = client.get(f"/practices/{pid}").get_data(as_text=True)
    assert (f"/evidence/{row.id}" in listing) == (status == 200)


def test_public_cannot_download(app, officer_client, make_practice):
    pid = make_practice(commune_code=OWN)
    upload(officer_client, pid, PDF, "quy-che.pdf")
    (row,) = evidence_rows(app)
    response = app.test_client().get(f"/practices/{pid}/evidence/{row.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert PDF not in response.data
    # Another model's id in the URL does not reach the file either.
    other = make_practice(commune_code=OWN)
    assert officer_client.get(f"/practices/{other}/evidence/{row.id}").status_code == 404


def test_delete_removes_row_and_file(app, officer_client, make_practice):
    pid = make_practice(commune_code=OWN)
    upload(officer_client, pid, PDF, "quy-che.pdf")
    (row,) = evidence_rows(app)
    assert officer_client.get(f"/practices/{pid}/evidence/{row.id}/delete").status_code == 200
    assert len(stored_files(app)) == 1
    assert officer_client.post(f"/practices/{pid}/evidence/{row.id}/delete").status_code == 302
    assert evidence_rows(app) == [] and stored_files(app) == []
    with app.app_context():
        from registry.models.revisions import Revision
        actions = db.session.scalars(select(Revision.action).order_by(Revision.id)).all()
        assert actions == ["add_evidence", "delete_evidence"]


def test_failed_transaction_leaves_no_file_behind(app, make_practice):
    """The service writes the file last; a rollback afterwards removes it again."""
    from registry.services.uploads import CheckedUpload
    from registry.services.evidence import delete_evidence, store_evidence
    pid = make_practice(commune_code=OWN)
    checked = CheckedUpload(data=PDF, content_type="application/pdf",
                            original_filename="a.pdf", sha256="0" * 64)
    with app.app_context():
        practice = db.session.get(Practice, pid)
        store_evidence(practice, checked, user=None, title="Sẽ bị hủy")
        assert len(stored_files(app)) == 1
        db.session.rollback()
        assert stored_files(app) == []
        assert db.session.scalar(select(func.count()).select_from(Evidence)) == 0

        evidence = store_evidence(db.session.get(Practice, pid), checked, user=None,
                                  title="Được giữ")
        db.session.commit()
        assert len(stored_files(app)) == 1
        delete_evidence(evidence, user=None)
        db.session.rollback()  # the deletion failed: the file must still be there
        assert len(stored_files(app)) == 1
        delete_evidence(db.session.get(Evidence, evidence.id), user=None)
        db.session.commit()
        assert stored_files(app) == []


def test_upload_dir_is_outside_the_web_root(app):
    upload_dir = os.path.realpath(app.config["REGISTRY_UPLOAD_DIR"])
    assert not upload_dir.startswith(os.path.realpath(app.static_folder))
