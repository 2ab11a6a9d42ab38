"""The per-model JSON API: create, read, update, archive, results reports, errors, rights."""
from __future__ import annotations

import copy
import json

import pytest
from sqlalchemy import func, select

from registry.extensions import db

OWN = "00070"            # Phường Hoàn Kiếm, Hà Nội (01)
SAME_PROVINCE = "00073"  # Phường Cửa Nam, Hà Nội (01)
OTHER_PROVINCE = "01273"  # a commune of province 04
PHONE = "0912 345 678"

VALID = {
    "external_id": "HN-API-0001",
    "name": "Xóm đạo bình yên tổ dân phố số 5",
    "kind": "xom-dao-binh-yen",
    "summary": "Giáo xứ và tổ dân phố cùng giữ gìn an ninh, trật tự.",
    "description": "## Cách tổ chức\n\nHọp hằng tháng tại nhà thờ.",
    "commune_code": OWN,
    "hamlet": "Tổ dân phố số 5",
    "setting": "khu dân cư đô thị",  # a label, matched without regard to case or marks
    "forms": ["tu-quan", "tự bảo vệ"],
    "domains": ["pc-toi-pham"],
    "target_groups": ["ho-gia-dinh"],
    "lead_organisation": "cong-an-xa",
    "founded_on": "2019-05-01",
    "participants": 120,
    "households": 45,
    "core_members": [{"name": "Nguyễn Văn An", "role": "truong-thon", "phone": PHONE}],
    "outcomes": [{"period": "2024-H1", "tips_reported": 12, "valuable_tips": 3,
                  "narrative": "Hòa giải thành 4 vụ."}],
}


@pytest.fixture
def token_for(app, make_user):
    """token_for(role="officer", unit=OWN) -> a fresh bearer token of a new user."""
    from registry.accounts.tokens import create_token
    from registry.models.accounts import User

    def make(role: str = "officer", unit: str = OWN) -> str:
        user_id = make_user(role, unit)
        with app.app_context():
            _, plain = create_token(db.session.get(User, user_id), "thử API")
            db.session.commit()
            return plain

    return make


def auth(token: str, **headers) -> dict:
    return {"Authorization": f"Bearer {token}", **headers}


def post(client, token, body, path="/api/v1/practices"):
    return client.post(path, json=body, headers=auth(token) if token else {})


def count_practices(app) -> int:
    from registry.models.practices import Practice
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Practice))


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["message"]
    if code:
        assert error["code"] == code
    return error


# -- the happy path ----------------------------------------------------------------------------

def test_create_read_update_outcome_archive(client, token_for):
    token = token_for()
    created = post(client, token, dict(VALID, status="approved", recognition_level="national"))
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    practice_id = body["id"]
    assert created.headers["Location"].endswith(f"/api/v1/practices/{practice_id}")
    assert created.headers["ETag"] == f'"{body["version"]}"'
    assert body["status"] == "submitted"  # the workflow's keys are not the client's to set
    assert body["recognition_level"] == "none"
    assert body["setting"] == "do-thi" and body["forms"] == ["tu-quan", "tu-bao-ve"]
    assert body["core_members"][0]["phone"] == PHONE  # the officer's own commune

    read = client.get(f"/api/v1/practices/{practice_id}", headers=auth(token))
    assert read.status_code == 200
    assert read.get_json() == body
    assert read.headers["ETag"] == created.headers["ETag"]
    assert client.get(f"/api/v1/practices/{practice_id}",
                      headers=auth(token, **{"If-None-Match": read.headers["ETag"]})
                      ).status_code == 304

    changed = dict(body, summary="Tóm tắt mới.", participants=150)
    updated = client.put(f"/api/v1/practices/{practice_id}", json=changed,
                         headers=auth(token, **{"If-Match": read.headers["ETag"]}))
    assert updated.status_code == 200, updated.get_data(as_text=True)
    assert updated.get_json()["summary"] == "Tóm tắt mới."
    assert updated.get_json()["participants"] == 150
    assert updated.get_json()["version"] == body["version"] + 1
    assert updated.headers["ETag"] == f'"{body["version"] + 1}"'

    report = {"period": "2024-H2", "tips_reported": 7, "wanted_caught": 1,
              "narrative": "Sơ kết 6 tháng cuối năm."}
    added = post(client, token, report, f"/api/v1/practices/{practice_id}/outcomes")
    assert added.status_code == 201, added.get_data(as_text=True)
    assert added.get_json()["period"] == "2024-H2"
    assert added.get_json()["tips_reported"] == 7
    periods = [o["period"] for o in client.get(f"/api/v1/practices/{practice_id}",
                                               headers=auth(token)).get_json()["outcomes"]]
    assert periods == ["2024-H1", "2024-H2"]

    archived = client.delete(f"/api/v1/practices/{practice_id}", headers=auth(token))
    assert archived.status_code == 204
    assert client.get(f"/api/v1/practices/{practice_id}",
                      headers=auth(token)).get_json()["status"] == "archived"
    assert_error(client.delete(f"/api/v1/practices/{practice_id}", headers=auth(token)),
                 409, "already_archived")


