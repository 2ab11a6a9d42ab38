"""An officer on a phone registers a model with members, a results report and an attachment."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from registry.extensions import db
from registry.models.practices import Practice

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def _sign_in(page, email: str, password: str) -> None:
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_officer_registers_a_model_on_a_phone(new_page, make_user, app, tmp_path):
    from tests.conftest import TEST_PASSWORD
    make_user(role="officer", unit="00070", email="canbo@xa.vn")
    page = new_page(viewport=PHONE)
    _sign_in(page, "canbo@xa.vn", TEST_PASSWORD)

    page.goto("/practices/new")
    assert _no_horizontal_scroll(page)
    page.fill("input[name=name]", "Tổ tự quản Hoàn Kiếm an toàn")
    page.select_option("select[name=kind]", "tu-phong-tu-quan-tu-bao-ve")
    page.fill("textarea[name=summary]", "Tổ tự quản giữ gìn an ninh, trật tự khu phố.")
    page.check("input[name=forms][value=tu-quan]")
    page.check("input[name=domains][value=antt-khu-dan-cu]")
    page.get_by_role("button", name="Gửi xác minh").click()
    page.wait_for_url("**/practices/*")
    practice_url = page.url
    assert "Tổ tự quản Hoàn Kiếm an toàn" in page.content()

    page.get_by_role("link", name="Lực lượng nòng cốt").click()
    page.fill("input[name='members-0-name']", "Nguyễn Văn Hùng")
    page.fill("input[name='members-0-phone']", "0912345678")
    page.get_by_role("button", name="Lưu danh sách").click()
    page.goto(practice_url)
    assert "0912345678" in page.content()  # the model's own officer sees the phone

    page.get_by_role("link", name="Thêm kết quả").click()
    page.fill("input[name=period]", "2025-H1")
    page.fill("input[name=tips_reported]", "12")
    page.fill("textarea[name=narrative]", "Tình hình ổn định, không có điểm nóng.")
    page.get_by_role("button", name="Lưu báo cáo").click()
    page.goto(practice_url)
    assert "Tình hình ổn định, không có điểm nóng." in page.content()

    attachment = tmp_path / "quy-che.pdf"
    attachment.write_bytes(PDF)
    page.get_by_role("link", name="Tải tài liệu").click()
    page.fill("input[name=title]", "Quy chế hoạt động")
    page.set_input_files("input[name=file]", str(attachment))
    page.get_by_role("button", name="Tải lên").click()
    page.goto(practice_url)
    assert "Quy chế hoạt động" in page.content()
    assert _no_horizontal_scroll(page)

    with app.app_context():
        practice = db.session.scalar(select(Practice).where(
            Practice.name == "Tổ tự quản Hoàn Kiếm an toàn"))
        assert practice.status == "submitted" and practice.commune_code == "00070"
        assert [m.phone for m in practice.core_members] == ["0912345678"]
        assert [(o.period, o.tips_reported) for o in practice.outcomes] == [("2025-H1", 12)]
        assert [e.title for e in practice.evidence] == ["Quy chế hoạt động"]
        assert practice.evidence[0].content_type == "application/pdf"
