"""What every search backend must do, on SQLite and PostgreSQL (tests/search_backends.py)."""
from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text, update

from registry.extensions import db
from registry.models.accounts import Grant, User
from registry.models.practices import Practice
from registry.search.base import FACETS, SearchRequest
from tests.search_backends import BACKENDS


@pytest.fixture(params=[b[0] for b in BACKENDS])
def search_backend(request, app):
    name, factory, skip_reason = next(b for b in BACKENDS if b[0] == request.param)
    if skip_reason:
        pytest.skip(skip_reason)
    return factory(app)


@pytest.fixture
def make_practice(make_practice):
    """The shared factory with a kind whose label has none of the words searched here."""
    def make(**fields):
        fields.setdefault("kind", "nong-dan-voi-phap-luat")
        return make_practice(**fields)
    return make


@pytest.fixture
def search(app, search_backend):
    """search(q=..., filters=..., viewer_email=..., **fields) -> SearchResult."""
    def run(viewer_email=None, **fields):
        with app.app_context():
            viewer = None
            if viewer_email:
                viewer = db.session.scalar(select(User).where(User.email == viewer_email))
            result = search_backend.search(SearchRequest(viewer=viewer, **fields))
            db.session.rollback()
            return result
    return run


def names(app, result) -> list[str]:
    with app.app_context():
        by_id = dict(db.session.execute(select(Practice.id, Practice.name)).all())
    return [by_id[h.practice_id] for h in result.hits]


def found(app, search, q, **fields) -> set[str]:
    return set(names(app, search(q=q, per_page=100, **fields)))


def make_user(app, email, *grants):
    with app.app_context():
        user = User(email=email, name=email)
        user.grants = [Grant(role=role, unit=unit) for role, unit in grants]
        db.session.add(user)
        db.session.commit()


# --- text -------------------------------------------------------------------------------------

def test_without_diacritics_matches_folded_words_and_d_for_dj(app, search, make_practice):
    make_practice(name="Xóm đạo bình yên Giáo xứ Phú Nhai")
    make_practice(name="Đội dân phòng Thôn Đông")
    assert found(app, search, "xom dao binh yen") == {"Xóm đạo bình yên Giáo xứ Phú Nhai"}
    assert found(app, search, "doi dan phong") == {"Đội dân phòng Thôn Đông"}
    assert found(app, search, "XÓM ĐẠO") == {"Xóm đạo bình yên Giáo xứ Phú Nhai"}


def test_with_diacritics_is_precise(app, search, make_practice):
    make_practice(name="Tổ tự quản Thôn Đoài")
    make_practice(name="Đội tư quân Xóm 3")
    assert found(app, search, "tự quản") == {"Tổ tự quản Thôn Đoài"}
    assert found(app, search, "tư quân") == {"Đội tư quân Xóm 3"}
    assert found(app, search, "tu quan") == {"Tổ tự quản Thôn Đoài", "Đội tư quân Xóm 3"}


def test_old_and_new_tone_placement_and_nfd_are_one_spelling(app, search, make_practice):
    make_practice(name="Tổ hoà giải Thôn Thượng")  # old style in the data
    make_practice(name="Tổ hòa giải Thôn Hạ")
    both = {"Tổ hoà giải Thôn Thượng", "Tổ hòa giải Thôn Hạ"}
    assert found(app, search, "hòa giải") == both
    assert found(app, search, "hoà giải") == both
    assert found(app, search, unicodedata.normalize("NFD", "hòa giải")) == both


def test_every_term_must_match(app, search, make_practice):
    make_practice(name="Camera an ninh Thôn Đông")
    make_practice(name="Camera giám sát giao thông")
    assert found(app, search, "camera an ninh") == {"Camera an ninh Thôn Đông"}


