"""Rough edges a phone user met: compression, cached static files, favicon, landmarks, file types."""
from __future__ import annotations

import gzip
import re

import pytest

from registry.services.uploads import ALLOWED_TYPES

OWN = "00070"


@pytest.fixture
def officer(make_user, login, client):
    uid = make_user("officer", OWN)
    login(client, uid)
    return uid


def test_pages_are_compressed_for_clients_that_accept_it(client, make_practice):
    for i in range(5):
        make_practice(name=f"Tổ tự quản số {i}", summary="Tóm tắt " * 40)
    plain = client.get("/practices")
    packed = client.get("/practices", headers={"Accept-Encoding": "gzip"})
    assert plain.status_code == packed.status_code == 200
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert len(packed.data) < len(plain.data) / 3
    assert gzip.decompress(packed.data) == plain.data


def test_api_json_keeps_its_etag_uncompressed(client, make_practice):
    pid = make_practice()
    response = client.get(f"/api/v1/practices/{pid}", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    assert ":gzip" not in response.headers.get("ETag", "")


def test_static_files_are_versioned_and_cached_long(client):
    html = client.get("/practices").get_data(as_text=True)
    url = re.search(r'href="(/static/app\.css\?v=[0-9a-f]{12})"', html).group(1)
    versioned = client.get(url)
    assert versioned.status_code == 200
    assert versioned.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    stale = client.get("/static/app.css?v=000000000000")
    assert "immutable" not in stale.headers.get("Cache-Control", "")


def test_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    icon = client.get(response.headers["Location"])
    assert icon.status_code == 200
    assert icon.mimetype == "image/svg+xml"
    assert b'rel="icon"' in client.get("/practices").data


def test_demo_banner_sits_in_a_landmark(client, make_practice):
    make_practice(is_demo=True)
    html = client.get("/practices").get_data(as_text=True)
    assert re.search(r'<aside class="demo-banner" aria-label="[^"]+">Dữ liệu trình diễn', html)


def test_results_table_is_a_focusable_region(client, make_practice):
    pid = make_practice(outcomes=[{"period": "2024", "tips_reported": 12}])
    html = client.get(f"/practices/{pid}").get_data(as_text=True)
    assert re.search(r'<div class="table-wrap" role="region" tabindex="0" '
                     r'aria-label="Kết quả theo kỳ"><table>', html)


def test_evidence_picker_offers_only_accepted_types(client, officer, make_practice):
    pid = make_practice(commune_code=OWN)
    html = client.get(f"/practices/{pid}/evidence/new").get_data(as_text=True)
    accept = re.search(r'<input[^>]*type="file"[^>]*>', html).group(0)
    offered = re.search(r'accept="([^"]+)"', accept).group(1).split(",")
    assert set(ALLOWED_TYPES) <= set(offered)
    assert ".pdf" in offered and ".docx" in offered and ".exe" not in offered


def test_submitting_says_it_was_sent_for_verification(client, officer):
    from tests.test_editing import valid_form
    sent = client.post("/practices/new", data=valid_form(action="submit"), follow_redirects=True)
    assert "Đã gửi mô hình để xác minh." in sent.get_data(as_text=True)
    drafted = client.post("/practices/new", data=valid_form(action="draft",
                                                            name="Tổ tự quản khác"),
                          follow_redirects=True)
    text = drafted.get_data(as_text=True)
    assert "Đã tạo mô hình." in text and "Đã gửi mô hình để xác minh." not in text
