"""The path of a model through the pages alone: each person sees only the buttons that are
theirs, every step lands on the timeline with its reason, and a replication in another
province shows on the source's page with its results."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from registry.extensions import db

OWN = "00070"          # Phường Hoàn Kiếm, Hà Nội (01)
ELSEWHERE = "26506"    # Phường Vũng Tàu, TP Hồ Chí Minh (79)
SCORES = {"hieu-qua": "4", "hop-long-dan": "5", "xa-hoi-hoa": "3", "long-ghep": "4",
          "ben-vung": "4", "nhan-rong": "5"}


@pytest.fixture
def browsers(app, make_user, login):
    """A signed-in test client per person of the journey."""
    cast = {"officer": ("officer", OWN), "commune_committee": ("committee", OWN),
            "province_committee": ("committee", "01"),
            "national_committee": ("committee", "national"),
            "reviewer_a": ("reviewer", "01"), "reviewer_b": ("reviewer", "01"),
            "national_reviewer_a": ("reviewer", "national"),
            "national_reviewer_b": ("reviewer", "national"),
            "other_officer": ("officer", ELSEWHERE), "other_committee": ("committee", ELSEWHERE),
            "trainer": ("trainer", "national")}
    clients = {}
    for who, (role, unit) in cast.items():
        client = app.test_client()
        login(client, make_user(role, unit, email=f"{who}@example.vn"))
        clients[who] = client
    return clients


def page(client, path) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def version_of(html: str) -> str:
    found = re.search(r'<input[^>]*name="version"[^>]*>', html).group(0)
    return re.search(r'value="(\d+)"', found).group(1)


def act(client, practice_id, action, reason="", status=302):
    form = page(client, f"/practices/{practice_id}/actions/{action}")
    response = client.post(f"/practices/{practice_id}/actions/{action}",
                           data={"version": version_of(form), "reason": reason})
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response


def decide(client, nomination_id, action, reason="Đủ căn cứ.", status=302):
    html = page(client, f"/nominations/{nomination_id}")
    assert f"/nominations/{nomination_id}/actions/{action}" in html
    response = client.post(f"/nominations/{nomination_id}/actions/{action}",
                           data={"version": version_of(html), "reason": reason})
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response


def assign_and_review(browsers, nomination_id, committee, reviewers):
    for reviewer in reviewers:
        assert browsers[committee].post(
            f"/nominations/{nomination_id}/actions/assign_reviewer",
            data={"reviewer": f"{reviewer}@example.vn"}).status_code == 302
        html = page(browsers[reviewer], f"/nominations/{nomination_id}")
        assert "Phiếu thẩm định của bạn" in html
        assert browsers[reviewer].post(
            f"/nominations/{nomination_id}/reviews",
            data={**{f"score-{k}": v for k, v in SCORES.items()},
                  "comment": "Đạt."}).status_code == 302


def new_draft(client, commune=OWN) -> int:
    response = client.post("/practices/new", data={
        "name": "Tổ tự quản an ninh khu phố 3", "kind": "tu-phong-tu-quan-tu-bao-ve",
        "province_code": "01", "commune_code": commune, "action": "draft",
        "summary": "Các hộ cùng tuần tra, hòa giải.", "forms": ["tu-quan"],
        "domains": ["pc-toi-pham"]})
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])


def test_from_draft_to_national_example_through_the_pages(app, browsers):
    officer = browsers["officer"]
    pid = new_draft(officer)
    detail = page(officer, f"/practices/{pid}")
    assert f"/practices/{pid}/actions/submit" in detail
    act(officer, pid, "submit")
    # The commune committee sees it waiting, with verify and return; the officer does not.
    committee = browsers["commune_committee"]
    assert f"/practices/{pid}" in page(committee, "/inbox")
    assert f"/practices/{pid}/actions/verify" in page(committee, f"/practices/{pid}")
    assert f"/practices/{pid}/actions/verify" not in page(officer, f"/practices/{pid}")
    assert officer.get(f"/practices/{pid}/actions/verify").status_code == 403
    # A return without a reason is refused on the form; with one it goes back.
    act(committee, pid, "return", "", status=400)
    act(committee, pid, "return", "Cần bổ sung quy chế.")
    assert "Cần bổ sung quy chế." in page(officer, f"/practices/{pid}")
    assert f"/practices/{pid}" in page(officer, "/inbox")
    act(officer, pid, "submit", "Đã bổ sung.")
    act(committee, pid, "verify")
    # A results report, then the nomination at province level.
    assert officer.post(f"/practices/{pid}/outcomes/new", data={
        "version": version_of(page(officer, f"/practices/{pid}/outcomes/new")),
        "period": "2024-H2", "tips_reported": "9"}).status_code == 302
    form = page(officer, f"/practices/{pid}/nominate")
    assert 'value="province"' in form
    response = officer.post(f"/practices/{pid}/nominate", data={
        "level": "province", "reason": "Hiệu quả rõ rệt.", "periods": ["2024-H2"]})
    assert response.status_code == 302
    nid = int(response.headers["Location"].rsplit("/", 1)[-1])
    assert "Đề cử điển hình" in page(browsers["trainer"], f"/practices/{pid}")  # the state
    assert browsers["trainer"].get(f"/nominations/{nid}").status_code == 404
    # The province committee assigns two reviewers; each scores; blindness on the page.
    assert f"/nominations/{nid}" in page(browsers["province_committee"], "/inbox")
    assign_and_review(browsers, nid, "province_committee", ["reviewer_a"])
    assert browsers["province_committee"].post(
        f"/nominations/{nid}/actions/assign_reviewer",
        data={"reviewer": "reviewer_b@example.vn"}).status_code == 302
    blind = page(browsers["reviewer_b"], f"/nominations/{nid}")
    assert "Bạn chỉ thấy phiếu của người khác" in blind and "reviewer_a" not in blind
    assert browsers["reviewer_b"].post(f"/nominations/{nid}/reviews", data={
        **{f"score-{k}": v for k, v in SCORES.items()}, "score-hieu-qua": "3"}
    ).status_code == 302
    decide(browsers["province_committee"], nid, "request_changes", "Thêm số liệu 2024.")
    decide(officer, nid, "resubmit", "Đã thêm số liệu.")
    assign_and_review(browsers, nid, "province_committee", ["reviewer_a", "reviewer_b"])
    decide(browsers["province_committee"], nid, "approve", "Đạt các tiêu chí cấp tỉnh.")
    decide(browsers["province_committee"], nid, "escalate", "Đề nghị cấp trung ương.")
    with app.app_context():
        from registry.models.workflow import Nomination
        national = db.session.scalar(select(Nomination.id).where(
            Nomination.practice_id == pid, Nomination.level == "national"))
    assert f"/nominations/{national}" in page(browsers["national_committee"], "/inbox")
    assign_and_review(browsers, national, "national_committee",
                      ["national_reviewer_a", "national_reviewer_b"])
    decide(browsers["national_committee"], national, "approve", "Điển hình toàn quốc.")
    public = page(app.test_client(), f"/practices/{pid}")
    assert "Cấp trung ương" in public
    # Replication in another province, with its own results, verified there.
    other = browsers["other_officer"]
    assert f"/practices/{pid}/replicate" in page(other, f"/practices/{pid}")
    response = other.post(f"/practices/{pid}/replicate",
                          data={"commune_code": ELSEWHERE, "copy": ["summary", "forms",
                                                                    "domains"]})
    assert response.status_code == 302
    copy_id = int(response.headers["Location"].rsplit("/", 1)[-1])
    assert other.post(f"/practices/{copy_id}/outcomes/new", data={
        "version": version_of(page(other, f"/practices/{copy_id}/outcomes/new")),
        "period": "2025-H1", "tips_reported": "6"}).status_code == 302
    act(other, copy_id, "submit")
    act(browsers["other_committee"], copy_id, "verify")
    source = page(app.test_client(), f"/practices/{pid}")
    assert f"/practices/{copy_id}" in source and "2025-H1" in source
    # Every step is on the timeline with its reason.
    timeline = page(officer, f"/practices/{pid}")
    for reason in ("Cần bổ sung quy chế.", "Hiệu quả rõ rệt.", "Thêm số liệu 2024.",
                   "Đạt các tiêu chí cấp tỉnh.", "Đề nghị cấp trung ương.",
                   "Điển hình toàn quốc."):
        assert reason in timeline, reason


def test_buttons_are_only_those_of_the_person(app, browsers, make_practice):
    pid = make_practice(status="submitted", commune_code=OWN)
    for who, expected in (("commune_committee", True), ("province_committee", True),
                          ("other_committee", False), ("trainer", False), ("officer", False)):
        response = browsers[who].get(f"/practices/{pid}")
        if who in ("other_committee", "trainer"):
            assert response.status_code == 404
            continue
        shown = f"/practices/{pid}/actions/verify" in response.get_data(as_text=True)
        assert shown is expected, who


def test_possibly_inactive_is_shown(app, browsers, make_practice):
    pid = make_practice(status="registered", outcomes=[{"period": "2020-H1"}])
    html = page(app.test_client(), f"/practices/{pid}")
    assert "Có thể ngừng hoạt động" in html
    fresh = make_practice(status="registered")
    assert "Có thể ngừng hoạt động" not in page(app.test_client(), f"/practices/{fresh}")
    assert f"/practices/{pid}" in page(browsers["officer"], "/inbox")
    client = app.test_client()
    assert client.get(f"/api/v1/practices/{pid}").get_json()["possibly_inactive"] is True
    assert client.get(f"/api/v1/practices/{fresh}").get_json()["possibly_inactive"] is False
    found = client.get("/api/v1/practices?activity=possibly_inactive").get_json()
    assert [hit["id"] for hit in found["hits"]] == [pid]
    counts = {v["value"]: v["count"] for v in found["facets"]["activity"]}
    assert counts == {"active": 1, "possibly_inactive": 1}