def test_searches_body_fields_not_only_the_name(app, search, make_practice):
    make_practice(name="Mô hình A", description="### Hoạt động\n\n- Lắp **camera** ở ngã ba",
                  outcomes=[{"period": "2024-H1", "narrative": "Hòa giải thành công vụ việc"}])
    make_practice(name="Mô hình B", hamlet="Bản Pác Ngòi", lead_organisation="hoi-ccb")
    assert found(app, search, "camera") == {"Mô hình A"}
    assert found(app, search, "hoa giai thanh cong") == {"Mô hình A"}
    assert found(app, search, "pac ngoi") == {"Mô hình B"}
    assert found(app, search, "cựu chiến binh") == {"Mô hình B"}


def test_abbreviations_expand(app, search, make_practice):
    make_practice(name="Tổ giữ gìn an ninh, trật tự Thôn Nam")
    make_practice(name="Mô hình bảo đảm trật tự, an toàn giao thông")
    make_practice(name="Nhóm ANTT Xóm 2")
    assert found(app, search, "ANTT") == {"Tổ giữ gìn an ninh, trật tự Thôn Nam",
                                          "Nhóm ANTT Xóm 2"}
    assert found(app, search, "ttatgt") == {"Mô hình bảo đảm trật tự, an toàn giao thông"}


def test_last_term_is_a_prefix_while_typing(app, search, make_practice):
    make_practice(name="Camera an ninh Thôn Đông")
    assert found(app, search, "camer") == {"Camera an ninh Thôn Đông"}
    assert found(app, search, "an nin") == {"Camera an ninh Thôn Đông"}
    assert found(app, search, "camer ") == set()
    assert found(app, search, "nin an") == set()


def test_quoted_phrase(app, search, make_practice):
    make_practice(name="Xóm đạo bình yên Giáo họ Thánh Tâm")
    make_practice(name="Bình yên xóm đạo Giáo xứ Bùi Chu")
    assert found(app, search, '"xom dao binh yen"') == {"Xóm đạo bình yên Giáo họ Thánh Tâm"}
    assert found(app, search, '"xóm đạo bình yên"') == {"Xóm đạo bình yên Giáo họ Thánh Tâm"}
    assert len(found(app, search, "xom dao binh yen")) == 2


def test_name_matches_rank_first_then_exact_spellings(app, search, make_practice):
    body = make_practice(name="Mô hình một", summary="Tổ hòa giải ở thôn")
    prefix_only = make_practice(name="Hòa giải viên giỏi")
    exact = make_practice(name="Tổ hòa giải Thôn Đông")
    result = search(q="hòa giả", sort="relevance")
    assert [h.practice_id for h in result.hits] == [prefix_only, exact, body]
    result = search(q="hòa giải", sort="relevance")
    assert [h.practice_id for h in result.hits] == [prefix_only, exact, body]


HOSTILE = ['"', '"""', 'a "b', '"a" "b', "AND", "OR NOT", "-", "*", "a*", "NEAR(a b)",
           "tu* -quan OR", "(", ")", "{name_exact} : x", "x:y", "'", "\\", "%", "_",
           "\x00\x01\x1f", "a\x00b", "x" * 10_000, "hòa " * 3_000, "🙂", "\u0301",
           "'; DROP TABLE practice; --", "<script>alert(1)</script>", "^", "+a", "a:*",
           "a & b | !c", "<->", "a <-> b"]


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_text_never_fails(search, make_practice, q):
    make_practice(name="Tổ tự quản Thôn Đông")
    result = search(q=q)
    assert result.total >= 0


def test_highlights_are_escaped_and_marked(app, search, make_practice):
    make_practice(name="Tổ <b>tự quản</b> Thôn Đông",
                  summary="Tổ tự quản & <script>x</script> giữ gìn trật tự")
    hit = search(q="tu quan").hits[0]
    assert "<mark>tự</mark>" in hit.name_html and "<mark>quản</mark>" in hit.name_html
    assert "&lt;b&gt;" in hit.name_html and "<b>" not in hit.name_html
    assert "<script>" not in hit.snippet_html and "<mark>tự</mark>" in hit.snippet_html