def test_put_clears_left_out_fields_but_keeps_members_and_results(client, token_for):
    token = token_for()
    body = post(client, token, VALID).get_json()
    minimal = {"name": body["name"], "kind": body["kind"], "commune_code": OWN,
               "version": body["version"]}
    replaced = client.put(f"/api/v1/practices/{body['id']}", json=minimal, headers=auth(token))
    assert replaced.status_code == 200, replaced.get_data(as_text=True)
    record = replaced.get_json()
    assert record["summary"] == "" and record["domains"] == [] and record["setting"] is None
    assert record["founded_on"] is None
    assert record["external_id"] == VALID["external_id"]
    assert record["core_members"] == body["core_members"]
    assert record["outcomes"] == body["outcomes"]


def test_patch_changes_only_what_is_sent(client, token_for):
    token = token_for()
    body = post(client, token, VALID).get_json()
    patched = client.patch(f"/api/v1/practices/{body['id']}",
                           json={"summary": "Chỉ sửa tóm tắt."},
                           headers=auth(token, **{"If-Match": f'"{body["version"]}"'}))
    assert patched.status_code == 200, patched.get_data(as_text=True)
    after = patched.get_json()
    assert after["summary"] == "Chỉ sửa tóm tắt."
    assert {k: v for k, v in after.items() if k not in ("summary", "version")} == \
        {k: v for k, v in body.items() if k not in ("summary", "version")}
    moved = client.patch(f"/api/v1/practices/{body['id']}", json={"commune_code": "00004"},
                         headers=auth(token, **{"If-Match": patched.headers["ETag"]}))
    assert_error(moved, 403)  # the officer may not move the model out of their commune


def test_exported_line_posts_as_is(app, client, runner, make_practice, token_for, tmp_path):
    """export → a fresh database → POST the line → the same record comes back."""
    from tests.conftest import reset_database
    make_practice(name="Dòng tộc không có tội phạm và tệ nạn xã hội", external_id="EXP-1",
                  kind="dong-toc-khong-toi-pham", domains=["pc-toi-pham", "pc-ma-tuy"],
                  target_groups=["dong-ho"], setting="nong-thon", lead_organisation="mttq",
                  hamlet="Thôn Đông", summary="Tóm tắt có dấu: hòa giải, ủy ban.",
                  core_members=[{"name": "Trần Thị Bình", "role": "nguoi-co-uy-tin",
                                 "phone": "0987 000 111"}],
                  outcomes=[{"period": "2023", "tips_reported": 5, "surrenders": 1,
                             "narrative": "Tổng kết năm."}])
    path = tmp_path / "export.jsonl"
    result = runner.invoke(args=["export", "--format", "jsonl", str(path)])
    assert result.exit_code == 0, result.output
    line = path.read_text(encoding="utf-8").splitlines()[0]
    exported = json.loads(line)
    reset_database(app)
    assert count_practices(app) == 0

    token = token_for("officer", exported["commune_code"])
    created = client.post("/api/v1/practices", data=line.encode("utf-8"),
                          headers=auth(token, **{"Content-Type": "application/json"}))
    assert created.status_code == 201, created.get_data(as_text=True)
    got = created.get_json()
    from registry.api.practices import ENVELOPE_KEYS
    workflow = ("status", "recognition_level", "recognised_on")
    assert {k: v for k, v in got.items() if k not in ENVELOPE_KEYS + workflow} == \
        {k: v for k, v in exported.items() if k not in workflow}


