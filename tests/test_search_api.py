"""GET /api/v1/practices: parameters, 400s naming what is wrong, the response, no personal data."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from registry.extensions import db


@pytest.fixture
def practices(make_practice):
    make_practice(name="Xóm đạo bình yên Giáo xứ Phú Nhai", kind="xom-dao-binh-yen",
                  domains=["pc-ma-tuy"], forms=["tu-quan"], commune_code="00070",
                  summary="Giữ gìn an ninh, trật tự khu dân cư",
                  core_members=[{"name": "Lò Văn Thắng", "phone": "0911222333"}])
    make_practice(name="Tổ hòa giải Thôn Đông", kind="to-hoa-giai", domains=["pc-toi-pham"],
                  forms=["tu-hoa-giai"], commune_code="00004")
    make_practice(name="Bản nháp", status="draft")


def test_search_response_shape(client, practices):
    response = client.get("/api/v1/practices?q=xom+dao&domain=pc-ma-tuy&per_page=5")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"total", "page", "per_page", "hits", "facets"}
    assert (body["total"], body["page"], body["per_page"]) == (1, 1, 5)
    hit = body["hits"][0]
    assert hit["name"] == "Xóm đạo bình yên Giáo xứ Phú Nhai"
    assert hit["kind"]["code"] == "xom-dao-binh-yen"
    assert hit["province"] == {"code": "01", "name": "Thành phố Hà Nội"}
    assert hit["commune"]["code"] == "00070" and hit["status"]["code"] == "registered"
    assert "<mark>Xóm</mark>" in hit["highlight"]["name"]
    assert set(body["facets"]) == {"province", "commune", "kind", "domain", "form",
                                   "target_group", "setting", "lead_organisation", "status",
                                   "recognition", "founded_year", "has_replications",
                                   "activity"}
    domain = {v["value"]: v for v in body["facets"]["domain"]}
    assert domain["pc-ma-tuy"] == {"value": "pc-ma-tuy", "label": "phòng, chống ma túy",
                                   "count": 1, "selected": True}


def test_repeatable_parameters_combine_with_or(client, practices):
    body = client.get("/api/v1/practices?domain=pc-ma-tuy&domain=pc-toi-pham").get_json()
    assert body["total"] == 2
    body = client.get("/api/v1/practices?domain=pc-ma-tuy&form=tu-hoa-giai").get_json()
    assert body["total"] == 0


def test_english_labels(client, practices):
    body = client.get("/api/v1/practices?lang=en").get_json()
    status = {v["value"]: v["label"] for v in body["facets"]["status"]}
    assert status == {"registered": "Registered"}


@pytest.mark.parametrize("query, field", [
    ("colour=red", "colour"),
    ("province=99", "province"),
    ("commune=1", "commune"),
    ("domain=khong-co", "domain"),
    ("kind=tu-quan", "kind"),  # a form code is not a kind
    ("status=published", "status"),
    ("recognition=world", "recognition"),
    ("has_replications=maybe", "has_replications"),
    ("founded_from=abc", "founded_from"),
    ("founded_from=2021&founded_to=2020", "founded_to"),
    ("founded_to=99999", "founded_to"),
    ("sort=random", "sort"),
    ("page=0", "page"),
    ("page=-1", "page"),
    ("per_page=101", "per_page"),
    ("per_page=x", "per_page"),
    ("lang=fr", "lang"),
])
def test_bad_parameters_are_400_naming_them(client, practices, query, field):
    response = client.get("/api/v1/practices?" + query)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_parameters"
    assert field in error["fields"] and field in error["message"]
    assert error["fields"][field]  # a Vietnamese explanation


def test_several_bad_parameters_are_all_named(client, practices):
    error = client.get("/api/v1/practices?x=1&y=2&sort=z").get_json()["error"]
    assert set(error["fields"]) == {"x", "y", "sort"}


@pytest.mark.parametrize("q", ['"', 'a "b', "NOT", "-*", "x" * 4_000, "\x00\x07",
                               "'; DROP TABLE practice; --", "%27%22", "hòa\u0000"])
def test_hostile_text_is_answered(client, practices, q):
    response = client.get("/api/v1/practices", query_string={"q": q})
    assert response.status_code == 200
    assert response.get_json()["total"] >= 0


def test_text_past_the_url_limit_is_json_414(client, practices):
    """Longer than registry.api.errors.MAX_URL_BYTES (4096, docs/api.md): 414 with the JSON
    error body, before any search."""
    response = client.get("/api/v1/practices", query_string={"q": "x" * 10_000})
    assert response.status_code == 414
    assert response.get_json()["error"]["code"] == "uri_too_long"


def test_no_personal_data_in_the_answer(client, practices):
    for q in ("", "Lò Văn Thắng", "0911222333", "thang"):
        raw = client.get("/api/v1/practices", query_string={"q": q}).get_data(as_text=True)
        assert "Thắng" not in json.loads(raw).__repr__()
        assert "0911222333" not in raw


def test_drafts_are_not_public(client, practices):
    body = client.get("/api/v1/practices?status=draft").get_json()
    assert body["total"] == 0
    assert {v["value"]: v["count"] for v in body["facets"]["status"]} == {
        "draft": 0, "registered": 2}


def test_a_bad_token_is_401(client, practices):
    response = client.get("/api/v1/practices", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_paging(client, make_practice):
    for i in range(7):
        make_practice(name=f"Tổ tự quản {i}")
    first = client.get("/api/v1/practices?sort=name&per_page=5").get_json()
    second = client.get("/api/v1/practices?sort=name&per_page=5&page=2").get_json()
    assert first["total"] == second["total"] == 7
    assert len(first["hits"]) == 5 and len(second["hits"]) == 2
    assert {h["id"] for h in first["hits"]}.isdisjoint({h["id"] for h in second["hits"]})


def test_reindex_repairs_the_text_tables(app, client, runner, practices):
    with app.app_context():
        db.session.execute(text("DELETE FROM practice_text"))
        db.session.commit()
    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0, result.output
    assert "3 mô hình" in result.output
    with app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM practice_text")).scalar() == 3
    assert client.get("/api/v1/practices?q=hoa+giai").get_json()["total"] == 1


def test_json_is_utf8_in_the_documented_key_order(client, make_practice):
    make_practice(name="Xóm đạo bình yên Giáo xứ Phú Nhai")
    response = client.get("/api/v1/practices?q=xom+dao")
    body = response.get_data(as_text=True)
    assert "Xóm đạo bình yên" in body and "\\u" not in body
    assert list(response.json) == ["total", "page", "per_page", "hits", "facets"]


def test_page_and_api_answer_an_empty_query_alike(client, make_practice):
    """One search service: without words both list the catalogue in Vietnamese A–Z order,
    whatever order was asked, with the same default page size."""
    for name in ("Đường hoa", "Ấp an toàn", "Dòng tộc", "Bản yên vui", "Xóm đạo"):
        make_practice(name=name)
    expected = ["Ấp an toàn", "Bản yên vui", "Dòng tộc", "Đường hoa", "Xóm đạo"]
    for query in ("", "?sort=relevance"):
        api = client.get("/api/v1/practices" + query).get_json()
        assert [hit["name"] for hit in api["hits"]] == expected
        assert api["per_page"] == 20
        html = client.get("/practices" + query).get_data(as_text=True)
        positions = [html.index(name) for name in expected]
        assert positions == sorted(positions)