# --- personal data --------------------------------------------------------------------------

def test_core_members_are_not_searchable(app, search, make_practice):
    make_practice(name="Tổ tự quản Thôn Đông",
                  core_members=[{"name": "Trịnh Thị Nhung", "phone": "0987654321"}])
    assert search(q="Nhung").total == 0
    assert search(q="Trịnh Thị").total == 0
    assert search(q="0987654321").total == 0
    with app.app_context():
        stored = " ".join(" ".join(r) for r in db.session.execute(text(
            "SELECT name_exact, name_folded, body_exact, body_folded FROM practice_text")))
    assert "nhung" not in stored and "0987654321" not in stored and "tự" in stored


# --- facets ---------------------------------------------------------------------------------

def facet(result, name) -> dict[str, tuple[int, bool]]:
    return {v.value: (v.count, v.selected) for v in result.facets[name]}


def test_or_within_a_facet_and_across_facets(app, search, make_practice):
    make_practice(name="A", domains=["pc-ma-tuy"], forms=["tu-quan"])
    make_practice(name="B", domains=["pc-toi-pham"], forms=["tu-quan"])
    make_practice(name="C", domains=["pc-toi-pham"], forms=["tu-phong"])
    make_practice(name="D", domains=["pc-ma-tuy", "pc-toi-pham"], forms=["tu-phong"])
    r = search(filters={"domain": ["pc-ma-tuy", "pc-toi-pham"]})
    assert r.total == 4
    r = search(filters={"domain": ["pc-ma-tuy"], "form": ["tu-quan"]}, per_page=100)
    assert set(names(app, r)) == {"A"}
    # Each facet ignores its own selection: the domain counts are within form tu-quan.
    assert facet(r, "domain") == {"pc-ma-tuy": (1, True), "pc-toi-pham": (1, False)}
    assert facet(r, "form") == {"tu-quan": (1, False), "tu-phong": (1, False)} | \
        {"tu-quan": (1, True)}


def test_selected_values_stay_listed_with_zero(app, search, make_practice):
    make_practice(name="A", domains=["pc-ma-tuy"], forms=["tu-quan"])
    r = search(filters={"domain": ["pc-ma-tuy"], "form": ["tu-phong"]})
    assert r.total == 0
    assert facet(r, "form")["tu-phong"] == (0, True)
    assert facet(r, "domain")["pc-ma-tuy"] == (0, True)


def test_communes_are_offered_within_selected_provinces(app, search, make_practice):
    make_practice(name="A", commune_code="00070")  # Hà Nội
    make_practice(name="B", commune_code="00070")
    with app.app_context():
        other = db.session.execute(text(
            "SELECT code, province_code FROM commune WHERE province_code <> '01' "
            "ORDER BY code LIMIT 1")).one()
    make_practice(name="C", commune_code=other[0])
    r = search()
    assert r.facets["commune"] == []
    assert facet(r, "province") == {"01": (2, False), other[1]: (1, False)}
    r = search(filters={"province": ["01"]})
    assert facet(r, "commune") == {"00070": (2, False)}
    assert facet(r, "province") == {"01": (2, True), other[1]: (1, False)}
    r = search(filters={"commune": [other[0]]})
    assert facet(r, "commune") == {other[0]: (1, True)}
    r = search(filters={"province": ["01"], "commune": [other[0]]})
    assert r.total == 0 and facet(r, "commune")[other[0]] == (0, True)


def test_year_range_and_replications(app, search, make_practice):
    source = make_practice(name="Gốc", founded_on=date(2015, 5, 1))
    make_practice(name="Bản sao", founded_on=date(2021, 3, 1), replicated_from_id=source)
    make_practice(name="Khác", founded_on=date(2021, 9, 1))
    r = search(founded_from=2020)
    assert r.total == 2
    assert facet(r, "founded_year") == {"2021": (2, True), "2015": (1, False)}
    r = search(filters={"has_replications": ["yes"]})
    assert set(names(app, r)) == {"Gốc"}
    assert facet(r, "has_replications") == {"yes": (1, True), "no": (2, False)}
    ordered = names(app, search(sort="replicated"))
    assert ordered[0] == "Gốc"


