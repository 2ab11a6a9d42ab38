"""Read-only catalogue pages, Markdown sanitising, and the health probe."""
import pytest

from registry.markdown import render_markdown


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json["status"] == "ok"


def test_list_shows_registered_models_not_drafts(client, make_practice):
    make_practice(name="Xóm đạo bình yên Giáo xứ Phú Nhai")
    make_practice(name="Bản nháp chưa gửi", status="draft")
    page = client.get("/practices").get_data(as_text=True)
    assert "Xóm đạo bình yên Giáo xứ Phú Nhai" in page
    assert "Bản nháp chưa gửi" not in page
    assert "1 mô hình" in page


def test_list_is_paginated_in_vietnamese_order(client, make_practice, app):
    for i in range(25):
        make_practice(name=f"Mô hình {i:02d}")
    make_practice(name="Đội dân phòng")
    make_practice(name="Dòng họ tự quản")
    first = client.get("/practices").get_data(as_text=True)
    second = client.get("/practices?page=2").get_data(as_text=True)
    assert "Trang 1 / 2" in first and "Trang 2 / 2" in second
    assert first.index("Dòng họ tự quản") < first.index("Đội dân phòng")
    assert "Mô hình 24" in second


def test_detail_page_renders_and_hides_core_members(client, make_practice):
    pid = make_practice(
        name="Tổ hòa giải Thôn Đông", description="### Tổ chức\n\n**Ban điều hành** gồm 5 người.",
        core_members=[{"name": "Nguyễn Văn Hùng", "phone": "0912345678", "role": "truong-thon"}],
        outcomes=[{"period": "2024-H1", "tips_reported": 7, "narrative": "Tình hình ổn định"}])
    page = client.get(f"/practices/{pid}").get_data(as_text=True)
    assert "Tổ hòa giải Thôn Đông" in page
    assert "<strong>Ban điều hành</strong>" in page
    assert "Tình hình ổn định" in page
    assert "Nguyễn Văn Hùng" not in page and "0912345678" not in page


def test_draft_detail_is_not_public(client, make_practice):
    pid = make_practice(status="draft")
    assert client.get(f"/practices/{pid}").status_code == 404


def test_demo_banner_only_with_demo_data(client, make_practice):
    make_practice()
    assert "Dữ liệu trình diễn" not in client.get("/practices").get_data(as_text=True)
    make_practice(is_demo=True)
    assert "Dữ liệu trình diễn" in client.get("/practices").get_data(as_text=True)


@pytest.mark.parametrize("source, forbidden", [
    ("<script>alert(1)</script>", "<script"),
    ('<img src=x onerror="alert(1)">', "onerror"),
    ("[bấm](javascript:alert(1))", "javascript:"),
    ('<a href="javascript:alert(1)">x</a>', "javascript:"),
    ('<div onclick="x()">a</div>', "onclick"),
    ("<iframe src='https://example.org'></iframe>", "<iframe"),
])
def test_markdown_is_sanitised(source, forbidden):
    assert forbidden not in str(render_markdown(source)).lower()


def test_markdown_keeps_formatting_and_safe_links():
    html = str(render_markdown("## Hoạt động\n\n- Tuần tra\n- [Quy chế](https://example.org/qc)"))
    assert "<h2>Hoạt động</h2>" in html and "<li>Tuần tra</li>" in html
    assert 'href="https://example.org/qc"' in html
