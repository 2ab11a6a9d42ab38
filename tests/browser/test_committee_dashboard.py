"""A province committee member follows coverage: filters by domain, downloads the gaps."""
from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from registry.extensions import db
from registry.models.places import Commune

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _smallest_province(app) -> tuple[str, list[str]]:
    with app.app_context():
        code = db.session.scalar(select(Commune.province_code).group_by(Commune.province_code)
                                 .order_by(func.count(), Commune.province_code).limit(1))
        return code, list(db.session.scalars(select(Commune.code)
                                             .where(Commune.province_code == code)))


def test_committee_downloads_communes_without_a_drug_prevention_model(
        new_page, make_user, make_practice, app, tmp_path):
    from tests.conftest import TEST_PASSWORD
    province, communes = _smallest_province(app)
    drugs, crime = communes[0], communes[1]
    make_practice(name="Tổ tự quản phòng, chống ma túy", commune_code=drugs,
                  domains=["pc-ma-tuy"], outcomes=[{"period": "2025-H1", "tips_reported": 3}])
    make_practice(name="Tổ an ninh", commune_code=crime, domains=["pc-toi-pham"],
                  outcomes=[{"period": "2025-H1", "tips_reported": 5}])
    make_user(role="committee", unit=province, email="bcd@tinh.vn")

    page = new_page(viewport=PHONE)
    page.goto("/login")
    page.fill("input[name=email]", "bcd@tinh.vn")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.get_by_role("link", name="Thống kê").click()
    assert f"2 trên {len(communes)} xã, phường" in page.inner_text("#coverage-summary")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    page.select_option("select[name=domain]", label="phòng, chống ma túy")
    page.get_by_role("button", name="Lọc").click()
    assert "domain=pc-ma-tuy" in page.url
    assert f"1 trên {len(communes)} xã, phường" in page.inner_text("#coverage-summary")
    assert page.locator("img[src*='coverage.svg']").evaluate("img => img.naturalWidth") > 0
    table = page.locator("#uncovered")
    assert table.locator("tbody tr").count() == len(communes) - 1

    section = page.locator("section", has=page.locator("#uncovered"))
    with page.expect_download() as info:
        section.get_by_role("link", name="Tải CSV").click()
    download = info.value
    assert download.suggested_filename == "uncovered-pc-ma-tuy.csv"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    assert rows[0] == ["Tỉnh, thành phố", "Mã xã", "Xã, phường, đặc khu"]
    assert sorted(r[1] for r in rows[1:]) == sorted(set(communes) - {drugs})
    assert crime in {r[1] for r in rows[1:]}