def test_labels_follow_the_locale(app, search, make_practice):
    make_practice(name="A", forms=["tu-quan"])
    vi = {v.value: v.label for v in search().facets["form"]}
    en = {v.value: v.label for v in search(locale="en").facets["form"]}
    assert vi["tu-quan"] == "tự quản" and en["tu-quan"] != "tự quản"
    assert {v.label for v in search().facets["status"]} == {"Đã đăng ký"}


ATTRIBUTES = {
    "commune_code": ["00070", "00004", "25747"],
    "domains": [["pc-ma-tuy"], ["pc-toi-pham"], ["pc-ma-tuy", "trat-tu-atgt"], []],
    "forms": [["tu-quan"], ["tu-phong", "tu-bao-ve"], ["tu-hoa-giai"]],
    "setting": [None, "nong-thon", "do-thi"],
    "status": ["registered", "approved", "draft", "nominated"],
    "recognition_level": ["none", "province"],
    "founded_on": [date(2018, 1, 1), date(2021, 6, 1), None],
}
FILTER_FIELDS = {"province": "province", "commune": "commune_code", "domain": "domains",
                 "form": "forms", "setting": "setting", "status": "status",
                 "recognition": "recognition_level"}


THIS_YEAR = date.today().year


def test_facet_counts_equal_counts_computed_independently(app, search, make_practice):
    import random
    rng = random.Random(7)
    for i in range(30):
        fields = {k: rng.choice(v) for k, v in ATTRIBUTES.items()}
        fields["name"] = rng.choice(["Tổ tự quản", "Tổ hòa giải", "Camera an ninh"]) + f" {i}"
        # Some report only long ago: "possibly inactive" (no report for 18 months).
        fields["outcomes"] = rng.choice([[], [{"period": "2019-H1"}],
                                         [{"period": "2019"}, {"period": f"{THIS_YEAR}-H1"}]])
        make_practice(**fields)
    with app.app_context():
        rows = []
        for p in db.session.scalars(select(Practice)):
            rows.append({
                "name": p.name, "status": [p.status], "province": [p.province_code],
                "commune": [p.commune_code], "domain": [t.code for t in p.domains],
                "form": [t.code for t in p.forms], "recognition": [p.recognition_level],
                "setting": [p.setting.code] if p.setting else [],
                "kind": [p.kind.code],
                "lead_organisation": [p.lead_organisation.code] if p.lead_organisation else [],
                "target_group": [t.code for t in p.target_groups],
                "founded_year": [str(p.founded_on.year)] if p.founded_on else [],
                "has_replications": ["no"],
                "activity": ["active" if not p.outcomes or any(
                    o.period.startswith(str(THIS_YEAR)) for o in p.outcomes)
                    else "possibly_inactive"]})
    public = [r for r in rows if r["status"][0] in ("registered", "nominated", "approved")]
    province_of = {r["commune"][0]: r["province"][0] for r in rows}
    values = {"province": ["01", "79"], "commune": ["00070", "25747"],
              "domain": ["pc-ma-tuy", "pc-toi-pham", "trat-tu-atgt"],
              "form": ["tu-quan", "tu-phong", "tu-bao-ve", "tu-hoa-giai"],
              "setting": ["nong-thon", "do-thi"], "status": ["registered", "approved", "draft"],
              "recognition": ["none", "province"]}
    selection = st.fixed_dictionaries({}, optional={
        name: st.lists(st.sampled_from(options), min_size=1, max_size=3, unique=True)
        for name, options in values.items()})

    @settings(max_examples=25, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(selection, st.sampled_from(["", "tu quan", "hòa", "camera an"]),
           st.sampled_from([None, 2019]))
    def check(filters, q, founded_from):
        result = search(q=q, filters=filters, founded_from=founded_from)
        words = {"": None, "tu quan": "Tổ tự quản", "hòa": "Tổ hòa giải",
                 "camera an": "Camera an ninh"}[q]

        def keep(row, ignore=None):
            if words and not row["name"].startswith(words):
                return False
            if ignore != "founded_year" and founded_from is not None and not any(
                    int(y) >= founded_from for y in row["founded_year"]):
                return False
            return all(set(row[f]) & set(v) for f, v in filters.items() if f != ignore)

        assert result.total == sum(1 for r in public if keep(r))
        for f in FACETS:
            expected = {}
            for row in public:
                if keep(row, ignore=f.name):
                    for value in row[f.name]:
                        expected[value] = expected.get(value, 0) + 1
            got = {v.value: v.count for v in result.facets[f.name]}
            if f.name == "commune":  # offered within the selected provinces only
                expected = {c: n for c, n in expected.items()
                            if province_of[c] in filters.get("province", [])
                            or c in filters.get("commune", [])}
            for value in filters.get(f.name, []):
                expected.setdefault(value, 0)
            assert got == expected, (f.name, filters, q, founded_from)
            for value in filters.get(f.name, []):
                assert value in got
    check()


# --- visibility -------------------------------------------------------------------------------

def test_drafts_visible_only_to_those_entitled(app, search, make_practice):
    make_practice(name="Công khai", commune_code="00070")
    make_practice(name="Nháp ở 00070", commune_code="00070", status="draft")
    make_practice(name="Nháp ở 00004", commune_code="00004", status="submitted")
    make_user(app, "officer@x.vn", ("officer", "00070"))
    make_user(app, "committee@x.vn", ("committee", "01"))
    make_user(app, "trainer@x.vn", ("trainer", "national"))
    make_user(app, "admin@x.vn", ("admin", "national"))
    assert found(app, search, "") == {"Công khai"}
    assert found(app, search, "", viewer_email="trainer@x.vn") == {"Công khai"}
    assert found(app, search, "", viewer_email="officer@x.vn") == {"Công khai", "Nháp ở 00070"}
    everything = {"Công khai", "Nháp ở 00070", "Nháp ở 00004"}
    assert found(app, search, "", viewer_email="committee@x.vn") == everything  # both in 01
    assert found(app, search, "", viewer_email="admin@x.vn") == everything
    r = search(viewer_email="officer@x.vn")
    assert facet(r, "status") == {"registered": (1, False), "draft": (1, False)}


def test_visibility_matches_can_view_practice(app, search, make_practice):
    from registry.permissions import can_view_practice
    for status in ("draft", "registered", "archived", "returned"):
        for commune in ("00070", "00004", "25747"):
            make_practice(name=f"{status} {commune}", status=status, commune_code=commune)
    make_user(app, "reviewer@x.vn", ("reviewer", "00004"), ("officer", "25747"))
    r = search(viewer_email="reviewer@x.vn", per_page=100)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "reviewer@x.vn"))
        expected = {p.id for p in db.session.scalars(select(Practice))
                    if can_view_practice(user, p)}
    assert {h.practice_id for h in r.hits} == expected


