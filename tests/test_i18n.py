"""Interface language: the English catalogue is complete, pages switch and remember English."""
from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
BABEL_CFG = ROOT / "registry" / "translations" / "babel.cfg"
ENGLISH_PO = ROOT / "registry" / "translations" / "en" / "LC_MESSAGES" / "messages.po"


def extracted_ids() -> set:
    """Every msgid the code and templates use, extracted as `pybabel extract -k _l` does."""
    with BABEL_CFG.open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, str(BABEL_CFG))
    keywords = dict(DEFAULT_KEYWORDS, _l=None)
    ids = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords):
        ids.add(message[0] if isinstance(message, tuple) else message)
    return ids


@pytest.fixture(scope="module")
def catalogue():
    with ENGLISH_PO.open("rb") as po_file:
        return read_po(po_file)


def test_catalogue_is_complete_and_current(catalogue):
    translated = {}
    for message in catalogue:
        if not message.id:
            continue
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"untranslated: {key!r}"
        assert not message.fuzzy, f"fuzzy: {key!r}"
        translated[key] = message
    used = extracted_ids()
    assert len(used) > 150
    assert used - set(translated) == set(), "msgids missing from en/messages.po"
    assert set(translated) - used == set(), "msgids in en/messages.po no longer used"


def test_placeholders_survive_translation(catalogue):
    for message in catalogue:
        if not message.id:
            continue
        source = message.id if isinstance(message.id, tuple) else (message.id,)
        target = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(re.findall(r"%\(\w+\)\w", source[0]))
        for text in target:
            assert set(re.findall(r"%\(\w+\)\w", text)) == wanted, message.id


def english_link(html: str) -> str:
    match = re.search(r'<a href="([^"]*)" hreflang="en"', html)
    assert match, "no link to the English interface"
    return unescape(match.group(1))


def test_vietnamese_is_the_default(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="vi">' in html
    assert "Đăng nhập" in html and "Quên mật khẩu?" in html
    assert "Sign in" not in html


def test_search_page_in_english_and_remembered(client, make_practice):
    make_practice(name="Tổ tự quản Thôn Đông", domains=["pc-toi-pham"])
    html = client.get("/practices?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
    for text in ("Catalogue of models", "Filters", "Sort by", "Most relevant", "1 model",
                 "Sign in", "Registry of community self-protection"):
        assert text in html, text
    for text in ("Danh mục mô hình", "Bộ lọc", "Sắp xếp", "Đăng nhập", "Tìm kiếm"):
        assert text not in html, text
    assert 'hreflang="vi"' in html  # the way back to Vietnamese
    again = client.get("/practices").get_data(as_text=True)  # no ?lang: the session decides
    assert '<html lang="en">' in again and "Filters" in again and "Bộ lọc" not in again
    back = client.get("/practices?lang=vi").get_data(as_text=True)
    assert '<html lang="vi">' in back and "Bộ lọc" in back


def test_model_page_in_english(client, make_practice):
    practice_id = make_practice(
        name="Tổ tự quản Thôn Đông", domains=["pc-toi-pham"], hamlet="Thôn Đông",
        outcomes=[{"period": "2025-H1", "tips_reported": 4}])
    client.get("/practices?lang=en")
    html = client.get(f"/practices/{practice_id}").get_data(as_text=True)
    assert "Tổ tự quản Thôn Đông" in html  # the data stays as entered
    for text in ("Location", "Date founded", "Number of participants", "Domains",
                 "Results by period", "Tips reported"):
        assert text in html, text
    for text in ("Địa bàn", "Ngày thành lập", "Số người tham gia", "Kết quả theo kỳ",
                 "Tin báo"):
        assert text not in html, text


def test_login_page_and_its_messages_in_english(client):
    html = client.get("/login?lang=en").get_data(as_text=True)
    for text in ("Sign in", "Email", "Password", "Forgot your password?"):
        assert text in html, text
    for text in ("Đăng nhập", "Mật khẩu", "Thư điện tử", "Quên mật khẩu"):
        assert text not in html, text
    response = client.post("/login", data={"email": "nobody@example.vn", "password": "x" * 12})
    assert response.status_code == 401
    failed = response.get_data(as_text=True)
    assert "Wrong email or password." in failed and "không đúng" not in failed


def test_editing_form_in_english(client, make_user, login):
    login(client, make_user())
    response = client.post("/practices/new?lang=en", data={"action": "draft"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    for text in ("Register a new model", "Name of the model", "Not saved:",
                 "Please enter the name of the model.", "Please choose at least one form."):
        assert text in html, text
    assert "Vui lòng" not in html and "Tên mô hình" not in html


def test_language_link_keeps_the_search(client, make_practice):
    make_practice(domains=["pc-toi-pham"])
    html = client.get("/practices?q=xom&domain=pc-toi-pham&domain=pccc&sort=newest"
                      ).get_data(as_text=True)
    link = urlsplit(english_link(html))
    assert link.path == "/practices"
    assert parse_qs(link.query) == {"q": ["xom"], "domain": ["pc-toi-pham", "pccc"],
                                    "sort": ["newest"], "lang": ["en"]}
    english = client.get(english_link(html)).get_data(as_text=True)
    back = unescape(re.search(r'<a href="([^"]*)" hreflang="vi"', english).group(1))
    assert parse_qs(urlsplit(back).query) == {"q": ["xom"], "domain": ["pc-toi-pham", "pccc"],
                                              "sort": ["newest"], "lang": ["vi"]}


def test_language_link_without_arguments(client):
    html = client.get("/login").get_data(as_text=True)
    assert english_link(html) == "/login?lang=en"
