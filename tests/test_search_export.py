"""Search results as CSV/XLSX from the page and the API: same search, personal data per model."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from registry.extensions import db

OWN, OTHER = "00070", "26740"  # Hoàn Kiếm (Hà Nội), a commune of another province
PHONE, OTHER_PHONE = "0909111222", "0912333444"


@pytest.fixture
def models(make_practice):
    own = make_practice(name="Tổ tự quản Hoàn Kiếm", commune_code=OWN, domains=["pc-ma-tuy"],
                        core_members=[{"name": "Đỗ Thị Riêng Tư", "phone": PHONE}])
    far = make_practice(name="Tổ tự quản nơi khác", commune_code=OTHER, domains=["pc-ma-tuy"],
                        core_members=[{"name": "Lê Văn Xa", "phone": OTHER_PHONE}])
    make_practice(name="Camera an ninh", commune_code=OWN, domains=["pc-toi-pham"])
    make_practice(name="Bản nháp tự quản", commune_code=OWN, status="draft",
                  domains=["pc-ma-tuy"])
    return own, far


def rows_of_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.data[:300]
    assert response.data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def rows_of_xlsx(response) -> list[list]:
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data), read_only=True)
    try:
        return [["" if v is None else v for v in row]
                for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


@pytest.fixture
def token_for(app, make_user):
    from registry.accounts.tokens import create_token
    from registry.models.accounts import User

    def make(role: str, unit: str) -> str:
        user_id = make_user(role, unit)
        with app.app_context():
            _, plain = create_token(db.session.get(User, user_id), "thử xuất")
            db.session.commit()
            return plain

    return make


def test_page_links_keep_the_search(client, models):
    html = client.get("/practices?q=tu+quan&domain=pc-ma-tuy").get_data(as_text=True)
    assert 'href="/practices/export.csv?q=tu+quan&amp;domain=pc-ma-tuy"' in html
    assert 'href="/practices/export.xlsx?q=tu+quan&amp;domain=pc-ma-tuy"' in html
    assert "Tải CSV" in html and "Tải Excel" in html


def test_page_export_anonymous_has_no_personal_data(client, models):
    rows = rows_of_csv(client.get("/practices/export.csv?q=tu+quan&domain=pc-ma-tuy"))
    assert "Lực lượng nòng cốt" not in rows[0]
    assert sorted(r[1] for r in rows[1:]) == ["Tổ tự quản Hoàn Kiếm", "Tổ tự quản nơi khác"]
    assert PHONE not in str(rows) and OTHER_PHONE not in str(rows)


def test_page_export_officer_sees_own_commune_members_only(app, models, make_user, login):
    own, far = models
    client = app.test_client()
    login(client, make_user(role="officer", unit=OWN))
    rows = rows_of_xlsx(client.get("/practices/export.xlsx?domain=pc-ma-tuy"))
    header, body = rows[0], {r[0]: r for r in rows[1:]}
    members = header.index("Lực lượng nòng cốt")
    assert set(body) == {own, far} | {r[0] for r in rows[1:] if r[1] == "Bản nháp tự quản"}
    assert "Bản nháp tự quản" in [r[1] for r in rows[1:]]  # its officer sees the draft
    assert PHONE in body[own][members] and "Đỗ Thị Riêng Tư" in body[own][members]
    assert body[far][members] == ""


def test_trainer_export_has_no_personal_data(app, models, make_user, login):
    client = app.test_client()
    login(client, make_user(role="trainer", unit="national"))
    rows = rows_of_csv(client.get("/practices/export.csv"))
    assert "Lực lượng nòng cốt" not in rows[0] and PHONE not in str(rows)
    assert len(rows) == 1 + 3  # public models only


def test_api_export(client, models, token_for):
    own, far = models
    response = client.get("/api/v1/practices/export?domain=pc-ma-tuy&format=csv")
    rows = rows_of_csv(response)
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert len(rows) == 3 and PHONE not in str(rows)
    committee = token_for("committee", "01")
    rows = rows_of_xlsx(client.get("/api/v1/practices/export?domain=pc-ma-tuy&format=xlsx",
                                   headers={"Authorization": f"Bearer {committee}"}))
    members = rows[0].index("Lực lượng nòng cốt")
    body = {r[0]: r for r in rows[1:]}
    assert PHONE in body[own][members] and body[far][members] == ""
    # The same search as GET /api/v1/practices: same ids.
    listed = client.get("/api/v1/practices?domain=pc-ma-tuy&sort=name").get_json()
    exported = rows_of_csv(client.get("/api/v1/practices/export?domain=pc-ma-tuy&sort=name"))
    assert [h["id"] for h in listed["hits"]] == [int(r[0]) for r in exported[1:]]


def test_api_export_bad_parameters(client, models):
    response = client.get("/api/v1/practices/export?format=pdf&domain=khong-co")
    assert response.status_code == 400
    assert set(response.get_json()["error"]["fields"]) == {"format", "domain"}


def test_export_is_bounded(app, client, models, monkeypatch):
    from registry.services import search_export
    monkeypatch.setattr(search_export, "EXPORT_LIMIT", 2)
    monkeypatch.setattr(search_export.export_table, "__defaults__", (2,))
    response = client.get("/api/v1/practices/export")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "too_many_results"
    page = client.get("/practices/export.csv")
    assert page.status_code == 400 and "vượt quá giới hạn" in page.get_data(as_text=True)
