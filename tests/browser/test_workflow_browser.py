"""On a phone: a commune committee verifies a model from its inbox, the officer nominates it,
a reviewer scores it and the province committee approves it — each person seeing only what is
theirs to act on, every step on the timeline with its reason."""
from __future__ import annotations

import os

import pytest

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _sign_in(new_page, email):
    from tests.conftest import TEST_PASSWORD
    page = new_page(viewport=PHONE)
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/practices**")
    return page


def _fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_verify_nominate_review_approve_on_a_phone(new_page, make_user, make_practice,
                                                   screenshot_dir):
    make_user("officer", "00070", email="canbo@xa.vn")
    make_user("committee", "00070", email="bcd-xa@xa.vn")
    make_user("committee", "01", email="bcd-tinh@tinh.vn")
    make_user("reviewer", "01", email="thamdinh-a@tinh.vn")
    make_user("reviewer", "01", email="thamdinh-b@tinh.vn")
    pid = make_practice(name="Tổ hòa giải khu phố 7", status="submitted", commune_code="00070",
                        summary="Hòa giải mâu thuẫn ở cơ sở.", domains=["hoa-giai-co-so"], forms=["tu-hoa-giai"],
                        outcomes=[{"period": "2025-H1", "tips_reported": 8}])

    # The commune committee: the inbox count in the header, the model, "verify".
    committee = _sign_in(new_page, "bcd-xa@xa.vn")
    committee.get_by_role("link", name="Việc cần xử lý").click()
    assert _fits(committee)
    committee.get_by_role("link", name="Tổ hòa giải khu phố 7").click()
    assert committee.get_by_role("link", name="Nhân rộng tại địa phương").count() == 0
    committee.get_by_role("link", name="Xác minh, đưa vào danh mục").click()
    committee.fill("textarea[name=reason]", "Đã kiểm tra thực tế.")
    committee.get_by_role("button", name="Xác minh, đưa vào danh mục").click()
    committee.wait_for_url(f"**/practices/{pid}**")
    assert "Đã đăng ký" in committee.content()

    # The officer nominates it at province level; no verify button for them.
    officer = _sign_in(new_page, "canbo@xa.vn")
    officer.goto(f"/practices/{pid}")
    assert officer.get_by_role("link", name="Xác minh, đưa vào danh mục").count() == 0
    officer.get_by_role("link", name="Đề cử điển hình").click()
    officer.fill("textarea[name=reason]", "Hòa giải thành nhiều vụ.")
    officer.get_by_role("button", name="Gửi hồ sơ đề cử").click()
    officer.wait_for_url("**/nominations/*")
    nomination_url = officer.url

    # The province committee assigns two reviewers from the nomination's page.
    province = _sign_in(new_page, "bcd-tinh@tinh.vn")
    province.get_by_role("link", name="Việc cần xử lý").click()
    province.get_by_role("link", name="Tổ hòa giải khu phố 7").click()
    for email in ("thamdinh-a@tinh.vn", "thamdinh-b@tinh.vn"):
        province.fill("input[name=reviewer]", email)
        province.get_by_role("button", name="Phân công").click()
        province.wait_for_url(nomination_url)

    # Each reviewer scores every criterion.
    for email in ("thamdinh-a@tinh.vn", "thamdinh-b@tinh.vn"):
        reviewer = _sign_in(new_page, email)
        reviewer.goto(nomination_url)
        assert _fits(reviewer)
        for radio in reviewer.locator("fieldset.score").all():
            radio.locator("input[value='4']").check()
        reviewer.fill("textarea[name=comment]", "Đạt yêu cầu.")
        reviewer.get_by_role("button", name="Gửi phiếu thẩm định").click()
        reviewer.wait_for_url(nomination_url)
        assert "Đã gửi phiếu thẩm định." in reviewer.content()

    # The province committee approves with a reason; the model page shows it.
    province.goto(nomination_url)
    province.fill("textarea#reason-approve", "Đạt các tiêu chí điển hình cấp tỉnh.")
    province.get_by_role("button", name="Công nhận", exact=True).click()
    province.wait_for_url(nomination_url)
    province.goto(f"/practices/{pid}")
    content = province.content()
    assert "Cấp tỉnh" in content and "Đạt các tiêu chí điển hình cấp tỉnh." in content
    assert "Đã kiểm tra thực tế." in content  # the verification's reason on the timeline
    assert _fits(province)
    if screenshot_dir:
        province.screenshot(path=os.path.join(screenshot_dir, "workflow-approved.png"),
                            full_page=True)
