"""The search page at /practices: facets in the URL, counts, hierarchy, errors, personal data."""
from __future__ import annotations

from datetime import date
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

FRAGMENT = {"X-Search-Fragment": "1"}


class SearchPageParser(HTMLParser):
    """Collects facet checkboxes (value, checked, label, count), result titles and links."""

    def __init__(self):
        super().__init__()
        self.facets: dict[str, list[dict]] = {}
        self.titles: list[str] = []
        self.links: list[tuple[str, str]] = []  # (href, text)
        self._facet = None
        self._span = None
        self._in_title = False
        self._link = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "fieldset" and a.get("id", "").startswith("facet-"):
            self._facet = a["id"][len("facet-"):]
            self.facets[self._facet] = []
        elif tag == "input" and a.get("type") == "checkbox" and self._facet:
            self.facets[self._facet].append(
                {"value": a["value"], "checked": "checked" in a, "label": "", "count": None})
        elif tag == "span" and a.get("class") in ("facet-label", "facet-count"):
            self._span = a["class"]
        elif tag == "article":
            self._in_title = "pending"
        elif tag == "a" and self._in_title == "pending":
            self._in_title = True
            self.titles.append("")
        elif tag == "a":
            self._link = [a.get("href", ""), ""]

    def handle_endtag(self, tag):
        if tag == "fieldset":
            self._facet = None
        elif tag == "span":
            self._span = None
        elif tag == "a" and self._in_title is True:
            self._in_title = False
        elif tag == "a" and self._link:
            self.links.append((self._link[0], self._link[1].strip()))
            self._link = None

    def handle_data(self, data):
        if self._span and self._facet and self.facets[self._facet]:
            value = self.facets[self._facet][-1]
            if self._span == "facet-label":
                value["label"] += data
            else:
                value["count"] = int(data)
        if self._in_title is True:
            self.titles[-1] += data
        if self._link:
            self._link[1] += data


def parse(response) -> SearchPageParser:
    parser = SearchPageParser()
    parser.feed(response.get_data(as_text=True))
    return parser


def facet(page: SearchPageParser, name: str) -> dict[str, dict]:
    return {v["value"]: v for v in page.facets[name]}


@pytest.fixture
def catalogue(make_practice):
    """Three models in two provinces (Hà Nội 01, Cao Bằng 04), and one draft."""
    return {
        "hoan_kiem": make_practice(name="Tổ hòa giải Hoàn Kiếm", commune_code="00070",
                                   domains=["hoa-giai-co-so"], kind="to-hoa-giai",
                                   founded_on=date(2015, 5, 1)),
        "cua_nam": make_practice(name="Camera an ninh Cửa Nam", commune_code="00073",
                                 domains=["antt-khu-dan-cu", "pc-toi-pham"],
                                 kind="camera-an-ninh", founded_on=date(2021, 3, 1)),
        "thuc_phan": make_practice(name="Xóm đạo bình yên Thục Phán", commune_code="01273",
                                   domains=["pc-toi-pham"], kind="xom-dao-binh-yen",
                                   founded_on=date(2023, 9, 1)),
        "draft": make_practice(name="Bản nháp chưa gửi", status="draft",
                               domains=["pc-toi-pham"]),
    }


def test_page_lists_models_with_facets_and_counts(client, catalogue):
    response = client.get("/practices")
    assert response.status_code == 200
    page = parse(response)
    assert sorted(page.titles) == sorted(["Tổ hòa giải Hoàn Kiếm", "Camera an ninh Cửa Nam",
                                          "Xóm đạo bình yên Thục Phán"])
    provinces = facet(page, "province")
    assert provinces["01"]["count"] == 2 and provinces["04"]["count"] == 1
    assert "Hà Nội" in provinces["01"]["label"]
    domains = facet(page, "domain")
    assert domains["pc-toi-pham"]["count"] == 2  # the draft is not counted
    assert domains["hoa-giai-co-so"]["count"] == 1
    assert not any(v["checked"] for values in page.facets.values() for v in values)
    html = response.get_data(as_text=True)
    assert "3 mô hình" in html and "Bộ lọc" in html and "Liên quan nhất" in html


