"""Committee dashboards: coverage counted from the data built here, access, charts, downloads."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from registry.extensions import db
from registry.models.places import Commune


@pytest.fixture
def hanoi(app):
    """Five communes of Hà Nội (01) and the number of its communes, from the units table."""
    with app.app_context():
        codes = list(db.session.scalars(select(Commune.code).where(Commune.province_code == "01")
                                        .order_by(Commune.code).limit(5)))
        total = db.session.scalar(select(func.count()).select_from(Commune)
                                  .where(Commune.province_code == "01"))
        other = db.session.scalar(select(Commune.code).where(Commune.province_code != "01")
                                  .order_by(Commune.code).limit(1))
    return codes, total, other


@pytest.fixture
def area(make_practice, hanoi):
    """A active, B only reported long ago, C a draft, D archived, E approved in pc-ma-tuy."""
    (a, b, c, d, e), _total, other = hanoi
    make_practice(commune_code=a, status="registered", domains=["pc-toi-pham"],
                  outcomes=[{"period": "2025-H1", "tips_reported": 4, "valuable_tips": 1}])
    make_practice(commune_code=b, status="registered", domains=["pc-ma-tuy"],
                  outcomes=[{"period": "2020-H1", "tips_reported": 10}])
    make_practice(commune_code=c, status="draft", domains=["pc-ma-tuy"])
    make_practice(commune_code=d, status="archived", domains=["pc-ma-tuy"])
    make_practice(commune_code=e, status="approved", domains=["pc-ma-tuy"],
                  outcomes=[{"period": "2025-H1", "tips_reported": 6},
                            {"period": "2024", "tips_reported": 2}])
    make_practice(commune_code=other, status="registered", domains=["pc-ma-tuy"],
                  outcomes=[{"period": "2025-H1", "tips_reported": 100}])
    return a, b, c, d, e, other


@pytest.fixture
def committee(app, make_user, login):
    client = app.test_client()
    login(client, make_user(role="committee", unit="01"))
    return client


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def _xlsx(response) -> list[list]:
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data), read_only=True)
    try:
        return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()


def test_coverage_counts(committee, area, hanoi):
    a, b, c, d, e, other = area
    _codes, total, _other = hanoi
    html = committee.get("/dashboards/coverage").get_data(as_text=True)
    assert f"2 trên {total} xã, phường" in html
    provinces = _csv(committee.get("/dashboards/provinces.csv"))
    assert provinces[0] == ["Mã tỉnh", "Tỉnh, thành phố", "Số xã", "Có mô hình hoạt động",
                            "Tỷ lệ (phần trăm)"]
    assert provinces[1:] == [["01", "Thành phố Hà Nội", str(total), "2",
                              str(round(200 / total, 1))]]
    uncovered = {row[1] for row in _csv(committee.get("/dashboards/uncovered.csv"))[1:]}
    assert len(uncovered) == total - 2
    assert {b, c, d} <= uncovered and not {a, e} & uncovered and other not in uncovered
    english = committee.get("/dashboards/coverage?lang=en").get_data(as_text=True)
    assert f"2 of {total} communes have at least one active model" in english
    assert _csv(committee.get("/dashboards/provinces.csv"))[0][0] == "Province code"


def test_coverage_by_domain(committee, area, hanoi):
    a, b, c, d, e, other = area
    _codes, total, _other = hanoi
    html = committee.get("/dashboards/coverage?domain=pc-ma-tuy").get_data(as_text=True)
    assert f"1 trên {total} xã, phường" in html
    rows = _xlsx(committee.get("/dashboards/uncovered.xlsx?domain=pc-ma-tuy"))
    assert rows[0] == ["Tỉnh, thành phố", "Mã xã", "Xã, phường, đặc khu"]
    codes = {row[1] for row in rows[1:]}
    assert len(codes) == total - 1 and a in codes and e not in codes
    assert committee.get("/dashboards/coverage?domain=khong-co").status_code == 400


def test_results_trends_and_chart(committee, area):
    rows = _csv(committee.get("/dashboards/trends.csv"))
    assert rows[0][:3] == ["Kỳ", "Tin báo", "Tin có giá trị"]
    by_period = {r[0]: r for r in rows[1:]}
    # Hà Nội only (the other province's 100 left out); drafts and archived have no reports.
    assert by_period["2025-H1"][1:3] == ["10", "1"]
    assert by_period["2024"][1] == "2" and by_period["2020-H1"][1] == "10"
    page = committee.get("/dashboards/results").get_data(as_text=True)
    assert '<img src="/dashboards/trends.svg"' in page and "<table" in page
    svg = committee.get("/dashboards/trends.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert b"<script" not in svg.data
    assert "style-src 'unsafe-inline'" in svg.headers["Content-Security-Policy"]
    assert committee.get("/dashboards/coverage.svg").status_code == 200
    one = committee.get("/dashboards/results?indicator=valuable_tips").get_data(as_text=True)
    assert '<img src="/dashboards/trends.svg?indicator=valuable_tips"' in one
    only = committee.get("/dashboards/trends.svg?indicator=valuable_tips").data
    assert "Tin có giá trị".encode() in only and "Tai nạn giao thông".encode() not in only
    assert "Tai nạn giao thông".encode() in svg.data
    assert committee.get("/dashboards/results?indicator=nope").status_code == 400


def test_overdue_and_nominations(app, committee, area):
    a, b, c, d, e, other = area
    rows = _xlsx(committee.get("/dashboards/overdue.xlsx"))
    assert rows[0][-1] == "Kỳ báo cáo gần nhất"
    assert [r[-1] for r in rows[1:]] == ["2020-H1"]  # only B: A and E reported in 2025
    from registry.models.practices import Practice
    from registry.models.workflow import Nomination
    with app.app_context():
        practice = db.session.scalar(select(Practice).where(Practice.commune_code == e))
        db.session.add(Nomination(practice_id=practice.id, level="province",
                                  decision_unit="01", state="review"))
        db.session.commit()
    counts = {r[0]: r[1] for r in _csv(committee.get("/dashboards/nominations.csv"))[1:]}
    assert counts["Đang thẩm định"] == "1" and counts["Đã công nhận"] == "0"
    page = committee.get("/dashboards/follow-up").get_data(as_text=True)
    assert "/dashboards/nominations.svg" in page and 'tabindex="0"' in page


def test_access(app, make_user, login, area):
    anonymous = app.test_client()
    response = anonymous.get("/dashboards/coverage")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert anonymous.get("/dashboards/uncovered.csv").status_code == 302
    officer = app.test_client()
    login(officer, make_user(role="officer", unit="00070"))
    assert officer.get("/dashboards/coverage").status_code == 403
    assert officer.get("/dashboards/uncovered.csv").status_code == 403
    assert officer.get("/dashboards/trends.svg").status_code == 403
    assert "/dashboards/coverage" not in officer.get("/practices").get_data(as_text=True)


def test_commune_committee_sees_its_commune_and_admin_the_country(app, make_user, login,
                                                                  area):
    a, b, c, d, e, other = area
    client = app.test_client()
    login(client, make_user(role="committee", unit=a))
    assert "1 trên 1 xã, phường" in client.get("/dashboards/coverage").get_data(as_text=True)
    assert '<a href="/dashboards/coverage">' in client.get("/practices").get_data(as_text=True)
    admin = app.test_client()
    login(admin, make_user(role="admin", unit="national"))
    with app.app_context():
        everything = db.session.scalar(select(func.count()).select_from(Commune))
    html = admin.get("/dashboards/coverage").get_data(as_text=True)
    assert f"3 trên {everything} xã, phường" in html