# -- precise errors ------------------------------------------------------------------------------

def _with(**changes):
    body = copy.deepcopy(VALID)
    for key, value in changes.items():
        if value is ...:
            body.pop(key)
        else:
            body[key] = value
    return body


@pytest.mark.parametrize("body, field", [
    (_with(domains=["pc-toi-pham", "khong-co-linh-vuc-nay"]), "domains"),
    (_with(setting="sân bay"), "setting"),
    (_with(founded_on="2020-13-45"), "founded_on"),
    (_with(founded_on="31/02/2020"), "founded_on"),
    (_with(commune_code="99999"), "commune_code"),
    (_with(province_code="79"), "province_code"),
    (_with(name="Mô hình " * 60), "name"),
    (_with(name=""), "name"),
    (_with(kind=...), "kind"),
    (_with(colour="đỏ"), "colour"),
    (_with(participants="nhiều"), "participants"),
    (_with(households=-3), "households"),
    (_with(name=["không", "phải chuỗi"]), "name"),
    (_with(core_members="Nguyễn Văn An"), "core_members"),
    (_with(core_members=[{"name": "An", "phone": "gọi tôi"}]), "core_members[1].phone"),
    (_with(outcomes=[{"period": "2024-Q3"}]), "outcomes[1].period"),
])
def test_bad_payload_names_the_field(app, client, token_for, body, field):
    error = assert_error(post(client, token_for(), body), 400, "validation_error")
    assert field in error["fields"], error
    assert error["fields"][field]
    assert count_practices(app) == 0


def test_every_error_is_reported_at_once(client, token_for):
    body = _with(domains=["khong-co"], founded_on="hôm qua", commune_code="99999",
                 colour="đỏ", participants="nhiều")
    error = assert_error(post(client, token_for(), body), 400, "validation_error")
    assert {"domains", "founded_on", "commune_code", "colour", "participants"} <= \
        set(error["fields"])