# --- in step with the database ----------------------------------------------------------------

def test_index_follows_create_update_archive(app, search, make_practice):
    assert search(q="hoa sen").total == 0
    pid = make_practice(name="Tổ tự quản Hoa Sen", domains=["pc-ma-tuy"])
    assert found(app, search, "hoa sen") == {"Tổ tự quản Hoa Sen"}
    assert facet(search(), "domain") == {"pc-ma-tuy": (1, False)}
    with app.app_context():
        practice = db.session.get(Practice, pid)
        practice.name = "Tổ tự quản Bình Minh"
        practice.domains = []
        db.session.commit()
    assert search(q="hoa sen").total == 0
    assert found(app, search, "binh minh") == {"Tổ tự quản Bình Minh"}
    assert search().facets["domain"] == []
    with app.app_context():
        db.session.get(Practice, pid).status = "archived"
        db.session.commit()
    assert search(q="binh minh").total == 0 and search().total == 0
    with app.app_context():
        db.session.delete(db.session.get(Practice, pid))
        db.session.commit()
    assert search(q="binh minh").total == 0


def test_a_write_from_another_process_shows_in_the_next_answer(app, search, make_practice):
    make_practice(name="Tổ tự quản Hoa Sen")
    assert search(q="tu quan").total == 1
    with app.app_context():  # as another worker would: only the database and the change log
        db.session.execute(update(Practice).values(status="draft"))
        from registry.search.changes import record_changes
        record_changes(db.session, list(db.session.scalars(select(Practice.id))))
        db.session.commit()
    assert search(q="tu quan").total == 0