def test_facet_values_in_url_filter_with_or_within_and_across(client, catalogue):
    page = parse(client.get("/practices?domain=pc-toi-pham"))
    assert sorted(page.titles) == ["Camera an ninh Cửa Nam", "Xóm đạo bình yên Thục Phán"]
    assert facet(page, "domain")["pc-toi-pham"]["checked"]

    page = parse(client.get("/practices?domain=hoa-giai-co-so&domain=pc-toi-pham"))
    assert len(page.titles) == 3  # OR within a facet

    page = parse(client.get("/practices?domain=pc-toi-pham&province=01"))
    assert page.titles == ["Camera an ninh Cửa Nam"]  # AND across facets
    # Each facet's counts ignore its own selection: Cao Bằng still offers its one model.
    assert facet(page, "province")["04"]["count"] == 1
    assert facet(page, "province")["01"]["checked"]
    # ... and apply the others': within Hà Nội one model has hòa giải.
    assert facet(page, "domain")["hoa-giai-co-so"]["count"] == 1


def test_selected_value_with_no_result_stays_listed(client, catalogue):
    response = client.get("/practices?domain=pccc")
    page = parse(response)
    fire = facet(page, "domain")["pccc"]
    assert fire["checked"] and fire["count"] == 0
    assert "phòng cháy" in fire["label"].lower()
    assert page.titles == []
    assert "Không tìm thấy mô hình nào phù hợp." in response.get_data(as_text=True)


def test_communes_offered_only_within_selected_provinces(client, catalogue):
    assert "commune" not in parse(client.get("/practices")).facets
    page = parse(client.get("/practices?province=01"))
    communes = facet(page, "commune")
    assert set(communes) == {"00070", "00073"}
    assert "Hoàn Kiếm" in communes["00070"]["label"]
    page = parse(client.get("/practices?province=01&province=04&commune=01273"))
    assert set(facet(page, "commune")) == {"00070", "00073", "01273"}
    assert page.titles == ["Xóm đạo bình yên Thục Phán"]


def test_year_range_and_remove_links(client, catalogue):
    response = client.get("/practices?founded_from=2020&domain=pc-toi-pham&domain=antt-khu-dan-cu")
    page = parse(response)
    assert sorted(page.titles) == ["Camera an ninh Cửa Nam", "Xóm đạo bình yên Thục Phán"]
    html = response.get_data(as_text=True)
    assert 'value="2020"' in html
    removals = {text: href for href, text in page.links if "Xóa bộ lọc" in text}
    assert len(removals) == 3
    # Each link removes exactly its own value and keeps the rest of the state.
    for text, href in removals.items():
        state = parse_qs(urlsplit(href).query)
        if "2020" in text:
            assert "founded_from" not in state and len(state["domain"]) == 2
        elif "phòng, chống tội phạm" in text:
            assert state["domain"] == ["antt-khu-dan-cu"] and state["founded_from"] == ["2020"]
    assert "Xóa tất cả bộ lọc" in html


def test_long_facet_shows_top_values_and_expands_with_a_link(client, make_practice):
    kinds = ["tu-phong-tu-quan-tu-bao-ve", "cum-lien-ket-an-toan", "chi-doan-khong-toi-pham",
             "con-em-khong-pham-toi", "nong-dan-voi-phap-luat", "xom-dao-binh-yen",
             "dong-toc-khong-toi-pham", "to-cong-nhan-tu-quan", "khu-noi-tru-an-toan",
             "camera-an-ninh"]
    for kind in kinds:
        make_practice(kind=kind)
    page = parse(client.get("/practices?kind=camera-an-ninh"))
    shown = facet(page, "kind")
    assert len(shown) in (8, 9)  # the top 8, plus the selected value if it is not among them
    assert "camera-an-ninh" in shown and shown["camera-an-ninh"]["checked"]
    more = [href for href, text in page.links if text.startswith("Xem thêm")]
    assert len(more) == 1
    state = parse_qs(urlsplit(more[0]).query)
    assert state["more"] == ["kind"] and state["kind"] == ["camera-an-ninh"]
    expanded = parse(client.get(more[0]))
    assert set(facet(expanded, "kind")) == set(kinds)
    assert not [href for href, text in expanded.links if text.startswith("Xem thêm")]


