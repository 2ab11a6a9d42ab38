"""F6 in Chromium: the pages keep to the Content-Security-Policy (no console violation) while
searching with JavaScript, signing in and editing; and the policy is really enforced."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_policy_is_enforced_and_violations_are_seen(new_page, live_server):
    """The control: an inline script is refused, and the console listener reports it."""
    page = new_page()
    response = page.goto("/practices")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page.evaluate("""() => { const s = document.createElement('script');
        s.textContent = 'window.inlineRan = true'; document.head.appendChild(s);
        const d = document.createElement('div'); d.setAttribute('style', 'color: red');
        document.body.appendChild(d); }""")
    page.wait_for_timeout(200)
    assert page.evaluate("window.inlineRan === undefined")
    assert any("script" in text for text in page.csp_violations), page.csp_violations
    assert any("style" in text for text in page.csp_violations), page.csp_violations
    page.csp_violations.clear()  # provoked on purpose


def test_pages_keep_to_the_policy(new_page, make_user, make_practice):
    from tests.conftest import TEST_PASSWORD
    make_user(role="officer", unit="00070", email="csp@xa.vn")
    pid = make_practice(name="Tổ hòa giải Hoàn Kiếm", commune_code="00070",
                        domains=["hoa-giai-co-so"], summary="Hòa giải mâu thuẫn.",
                        description="**Đậm**\n\n| a | b |\n|:--|--:|\n| 1 | 2 |")
    make_practice(name="Camera an ninh Cửa Nam", commune_code="00073", kind="camera-an-ninh")
    page = new_page()
    page.goto("/practices")
    expect(page.locator("article.result h2")).to_have_count(2)
    page.fill("input[name=q]", "hoa giai")  # search.js: fetch and in-place update
    expect(page.locator("article.result h2")).to_have_count(1)
    page.locator("input[type=checkbox][name=domain][value='hoa-giai-co-so']").check()
    page.wait_for_load_state("networkidle")
    page.go_back()
    page.goto(f"/practices/{pid}")
    page.goto("/login")
    page.fill("input[name=email]", "csp@xa.vn")
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/practices")
    for path in (f"/practices/{pid}", f"/practices/{pid}/edit", f"/practices/{pid}/members",
                 f"/practices/{pid}/outcomes/new", f"/practices/{pid}/evidence/new",
                 "/practices/new", "/account", "/account/password", "/practices?lang=en"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
    assert page.csp_violations == []