@pytest.mark.parametrize("data, content_type, status, code", [
    ('{"name": "thiếu ngoặc"'.encode(), "application/json", 400, "invalid_json"),
    (b"[1, 2]", "application/json", 400, "invalid_json"),
    (b"\xff\xfe{}", "application/json", 400, "invalid_json"),
    (b"[" * 100_000 + b"]" * 100_000, "application/json", 400, "invalid_json"),
    (b'{"name": "x"}', "text/plain", 415, "unsupported_media_type"),
    (b"name=x", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
])
def test_malformed_requests(app, client, token_for, data, content_type, status, code):
    response = client.post("/api/v1/practices", data=data,
                           headers=auth(token_for(), **{"Content-Type": content_type}))
    assert_error(response, status, code)
    assert count_practices(app) == 0


def test_too_large_body_is_json_413(app, client, token_for):
    token = token_for()
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 2000
    try:
        response = post(client, token, _with(description="x" * 5000))
    finally:
        app.config["MAX_CONTENT_LENGTH"] = limit
    assert_error(response, 413, "payload_too_large")


def test_unknown_urls_and_methods_answer_json(client):
    assert_error(client.get("/api/v1/khong-co"), 404, "not_found")
    assert_error(client.get("/api/v1/practices/987654"), 404, "not_found")
    wrong = client.post("/api/v1/openapi.json")
    assert_error(wrong, 405, "method_not_allowed")
    assert "GET" in wrong.headers["Allow"]
    assert_error(client.delete("/api/v1/practices"), 405)
    page = client.get("/khong-co-trang-nay")
    assert page.status_code == 404 and page.mimetype == "text/html"


# -- who may ---------------------------------------------------------------------------------------

def test_writes_need_a_valid_token(app, client, token_for, make_practice):
    from registry.accounts.tokens import revoke_token
    from registry.models.accounts import ApiToken
    practice_id = make_practice(commune_code=OWN)
    assert_error(post(client, None, VALID), 401, "unauthorized")
    assert_error(post(client, "rg_khong-phai-ma-that", VALID), 401, "unauthorized")
    token = token_for()
    with app.app_context():
        row = db.session.scalar(select(ApiToken).order_by(ApiToken.id.desc()))
        revoke_token(row.user, row.id)
        db.session.commit()
    response = post(client, token, VALID)
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    for method in ("put", "patch", "delete"):
        assert_error(getattr(client, method)(f"/api/v1/practices/{practice_id}", json=VALID,
                                             headers=auth(token)), 401)
    assert_error(post(client, token, {"period": "2024"},
                      f"/api/v1/practices/{practice_id}/outcomes"), 401)
    assert_error(client.get(f"/api/v1/practices/{practice_id}", headers=auth(token)), 401)
    assert count_practices(app) == 1


def test_other_communes_are_forbidden(app, client, token_for, make_practice):
    from registry.models.vocab import Term
    own, other = token_for("officer", OWN), token_for("officer", SAME_PROVINCE)
    elsewhere = _with(commune_code=OTHER_PROVINCE, external_id="X-2",
                      kind="Mô hình chưa có trong danh mục")
    assert_error(post(client, own, elsewhere), 403, "forbidden")
    with app.app_context():  # the new kind the record would have added was rolled back
        assert db.session.scalar(select(Term).where(
            Term.label_vi == "Mô hình chưa có trong danh mục")) is None
    assert_error(post(client, token_for("trainer", "national"), VALID), 403)
    assert_error(post(client, token_for("committee", "01"), VALID), 403)

    practice_id = make_practice(commune_code=OWN, core_members=[{"name": "Lê Văn Cường",
                                                                  "phone": PHONE}])
    version = client.get(f"/api/v1/practices/{practice_id}").get_json()["version"]
    forbidden = client.put(f"/api/v1/practices/{practice_id}", json=dict(VALID, version=version),
                           headers=auth(other))
    error = assert_error(forbidden, 403)
    assert PHONE not in forbidden.get_data(as_text=True)
    assert_error(client.delete(f"/api/v1/practices/{practice_id}", headers=auth(other)), 403)
    assert_error(post(client, other, {"period": "2024"},
                      f"/api/v1/practices/{practice_id}/outcomes"), 403)
    assert error["code"] == "forbidden"
    assert count_practices(app) == 1


@pytest.mark.parametrize("role, unit, commune, status", [
    ("officer", OWN, OWN, 201),
    ("officer", OWN, SAME_PROVINCE, 403),
    ("officer", OWN, OTHER_PROVINCE, 403),
    ("committee", OWN, OWN, 403),
    ("committee", "01", OWN, 403),
    ("reviewer", "national", OWN, 403),
    ("trainer", "national", OWN, 403),
    ("admin", "national", OTHER_PROVINCE, 201),
])
def test_who_may_register_where(app, client, token_for, role, unit, commune, status):
    response = post(client, token_for(role, unit), _with(commune_code=commune))
    assert response.status_code == status, response.get_data(as_text=True)
    assert count_practices(app) == (1 if status == 201 else 0)


def test_personal_data_only_for_those_entitled(client, token_for, make_practice):
    practice_id = make_practice(commune_code=OWN, core_members=[
        {"name": "Phạm Thị Dung", "role": "bi-thu-chi-bo", "phone": PHONE}])
    url = f"/api/v1/practices/{practice_id}"
    for headers in ({}, auth(token_for("trainer", "national")),
                    auth(token_for("officer", SAME_PROVINCE)),
                    auth(token_for("reviewer", "01"))):
        response = client.get(url, headers=headers)
        assert response.status_code == 200
        assert "core_members" not in response.get_json()
        assert PHONE not in response.get_data(as_text=True)
        assert "Phạm Thị Dung" not in response.get_data(as_text=True)
    for token in (token_for("officer", OWN), token_for("committee", "01")):
        members = client.get(url, headers=auth(token)).get_json()["core_members"]
        assert members == [{"name": "Phạm Thị Dung", "role": "bi-thu-chi-bo", "phone": PHONE}]


def test_drafts_are_hidden_from_others(client, token_for, make_practice):
    practice_id = make_practice(commune_code=OWN, status="draft")
    url = f"/api/v1/practices/{practice_id}"
    assert_error(client.get(url), 404)
    assert_error(client.get(url, headers=auth(token_for("trainer", "national"))), 404)
    assert_error(client.get(url, headers=auth(token_for("officer", SAME_PROVINCE))), 404)
    assert client.get(url, headers=auth(token_for("officer", OWN))).status_code == 200


# -- concurrent edits ------------------------------------------------------------------------------

def test_second_update_from_the_same_version_is_refused(client, token_for):
    first, second = token_for(), token_for()
    body = post(client, first, VALID).get_json()
    url = f"/api/v1/practices/{body['id']}"
    etag = client.get(url, headers=auth(second)).headers["ETag"]

    ok = client.put(url, json=dict(body, name="Tên do người thứ nhất sửa"),
                    headers=auth(first, **{"If-Match": etag}))
    assert ok.status_code == 200
    late = client.put(url, json=dict(body, name="Tên do người thứ hai sửa"),
                      headers=auth(second, **{"If-Match": etag}))
    assert_error(late, 412, "precondition_failed")
    assert late.headers["ETag"] == ok.headers["ETag"]

    stale_body = client.put(url, json=dict(body, name="Tên cũ"), headers=auth(second))
    error = assert_error(stale_body, 409, "version_conflict")
    assert "version" in error["fields"]

    assert_error(client.patch(url, json={"summary": "không có phiên bản"},
                              headers=auth(second)), 428, "precondition_required")
    no_version = {k: v for k, v in body.items() if k != "version"}
    assert_error(client.put(url, json=no_version, headers=auth(second)), 428)
    assert_error(client.put(url, json=dict(body, version="3"), headers=auth(second)), 400)
    assert client.get(url, headers=auth(first)).get_json()["name"] == \
        "Tên do người thứ nhất sửa"


def test_writer_committing_after_our_check_wins_and_we_get_412(app, client, token_for):
    """Another transaction commits between the version check and our UPDATE: the versioned
    UPDATE matches no row, the request answers 412 and keeps nothing of its own."""
    from sqlalchemy import event, update

    from registry.models.practices import Practice
    token = token_for()
    body = post(client, token, VALID).get_json()
    fired = []

    def concurrent_writer(mapper, connection, target):
        if fired:
            return
        fired.append(target.id)
        with db.engine.connect() as other:
            other.execute(update(Practice.__table__).where(Practice.__table__.c.id == target.id)
                          .values(version=body["version"] + 1, summary="Người khác đã sửa."))
            other.commit()

    event.listen(Practice, "before_update", concurrent_writer)
    try:
        late = client.put(f"/api/v1/practices/{body['id']}",
                          json=dict(body, summary="Bản sửa của tôi."),
                          headers=auth(token, **{"If-Match": f'"{body["version"]}"'}))
    finally:
        event.remove(Practice, "before_update", concurrent_writer)
    assert fired == [body["id"]]
    assert_error(late, 412, "precondition_failed")
    now = client.get(f"/api/v1/practices/{body['id']}", headers=auth(token)).get_json()
    assert now["summary"] == "Người khác đã sửa." and now["version"] == body["version"] + 1


def test_archive_with_stale_if_match_is_refused(client, token_for):
    token = token_for()
    body = post(client, token, VALID).get_json()
    url = f"/api/v1/practices/{body['id']}"
    client.patch(url, json={"summary": "đổi"}, headers=auth(token, **{"If-Match": '"1"'}))
    assert_error(client.delete(url, headers=auth(token, **{"If-Match": '"1"'})), 412)
    assert client.get(url, headers=auth(token)).get_json()["status"] == "submitted"


def test_duplicate_external_id_is_a_conflict(app, client, token_for, make_practice):
    make_practice(commune_code=SAME_PROVINCE, external_id=VALID["external_id"],
                  name="Mô hình của xã khác")
    assert_error(post(client, token_for(), VALID), 409, "duplicate_external_id")
    with app.app_context():
        from registry.models.practices import Practice
        names = db.session.scalars(select(Practice.name)).all()
    assert names == ["Mô hình của xã khác"]  # never an update of someone else's model


# -- results reports -----------------------------------------------------------------------------

def test_outcome_errors(app, client, token_for):
    token = token_for()
    body = post(client, token, VALID).get_json()
    url = f"/api/v1/practices/{body['id']}/outcomes"
    error = assert_error(post(client, token, {"period": "2024-H3", "tips_reported": "mười",
                                              "bonus": 1}, url), 400, "validation_error")
    assert {"period", "tips_reported", "bonus"} <= set(error["fields"])
    assert_error(post(client, token, {"period": "2024-H1"}, url), 409, "duplicate_period")
    assert_error(post(client, token, {"period": "2025"}, "/api/v1/practices/999999/outcomes"),
                 404)
    outcomes = client.get(f"/api/v1/practices/{body['id']}",
                          headers=auth(token)).get_json()["outcomes"]
    assert [o["period"] for o in outcomes] == ["2024-H1"]


# -- malformed values: always a 400 naming the field, never a 500 (findings F2, F3, F9) ------

HUGE = "9" * 5000  # more digits than Python converts to an int (4,300)


@pytest.mark.parametrize("field, value", [
    ("status", []), ("status", {"code": "approved"}), ("recognition_level", ["national"]),
    ("recognition_level", {}),
])
def test_workflow_key_of_the_wrong_type_is_a_field_error(app, client, token_for, field, value):
    token = token_for()
    error = assert_error(post(client, token, _with(**{field: value})), 400, "validation_error")
    assert field in error["fields"]
    created = post(client, token, VALID).get_json()
    patched = client.patch(f"/api/v1/practices/{created['id']}", json={field: value},
                           headers=auth(token, **{"If-Match": f'"{created["version"]}"'}))
    assert field in assert_error(patched, 400, "validation_error")["fields"]
    assert count_practices(app) == 1


@pytest.mark.parametrize("field, literal", [
    ("participants", HUGE), ("households", "-" + HUGE), ("name", HUGE),
    ("commune_code", HUGE), ("kind", HUGE), ("founded_on", HUGE),
    ("outcomes", f'[{{"period": "2024", "tips_reported": {HUGE}}}]'),
    ("outcomes", f'[{{"period": {HUGE}}}]'),
])
def test_integer_of_thousands_of_digits_is_a_field_error(app, client, token_for, field,
                                                         literal):
    body = json.dumps({k: v for k, v in VALID.items() if k != field})
    body = body[:-1] + f', "{field}": {literal}}}'
    response = client.post("/api/v1/practices", data=body,
                           headers=auth(token_for(), **{"Content-Type": "application/json"}))
    error = assert_error(response, 400, "validation_error")
    assert any(key.split("[")[0] == field for key in error["fields"]), error
    assert len(response.get_data()) < 2000  # the number is not echoed back
    assert count_practices(app) == 0


@pytest.mark.parametrize("field, item, limit_ok", [
    ("core_members", {"name": "Nguyễn Văn An"}, True),
    ("outcomes", None, True),
    ("domains", "pc-toi-pham", True),
    ("forms", "tu-quan", True),
    ("target_groups", "ho-gia-dinh", True),
])
def test_lists_longer_than_the_declared_limit_are_refused(app, client, token_for, field, item,
                                                          limit_ok):
    from registry.domain.fields import MAX_ITEMS
    limit = MAX_ITEMS[field]

    def items(n):
        if field == "outcomes":
            return [{"period": f"{1990 + i // 2}-H{1 + i % 2}"} for i in range(n)]
        return [item] * n

    token = token_for()
    error = assert_error(post(client, token, _with(**{field: items(limit + 1)})), 400,
                         "validation_error")
    assert list(error["fields"]) == [field] and str(limit) in error["fields"][field]
    error = assert_error(post(client, token, _with(**{field: items(10_000)})), 400)
    assert list(error["fields"]) == [field]
    assert count_practices(app) == 0
    accepted = post(client, token, _with(**{field: items(limit)}))
    assert accepted.status_code == 201, accepted.get_data(as_text=True)