def test_sort_and_paging_keep_the_state(client, make_practice, app):
    app.config["REGISTRY_PER_PAGE"] = 2
    try:
        for name in ("Đội dân phòng", "Dòng họ tự quản", "An toàn giao thông", "Bản bình yên"):
            make_practice(name=name, domains=["trat-tu-atgt"])
        first = client.get("/practices?sort=name&domain=trat-tu-atgt")
        html = first.get_data(as_text=True)
        assert parse(first).titles == ["An toàn giao thông", "Bản bình yên"]
        assert '<option value="name" selected>Tên (A–Z)</option>' in html
        assert "Trang 1 / 2" in html
        following = [href for href, text in parse(first).links if "Trang sau" in text]
        state = parse_qs(urlsplit(following[0]).query)
        assert state == {"sort": ["name"], "domain": ["trat-tu-atgt"], "page": ["2"]}
        second = parse(client.get(following[0]))
        assert second.titles == ["Dòng họ tự quản", "Đội dân phòng"]  # Đ after D
    finally:
        app.config["REGISTRY_PER_PAGE"] = 20


def test_text_search_highlights_matches(client, catalogue):
    response = client.get("/practices?q=xom dao")
    page = parse(response)
    assert page.titles == ["Xóm đạo bình yên Thục Phán"]
    assert "<mark>" in response.get_data(as_text=True)


@pytest.mark.parametrize("query, field", [
    ("sort=bogus", "sort"),
    ("province=99", "province"),
    ("domain=khong-co", "domain"),
    ("founded_from=abc", "founded_from"),
    ("founded_from=2020&founded_to=2010", "founded_to"),
    ("page=0", "page"),
    ("unknown=1", "unknown"),
])
def test_bad_parameters_give_a_friendly_400(client, catalogue, query, field):
    for headers in ({}, FRAGMENT):
        response = client.get(f"/practices?{query}", headers=headers)
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert "Không thể tìm kiếm với các tham số này" in html
        assert f"<code>{field}</code>" in html
        assert "Tổ hòa giải Hoàn Kiếm" not in html


def test_hostile_text_never_breaks_the_page(client, catalogue):
    for q in ('"unbalanced', "a AND OR NOT (", "x" * 600, "tu\x00quan\x07", "*", "'; --"):
        assert client.get("/practices", query_string={"q": q}).status_code == 200


def test_fragment_for_scripts_is_the_region_only(client, catalogue):
    response = client.get("/practices?domain=pc-toi-pham", headers=FRAGMENT)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" not in html and 'id="search-form"' not in html
    assert sorted(parse(response).titles) == ["Camera an ninh Cửa Nam",
                                              "Xóm đạo bình yên Thục Phán"]
    assert "X-Search-Fragment" in response.headers["Vary"]
    full = client.get("/practices?domain=pc-toi-pham").get_data(as_text=True)
    assert 'id="search-form"' in full and 'id="search-region"' in full


def test_english_labels(client, catalogue):
    html = client.get("/practices?lang=en").get_data(as_text=True)
    assert "Filters" in html and "Most relevant" in html and "Province" in html
    assert "3 models" in html
    client.get("/practices?lang=vi")


def test_no_personal_data_on_the_page(client, make_practice):
    make_practice(name="Tổ tự quản Thôn Đông",
                  core_members=[{"name": "Nguyễn Thị Hoa Lan", "phone": "0987654321",
                                 "role": "truong-thon"}])
    html = client.get("/practices").get_data(as_text=True)
    assert "Tổ tự quản Thôn Đông" in html
    assert "Nguyễn Thị Hoa Lan" not in html and "0987654321" not in html
    # Searching for a member finds nothing: names and phones are not indexed. (The region is
    # checked, not the whole page, whose search box repeats what was typed.)
    for q in ("Nguyễn Thị Hoa Lan", "0987654321", "Hoa Lan"):
        response = client.get("/practices", query_string={"q": q}, headers=FRAGMENT)
        assert parse(response).titles == []
        region = response.get_data(as_text=True)
        assert "Hoa Lan" not in region and "0987654321" not in region
