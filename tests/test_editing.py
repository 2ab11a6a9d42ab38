"""Editing in the web UI: create, edit and archive models, core members, results, history."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from registry.extensions import db
from registry.models.practices import OutcomeReport, Practice
from registry.models.revisions import Revision

OWN = "00070"  # Phường Hoàn Kiếm, Hà Nội (01)
SAME_PROVINCE = "00073"  # Phường Cửa Nam, Hà Nội
OTHER_PROVINCE = "26506"  # Phường Vũng Tàu, TP Hồ Chí Minh (79)


def valid_form(**overrides) -> dict:
    data = {
        "name": "Tổ tự quản an ninh trật tự phố Hàng Bạc",
        "kind": "tu-phong-tu-quan-tu-bao-ve",
        "summary": "Tổ tự quản của khu phố cổ.",
        "description": "## Tổ chức\n\n- Tổ trưởng\n- 12 tổ viên",
        "commune_code": OWN,
        "hamlet": "Tổ dân phố số 5",
        "setting": "",
        "forms": ["tu-quan", "tu-bao-ve"],
        "domains": [],
        "target_groups": [],
        "lead_organisation": "",
        "founded_on": "15/08/2020",
        "participants": "40",
        "households": "120",
        "action": "draft",
    }
    data.update(overrides)
    return data


def practice_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Practice))


def get_practice(app, practice_id: int) -> dict:
    with app.app_context():
        p = db.session.get(Practice, practice_id)
        return {"name": p.name, "status": p.status, "version": p.version,
                "commune_code": p.commune_code, "participants": p.participants,
                "members": [(m.name, m.role.code if m.role else None, m.phone)
                            for m in p.core_members],
                "outcomes": {o.period: o for o in p.outcomes},
                "forms": [t.code for t in p.forms]}


def version_in(html: str) -> str:
    return re.search(r'name="version"[^>]*value="(\d+)"', html).group(1)


@pytest.fixture
def officer(make_user, login, client):
    uid = make_user("officer", OWN)
    login(client, uid)
    return uid


def test_officer_creates_draft_for_own_commune(app, client, officer):
    page = client.get("/practices/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Lưu nháp" in html and "Gửi xác minh" in html and "Markdown" in html
    # The officer's commune is preset: the only choice offered.
    assert re.search(r'<option selected value="00070">Phường Hoàn Kiếm', html)
    assert 'value="26506"' not in html

    response = client.post("/practices/new", data=valid_form())
    assert response.status_code == 302
    with app.app_context():
        practice = db.session.scalar(select(Practice))
        assert practice.status == "draft"
        assert practice.commune_code == OWN and practice.province_code == "01"
        assert practice.hamlet == "Tổ dân phố số 5"
        assert sorted(t.code for t in practice.forms) == ["tu-bao-ve", "tu-quan"]
        assert practice.founded_on.isoformat() == "2020-08-15"
        assert (practice.participants, practice.households) == (40, 120)
        assert practice.created_by_id == officer
        revision = db.session.scalar(select(Revision))
        assert revision.action == "create" and revision.user_id == officer
        assert response.headers["Location"].endswith(f"/practices/{practice.id}")


def test_submit_sends_for_verification(app, client, officer):
    response = client.post("/practices/new", data=valid_form(action="submit"))
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Practice.status)) == "submitted"


def test_draft_is_resumed_then_submitted(app, client, officer, make_practice):
    pid = make_practice(commune_code=OWN, status="draft")
    html = client.get(f"/practices/{pid}/edit").get_data(as_text=True)
    assert "Gửi xác minh" in html
    data = valid_form(action="submit", version=version_in(html))
    assert client.post(f"/practices/{pid}/edit", data=data).status_code == 302
    assert get_practice(app, pid)["status"] == "submitted"


def test_officer_edits_own_model_and_history_shows_old_and_new(app, client, officer,
                                                                 make_practice):
    pid = make_practice(name="Tổ tự quản cũ", commune_code=OWN, participants=50)
    page = client.get(f"/practices/{pid}/edit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'value="Tổ tự quản cũ"' in html and "Lưu thay đổi" in html
    data = valid_form(name="Tổ tự quản mới", participants="75", action="save",
                      version=version_in(html))
    response = client.post(f"/practices/{pid}/edit", data=data)
    assert response.status_code == 302
    after = get_practice(app, pid)
    assert after["name"] == "Tổ tự quản mới" and after["participants"] == 75
    assert after["status"] == "registered"  # editing a registered model keeps its state

    detail = client.get(f"/practices/{pid}").get_data(as_text=True)
    assert "Lịch sử thay đổi" in detail
    history = detail[detail.index("Lịch sử thay đổi"):]
    assert "Tên mô hình" in history
    assert "Tổ tự quản cũ" in history and "Tổ tự quản mới" in history
    assert "Số người tham gia" in history and ">50<" in history and ">75<" in history
    assert "Người dùng thử" in history  # who


def test_unchanged_save_writes_no_revision(app, client, officer, make_practice):
    pid = make_practice(commune_code=OWN)
    html = client.get(f"/practices/{pid}/edit").get_data(as_text=True)
    form = {k: v for k, v in re.findall(r'name="(\w+)"[^>]*value="([^"]*)"', html)}
    data = valid_form(**{k: form[k] for k in ("name", "version")}, summary="", description="",
                      hamlet="", forms=["tu-quan"], founded_on="2020-01-01",
                      participants="50", households="20", action="save")
    assert client.post(f"/practices/{pid}/edit", data=data).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Revision)) == 0


def test_archive_after_confirmation(app, client, officer, make_practice):
    pid = make_practice(commune_code=OWN)
    confirm = client.get(f"/practices/{pid}/archive")
    assert confirm.status_code == 200 and "Lưu trữ" in confirm.get_data(as_text=True)
    assert get_practice(app, pid)["status"] == "registered"  # GET changes nothing
    assert client.post(f"/practices/{pid}/archive").status_code == 302
    assert get_practice(app, pid)["status"] == "archived"
    with app.app_context():
        revision = db.session.scalar(select(Revision).where(Revision.action == "archive"))
        assert revision.changes == [{"field": "status", "old": "registered",
                                     "new": "archived"}]
    # An archived model is no longer the officer's to edit or archive again.
    assert client.get(f"/practices/{pid}/edit").status_code == 403


@pytest.mark.parametrize("method,path", [
    ("get", "/practices/{id}/edit"), ("post", "/practices/{id}/edit"),
    ("get", "/practices/{id}/archive"), ("post", "/practices/{id}/archive"),
    ("get", "/practices/{id}/members"), ("post", "/practices/{id}/members"),
    ("get", "/practices/{id}/outcomes/new"), ("post", "/practices/{id}/outcomes/new"),
    ("get", "/practices/{id}/evidence/new"), ("post", "/practices/{id}/evidence/new"),
])
@pytest.mark.parametrize("commune", [SAME_PROVINCE, OTHER_PROVINCE])
def test_officer_cannot_touch_another_communes_model(app, client, officer, make_practice,
                                                     method, path, commune):
    public = make_practice(commune_code=commune, name="Mô hình của xã khác")
    draft = make_practice(commune_code=commune, status="draft")
    data = valid_form(commune_code=commune, name="Đổi tên trái phép", version="1",
                      period="2025-H1")
    assert getattr(client, method)(path.format(id=public), data=data).status_code == 403
    assert getattr(client, method)(path.format(id=draft), data=data).status_code == 404
    assert get_practice(app, public)["name"] == "Mô hình của xã khác"
    assert get_practice(app, public)["status"] == "registered"


def test_officer_cannot_register_in_another_commune(app, client, officer):
    response = client.post("/practices/new", data=valid_form(commune_code=OTHER_PROVINCE))
    assert response.status_code == 400
    assert "Giá trị không có trong danh sách." in response.get_data(as_text=True)
    assert practice_count(app) == 0


@pytest.mark.parametrize("role,unit", [("trainer", "national"), ("committee", "01"),
                                       ("reviewer", "01")])
def test_only_officers_and_admins_register(client, make_user, login, role, unit):
    login(client, make_user(role, unit))
    assert client.get("/practices/new").status_code == 403
    assert client.post("/practices/new", data=valid_form()).status_code == 403


def test_anonymous_is_sent_to_sign_in(client, make_practice):
    pid = make_practice(commune_code=OWN)
    for path in ("/practices/new", f"/practices/{pid}/edit", f"/practices/{pid}/members"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_validation_errors_are_shown_next_to_fields_and_nothing_saved(app, client, officer):
    response = client.post("/practices/new", data=valid_form(
        name="", kind="", forms=[], participants="-5", households="nhiều",
        founded_on="31/02/2020", domains=["khong-co-linh-vuc-nay"]))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Chưa lưu được" in html
    expected = {
        "name": "Vui lòng nhập tên mô hình.",
        "kind": "Vui lòng chọn loại mô hình.",
        "forms": "Vui lòng chọn ít nhất một hình thức.",
        "participants": "Số người phải từ 0 trở lên.",
        "households": "Vui lòng nhập một số nguyên.",
        "founded_on": "Ngày không hợp lệ",
        "domains": "Có giá trị không có trong danh sách.",
    }
    for field, message in expected.items():
        assert re.search(rf'id="{field}-error">{re.escape(message)}', html), field
    assert 'value="nhiều"' in html  # what was typed is kept
    assert practice_count(app) == 0


def test_write_path_errors_map_to_fields(app, client, officer):
    """A date in the future passes the form but not validate_record: shown at the field."""
    response = client.post("/practices/new", data=valid_form(founded_on="01/01/2999"))
    assert response.status_code == 400
    assert re.search(r'id="founded_on-error">Ngày ở tương lai', response.get_data(as_text=True))
    assert practice_count(app) == 0


def test_admin_chooses_province_then_commune(app, client, make_user, login):
    login(client, make_user("admin", "national"))
    html = client.get("/practices/new?province=79").get_data(as_text=True)
    assert 'value="26506"' in html and 'value="00070"' not in html
    # Picking another province re-renders the form with its communes, saving nothing.
    picked = client.post("/practices/new", data=valid_form(province_code="01",
                                                           action="province"))
    assert picked.status_code == 200 and 'value="00073"' in picked.get_data(as_text=True)
    assert practice_count(app) == 0
    # A commune outside the chosen province is refused.
    mixed = client.post("/practices/new", data=valid_form(province_code="01",
                                                          commune_code=OTHER_PROVINCE))
    assert mixed.status_code == 400 and practice_count(app) == 0
    response = client.post("/practices/new", data=valid_form(
        province_code="79", commune_code=OTHER_PROVINCE, action="submit"))
    assert response.status_code == 302
    with app.app_context():
        practice = db.session.scalar(select(Practice))
        assert (practice.commune_code, practice.province_code) == (OTHER_PROVINCE, "79")


def test_core_members_added_edited_and_removed(app, client, officer, make_practice):
    pid = make_practice(commune_code=OWN, core_members=[
        {"name": "Nguyễn Văn An", "role": "truong-thon", "phone": "0912345678"}])
    html = client.get(f"/practices/{pid}/members").get_data(as_text=True)
    assert 'value="Nguyễn Văn An"' in html
    assert 'name="members-3-name"' in html  # three blank rows after the existing one
    data = {"version": version_in(html),
            "members-0-name": "Nguyễn Văn An", "members-0-role": "truong-thon",
            "members-0-phone": "0912 345 679",
            "members-1-name": "Trần Thị Bình", "members-1-role": "cong-an-xa",
            "members-1-phone": "+84 24 3825 1234",
            "members-2-name": "", "members-2-role": "", "members-2-phone": "",
            "members-3-name": "", "members-3-role": "", "members-3-phone": ""}
    assert client.post(f"/practices/{pid}/members", data=data).status_code == 302
    assert get_practice(app, pid)["members"] == [
        ("Nguyễn Văn An", "truong-thon", "0912 345 679"),
        ("Trần Thị Bình", "cong-an-xa", "+84 24 3825 1234")]

    html = client.get(f"/practices/{pid}/members").get_data(as_text=True)
    data = {"version": version_in(html),
            "members-0-name": "Nguyễn Văn An", "members-0-role": "truong-thon",
            "members-0-phone": "0912 345 679", "members-0-remove": "y",
            "members-1-name": "Trần Thị Bình", "members-1-role": "cong-an-xa",
            "members-1-phone": "+84 24 3825 1234"}
    assert client.post(f"/practices/{pid}/members", data=data).status_code == 302
    assert [m[0] for m in get_practice(app, pid)["members"]] == ["Trần Thị Bình"]


@pytest.mark.parametrize("phone", ["12345", "0123 456 789", "091234567890", "số máy bàn"])
def test_bad_phone_is_refused_with_nothing_saved(app, client, officer, make_practice, phone):
    pid = make_practice(commune_code=OWN)
    html = client.get(f"/practices/{pid}/members").get_data(as_text=True)
    data = {"version": version_in(html), "members-0-name": "Lê Văn Cường",
            "members-0-role": "thanh-vien", "members-0-phone": phone,
            "members-1-name": "Phạm Thị Dung", "members-1-role": "thanh-vien",
            "members-1-phone": "0987654321"}
    response = client.post(f"/practices/{pid}/members", data=data)
    assert response.status_code == 400
    assert re.search(r'id="members-0-phone-error">Số điện thoại không đúng định dạng Việt Nam',
                     response.get_data(as_text=True))
    assert get_practice(app, pid)["members"] == []


def test_member_role_must_come_from_vocabulary(app, client, officer, make_practice):
    pid = make_practice(commune_code=OWN)
    version = version_in(client.get(f"/practices/{pid}/members").get_data(as_text=True))
    response = client.post(f"/practices/{pid}/members", data={
        "version": version, "members-0-name": "Lê Văn Cường", "members-0-role": "tong-thong",
        "members-0-phone": ""})
    assert response.status_code == 400 and get_practice(app, pid)["members"] == []


def test_results_report_added_then_edited(app, client, officer, make_practice):
    pid = make_practice(commune_code=OWN)
    page = client.get(f"/practices/{pid}/outcomes/new").get_data(as_text=True)
    assert "Tin báo, tố giác của nhân dân" in page and "Vụ tai nạn giao thông" in page
    data = {"period": "2025-h1", "tips_reported": "12", "valuable_tips": "4",
            "traffic_accidents": "0", "narrative": "Giữ vững an ninh trên địa bàn."}
    assert client.post(f"/practices/{pid}/outcomes/new", data=data).status_code == 302
    report = get_practice(app, pid)["outcomes"]["2025-H1"]
    assert (report.tips_reported, report.valuable_tips, report.traffic_accidents,
            report.wanted_caught) == (12, 4, 0, None)
    assert report.narrative == "Giữ vững an ninh trên địa bàn."

    duplicate = client.post(f"/practices/{pid}/outcomes/new", data=data)
    assert duplicate.status_code == 400
    assert "Kỳ 2025-H1 đã có báo cáo kết quả" in duplicate.get_data(as_text=True)

    edit = client.get(f"/practices/{pid}/outcomes/2025-H1/edit").get_data(as_text=True)
    assert 'value="12"' in edit
    response = client.post(f"/practices/{pid}/outcomes/2025-H1/edit", data={
        "version": version_in(edit), "tips_reported": "15", "valuable_tips": "4",
        "narrative": "Đã bổ sung số liệu."})
    assert response.status_code == 302
    report = get_practice(app, pid)["outcomes"]["2025-H1"]
    assert (report.tips_reported, report.traffic_accidents) == (15, None)
    with app.app_context():
        actions = db.session.scalars(select(Revision.action).order_by(Revision.id)).all()
        assert actions == ["add_outcome", "update"]
    assert client.get(f"/practices/{pid}/outcomes/2030/edit").status_code == 404


@pytest.mark.parametrize("period,indicator,message", [
    ("2025-H3", "1", "Kỳ báo cáo phải có dạng"),
    ("", "1", "Vui lòng nhập kỳ báo cáo."),
    ("2025", "-2", "Vui lòng nhập số từ 0 trở lên."),
    ("2025", "mười", "Vui lòng nhập một số nguyên."),
])
def test_bad_results_report_is_refused(app, client, officer, make_practice, period,
                                       indicator, message):
    pid = make_practice(commune_code=OWN)
    response = client.post(f"/practices/{pid}/outcomes/new",
                           data={"period": period, "surrenders": indicator})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutcomeReport)) == 0


def test_detail_page_links_follow_permissions(app, client, make_user, login, make_practice):
    pid = make_practice(commune_code=OWN)
    links = ("Sửa</a>", "Thêm kết quả", "Tải tài liệu", "Lưu trữ</a>")
    anonymous = client.get(f"/practices/{pid}").get_data(as_text=True)
    assert not any(link in anonymous for link in links)
    assert "Lịch sử thay đổi" not in anonymous
    login(client, make_user("trainer", "national"))
    trainer = client.get(f"/practices/{pid}").get_data(as_text=True)
    assert not any(link in trainer for link in links) and "Lịch sử thay đổi" not in trainer
    client.post("/logout")
    other = app.test_client()
    login(other, make_user("officer", OWN))
    own = other.get(f"/practices/{pid}").get_data(as_text=True)
    assert all(link in own for link in links) and "Lịch sử thay đổi" in own
    # The "register a model" link in the header follows the same rule.
    assert 'href="/practices/new"' in own
    assert 'href="/practices/new"' not in trainer and 'href="/practices/new"' not in anonymous


def test_history_hidden_from_trainers_because_it_holds_personal_data(
        app, client, make_user, login, make_practice):
    pid = make_practice(commune_code=OWN)
    officer_client = app.test_client()
    login(officer_client, make_user("officer", OWN))
    html = officer_client.get(f"/practices/{pid}/members").get_data(as_text=True)
    officer_client.post(f"/practices/{pid}/members", data={
        "version": version_in(html), "members-0-name": "Hoàng Văn Em",
        "members-0-role": "thanh-vien", "members-0-phone": "0901234567"})
    assert "0901234567" in officer_client.get(f"/practices/{pid}").get_data(as_text=True)
    login(client, make_user("trainer", "national"))
    assert "0901234567" not in client.get(f"/practices/{pid}").get_data(as_text=True)


def test_forms_carry_csrf_tokens(app, client, officer, make_practice, monkeypatch):
    pid = make_practice(name="Tên ban đầu", commune_code=OWN)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    html = client.get(f"/practices/{pid}/edit").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)[1]
    data = valid_form(name="Tên mới", action="save", version=version_in(html))
    assert client.post(f"/practices/{pid}/edit", data=data).status_code == 400
    assert get_practice(app, pid)["name"] == "Tên ban đầu"
    assert client.post(f"/practices/{pid}/edit",
                       data=data | {"csrf_token": token}).status_code == 302
    assert get_practice(app, pid)["name"] == "Tên mới"
    for path in ("members", "outcomes/new", "evidence/new", "archive"):
        assert 'name="csrf_token"' in client.get(f"/practices/{pid}/{path}").get_data(
            as_text=True), path
