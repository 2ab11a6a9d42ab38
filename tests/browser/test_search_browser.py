"""The search page in Chromium: in-place updates with history, no-JS form, phone layout."""
from __future__ import annotations

import os
import re
from datetime import date

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
RESULTS = "article.result h2"


@pytest.fixture
def models(make_practice):
    make_practice(name="Tổ hòa giải Hoàn Kiếm", commune_code="00070",
                  domains=["hoa-giai-co-so"], founded_on=date(2015, 5, 1),
                  summary="Hòa giải mâu thuẫn trong khu phố cổ.")
    make_practice(name="Camera an ninh Cửa Nam", commune_code="00073", kind="camera-an-ninh",
                  domains=["antt-khu-dan-cu", "pc-toi-pham"], founded_on=date(2021, 3, 1))
    make_practice(name="Xóm đạo bình yên Giáo xứ Thục Phán với tên rất dài để thử xuống dòng",
                  commune_code="01273", kind="xom-dao-binh-yen", domains=["pc-toi-pham"],
                  founded_on=date(2023, 9, 1),
                  summary="Giáo dân tự quản, tự phòng; không có tội phạm và tệ nạn xã hội.")


def checkbox(page, name, value):
    return page.locator(f"input[type=checkbox][name={name}][value='{value}']")


def test_ticking_a_facet_updates_in_place_and_back_restores(new_page, models):
    page = new_page()
    page.goto("/practices")
    expect(page.locator(RESULTS)).to_have_count(3)
    page.evaluate("window.searchMarker = 'same document'")

    checkbox(page, "domain", "pc-toi-pham").check()
    page.wait_for_url(re.compile(r"/practices\?domain=pc-toi-pham$"))
    expect(page.locator(RESULTS)).to_have_count(2)
    expect(checkbox(page, "domain", "pc-toi-pham")).to_be_checked()
    # Keyboard users keep their place: focus is back on the same value in the new region.
    expect(checkbox(page, "domain", "pc-toi-pham")).to_be_focused()
    expect(page.locator("select#sort")).to_be_visible()

    page.select_option("select#sort", "name")
    page.wait_for_url(re.compile(r"sort=name"))
    expect(page.locator(RESULTS).first).to_have_text("Camera an ninh Cửa Nam")

    page.go_back()
    page.wait_for_url(re.compile(r"/practices\?domain=pc-toi-pham$"))
    expect(page.locator("select#sort")).to_have_value("relevance")
    page.go_back()
    page.wait_for_url(re.compile(r"/practices$"))
    expect(page.locator(RESULTS)).to_have_count(3)
    expect(checkbox(page, "domain", "pc-toi-pham")).not_to_be_checked()
    # No full reload happened at any step: the page's own state survived.
    assert page.evaluate("window.searchMarker") == "same document"

    page.go_forward()
    page.wait_for_url(re.compile(r"domain=pc-toi-pham"))
    expect(page.locator(RESULTS)).to_have_count(2)


def test_typing_searches_after_a_pause(new_page, models):
    page = new_page()
    page.goto("/practices")
    page.evaluate("window.searchMarker = 1")
    page.fill("#q", "xom dao")
    page.wait_for_url(re.compile(r"q=xom\+dao"))
    expect(page.locator(RESULTS)).to_have_count(1)
    expect(page.locator(RESULTS + " mark").first).to_be_visible()
    assert page.evaluate("window.searchMarker") == 1
    page.go_back()
    page.wait_for_url(re.compile(r"/practices$"))
    expect(page.locator("#q")).to_have_value("")
    expect(page.locator(RESULTS)).to_have_count(3)


def test_more_link_expands_in_place(new_page, make_practice):
    for kind in ("tu-phong-tu-quan-tu-bao-ve", "cum-lien-ket-an-toan",
                 "chi-doan-khong-toi-pham", "con-em-khong-pham-toi", "nong-dan-voi-phap-luat",
                 "xom-dao-binh-yen", "dong-toc-khong-toi-pham", "to-cong-nhan-tu-quan",
                 "khu-noi-tru-an-toan", "camera-an-ninh"):
        make_practice(kind=kind)
    page = new_page()
    page.goto("/practices")
    page.evaluate("window.searchMarker = 1")
    kinds = page.locator("#facet-kind input[type=checkbox]")
    expect(kinds).to_have_count(8)
    page.locator("#facet-kind a.facet-more").click()
    page.wait_for_url(re.compile(r"more=kind"))
    expect(kinds).to_have_count(10)
    assert page.evaluate("window.searchMarker") == 1


def test_without_javascript_the_form_submits(new_page, models):
    page = new_page(java_script_enabled=False)
    page.goto("/practices")
    checkbox(page, "province", "01").check()
    page.fill("#founded_from", "2020")
    page.locator(".filters button.apply").click()
    page.wait_for_url(re.compile(r"province=01"))
    assert "founded_from=2020" in page.url
    expect(page.locator(RESULTS)).to_have_count(1)
    expect(page.locator(RESULTS)).to_have_text("Camera an ninh Cửa Nam")
    # The commune facet appears once a province is chosen; a removal link clears one value.
    expect(page.locator("#facet-commune")).to_be_visible()
    page.locator(".chips a", has_text="2020").click()
    page.wait_for_url(re.compile(r"/practices\?province=01$"))
    expect(page.locator(RESULTS)).to_have_count(2)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_phone_layout_has_no_horizontal_scroll(new_page, models, screenshot_dir, javascript,
                                               engine_name, live_server):
    page = new_page(viewport=PHONE, java_script_enabled=javascript)
    requested = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto("/practices?province=01&province=04&domain=pc-toi-pham&q=an")
    assert requested and all(url.startswith(live_server + "/") for url in requested)
    expect(page.locator("details#filters > summary")).to_be_visible()
    expect(page.locator("#facet-province")).to_be_hidden()  # folded on a phone
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator("details#filters > summary").click()
    expect(page.locator("#facet-province")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    if screenshot_dir:
        name = f"search-phone-{'js' if javascript else 'nojs'}-{engine_name}.png"
        page.screenshot(path=os.path.join(screenshot_dir, name), full_page=True)


def test_wide_layout_shows_facets_beside_results(new_page, models, screenshot_dir,
                                                 engine_name):
    page = new_page(java_script_enabled=False)
    page.goto("/practices?domain=pc-toi-pham")
    expect(page.locator("details#filters > summary")).to_be_hidden()
    expect(page.locator("#facet-province")).to_be_visible()
    facets = page.locator("#facet-province").bounding_box()
    results = page.locator("section.results").bounding_box()
    assert facets["x"] + facets["width"] <= results["x"]
    if screenshot_dir:
        page.screenshot(path=os.path.join(screenshot_dir, f"search-wide-{engine_name}.png"),
                        full_page=True)