# --- order and pages --------------------------------------------------------------------------

def test_sort_by_name_is_vietnamese_alphabetical(app, search, make_practice):
    for name in ["Đội dân phòng", "Dòng họ tự quản", "Ánh sáng đường quê", "Bản làng bình yên",
                 "Ấp an toàn", "Âm vang", "Ăn ở sạch", "Chợ văn minh", "Êm đềm", "Em bé"]:
        make_practice(name=name)
    assert names(app, search(sort="name")) == [
        "Ánh sáng đường quê", "Ăn ở sạch", "Âm vang", "Ấp an toàn", "Bản làng bình yên",
        "Chợ văn minh", "Dòng họ tự quản", "Đội dân phòng", "Em bé", "Êm đềm"]


@pytest.mark.parametrize("sort", ["relevance", "newest", "name", "replicated"])
def test_paging_is_stable_and_complete(app, search, make_practice, sort):
    for i in range(23):
        make_practice(name=f"Tổ tự quản số {i % 5}")
    pages = [[h.practice_id for h in search(q="tu quan", sort=sort, page=p, per_page=5).hits]
             for p in range(1, 7)]
    flat = [pid for page in pages for pid in page]
    assert len(flat) == 23 == len(set(flat)) and pages[-1] == []
    again = [h.practice_id for h in search(q="tu quan", sort=sort, page=2, per_page=5).hits]
    assert again == pages[1]
    if sort == "newest":
        assert flat == sorted(flat, reverse=True)


def test_a_pruned_change_log_leads_to_a_rebuild(app, search, make_practice):
    first = make_practice(name="Tổ tự quản Hoa Sen")
    second = make_practice(name="Tổ tự quản Bình Minh")
    assert search(q="tu quan").total == 2
    from registry.models.search_log import SearchChange
    from registry.search.changes import record_changes
    with app.app_context():
        db.session.execute(update(Practice).where(Practice.id == first).values(status="draft"))
        record_changes(db.session, [first])
        db.session.commit()
        db.session.execute(SearchChange.__table__.delete())  # e.g. a maintenance job
        record_changes(db.session, [second])
        db.session.commit()
    assert found(app, search, "tu quan") == {"Tổ tự quản Bình Minh"}


def test_a_very_long_description_is_saved_and_searchable(app, search, make_practice):
    # 150,000 distinct words: a PostgreSQL tsvector of all of them would pass 1 MB.
    words = " ".join(f"từ{i} camera" for i in range(150_000))
    make_practice(name="Mô hình dài", description=words + " cuốicùng")
    assert found(app, search, "camera") == {"Mô hình dài"}


def test_typed_words_side_by_side_rank_before_scattered_ones(app, search, make_practice):
    scattered = make_practice(name="Mô hình một",
                              summary="Phối hợp giáo dục học sinh và thông tin kịp thời")
    adjacent = make_practice(name="Mô hình hai",
                             summary="Tuyên truyền về trật tự, an toàn giao thông")
    in_name = make_practice(name="Đoạn đường tự quản giao thông", summary="Tuần tra")
    result = search(q="giao thong", sort="relevance")
    assert [h.practice_id for h in result.hits] == [in_name, adjacent, scattered]
